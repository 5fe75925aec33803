/**
 * The fault ledger of the reliability suite: a test that injects a fault (a dying stage, an S3
 * error (5xx, 403, SlowDown), a reset connection, a signal, kill -9, a closed output, bad input, a concurrent writer,
 * corrupt data) says so here, with how many it injected. The test itself asserts what must hold
 * (no data lost, no wrong object committed, the documented exit code); the ledger only counts, so
 * that `npm test` can print how many faults of each kind were injected and whether every test
 * that injected them passed (test/faults/reporter.ts collects, scripts/fault-ledger.mjs prints).
 *
 * Such a test carries the `faults` tag (`npm run test:faults` runs just those):
 *
 *   it('a 500 on part 2 is retried', { tags: ['faults'] }, async () => {
 *     …inject…
 *     injected('S3 error', backend.faultsInjected);
 *   });
 */
import { TestRunner } from 'vitest';

/** The kinds of fault the ledger counts, in the order the table prints them. */
export const FAULT_KINDS = [
  'stage death',
  'S3 error',
  'S3 reset/timeout',
  'signal',
  'kill -9',
  'output failure',
  'bad input',
  'concurrent writer',
  'corrupt data',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The tag every fault-injecting test carries. */
export const FAULTS_TAG = 'faults';

declare module 'vitest' {
  interface TaskMeta {
    /** Faults this test injected, by kind (see FAULT_KINDS). */
    faults?: Partial<Record<FaultKind, number>>;
  }
}

/**
 * Count `count` faults of `kind` as injected by the running test.
 *
 * @throws Error when called outside a test, or from a test without the `faults` tag (its faults
 *   would be counted but `npm run test:faults` would not run it).
 */
export function injected(kind: FaultKind, count = 1): void {
  const test = TestRunner.getCurrentTest();
  if (test === undefined) throw new Error(`injected('${kind}') called outside a running test`);
  if (!(test.tags ?? []).includes(FAULTS_TAG)) {
    throw new Error(`test "${test.name}" injects faults but lacks { tags: ['${FAULTS_TAG}'] }`);
  }
  if (!Number.isInteger(count) || count < 0) throw new Error(`injected('${kind}', ${count})`);
  const faults = (test.meta.faults ??= {});
  faults[kind] = (faults[kind] ?? 0) + count;
}
