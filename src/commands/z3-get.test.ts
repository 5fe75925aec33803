/**
 * `z3_get` on the memory backend. (A reader that stops reading, `z3_get KEY | head -c 10`, is
 * tested on the built CLI: test/integration/output-failures.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { EXIT, UsageError, type Z3Error } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { testPorts } from './testing/ports.js';
import { getToStdout, type GetOptions } from './z3-get.js';

function options(name: string): GetOptions {
  return { name, config: undefined, concurrency: '2', chunkSize: '5M', progress: false };
}

describe('getToStdout', () => {
  it(
    'refuses an empty key as a usage error (exit 2) before any request',
    { tags: ['faults'] },
    async () => {
      injected('bad input');
      const ports = testPorts({ backend: new MemBackend(), zfs: 'zfs' });
      const failure = await getToStdout(options(''), ports).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UsageError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((failure as Error).message).toBe('the key must not be empty');
    },
  );

  it(
    'refuses before any request when MEMORY_LIMIT holds fewer than two ranges (exit 2)',
    { tags: ['faults'] },
    async () => {
      injected('bad input');
      let requests = 0;
      const mem = new MemBackend();
      const counted = Object.assign(Object.create(mem) as MemBackend, {
        stat: () => {
          requests += 1;
          return Promise.resolve(undefined);
        },
      });
      const ports = testPorts({ backend: counted, zfs: 'zfs' });
      const failure = await getToStdout({ ...options('k'), memory: '9M' }, ports).catch(
        (e: unknown) => e,
      );
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((failure as Error).message).toBe(
        'MEMORY_LIMIT 9M holds fewer than 2 parts of 5M: set MEMORY_LIMIT (--memory) to at ' +
          'least 10M or use smaller parts (CHUNK_SIZE)',
      );
      expect(requests).toBe(0);
    },
  );
});
