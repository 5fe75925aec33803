import { describe, expect, it } from 'vitest';
import { TestRunner } from 'vitest';
import { injected } from './faults.js';

describe('injected', () => {
  // called while the file is collected: no test is running
  const outside = ((): unknown => {
    try {
      injected('signal');
      return undefined;
    } catch (error) {
      return error;
    }
  })();

  it('throws outside a running test', () => {
    expect(outside).toBeInstanceOf(Error);
    expect((outside as Error).message).toBe("injected('signal') called outside a running test");
  });

  it('throws in a test without the faults tag, so no fault goes uncounted by test:faults', () => {
    expect(() => injected('S3 error', 2)).toThrow(
      `test "throws in a test without the faults tag, so no fault goes uncounted by test:faults" injects faults but lacks { tags: ['faults'] }`,
    );
    expect(TestRunner.getCurrentTest()?.meta.faults).toBeUndefined();
  });

  it(
    'adds up the counts by kind on the test, and refuses a count that is not one',
    {
      tags: ['faults'],
    },
    () => {
      const test = TestRunner.getCurrentTest();
      injected('S3 error', 2);
      injected('S3 error');
      injected('kill -9', 0);
      expect(test?.meta.faults).toEqual({ 'S3 error': 3, 'kill -9': 0 });
      expect(() => injected('signal', -1)).toThrow("injected('signal', -1)");
      expect(() => injected('signal', 1.5)).toThrow("injected('signal', 1.5)");
      expect(test?.meta.faults).toEqual({ 'S3 error': 3, 'kill -9': 0 });
      // nothing was injected: keep these counts out of the ledger
      if (test !== undefined) delete test.meta.faults;
    },
  );
});
