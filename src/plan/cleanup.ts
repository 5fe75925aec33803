/**
 * What `z3 cleanup` does with the pending writes under the prefix (S3: multipart uploads never
 * completed nor aborted; a local directory: the temporaries of writes that died). Pure: the
 * pending writes, the clock and the ids a journal names in, one decision per write out.
 *
 * Why a journal wins over age: a journal (STATE_DIR) is what lets the next `z3 backup` resume
 * the upload instead of sending it all again; aborting its upload would throw that away, so it
 * is kept however old it is, and the listing says why.
 */
import type { PendingWrite } from '../storage/backend.js';
import { parseAge } from './status-check.js';

/** Why a pending write is kept. */
export type KeepReason = 'journal' | 'younger' | 'age unknown';

export interface CleanupRow {
  pending: PendingWrite;
  /** Milliseconds since it was started; undefined when the backend does not say. */
  age: number | undefined;
  action: 'abort' | 'keep';
  /** Set exactly when `action` is `keep`. */
  reason: KeepReason | undefined;
}

export interface CleanupInput {
  /** As `listPending` gives them. */
  pending: readonly PendingWrite[];
  /** Milliseconds since the epoch. */
  now: number;
  /** Abort writes at least this old (ms); 0 aborts every write no journal names. */
  olderThan: number;
  /** Ids of the writes a journal of this target names. */
  journaled: ReadonlySet<string>;
}

/** One row per pending write, in the order given. */
export function planCleanup(input: CleanupInput): CleanupRow[] {
  return input.pending.map((pending) => {
    const started = pending.started === '' ? Number.NaN : Date.parse(pending.started);
    const age = Number.isNaN(started) ? undefined : input.now - started;
    const reason = keepReason({ ...input, id: pending.id, age });
    return { pending, age, action: reason === undefined ? 'abort' : 'keep', reason };
  });
}

function keepReason(input: {
  id: string;
  age: number | undefined;
  olderThan: number;
  journaled: ReadonlySet<string>;
}): KeepReason | undefined {
  if (input.journaled.has(input.id)) return 'journal';
  if (input.olderThan === 0) return undefined;
  if (input.age === undefined) return 'age unknown';
  return input.age >= input.olderThan ? undefined : 'younger';
}

/**
 * `--older-than`: `0` (every write no journal names), or a duration such as `90m`, `36h`, `7d`
 * (also `1d12h`, `30s`); in milliseconds. Undefined when `text` is none of these (negative,
 * fractional, no unit, an unknown unit): the caller names the flag.
 */
export function parseOlderThan(text: string): number | undefined {
  return /^\s*0+[dhms]?\s*$/.test(text) ? 0 : parseAge(text);
}
