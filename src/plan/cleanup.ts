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
    const age = ageAt(pending.started, input.now);
    const reason = keepReason({ ...input, journaled: input.journaled.has(pending.id), age });
    return { pending, age, action: reason === undefined ? 'abort' : 'keep', reason };
  });
}

/** A segment directory no backup object names (src/transfer/segment-orphans.ts). */
export interface OrphanDir {
  dir: string;
  /** The newest LastModified of its objects (ISO 8601, `""` when the backend gives none). */
  newest: string;
}

/** What `z3 cleanup` does with one orphaned segment directory. */
export type OrphanRow<T extends OrphanDir> = T & {
  /** Milliseconds since its newest object was written; undefined when the backend does not say. */
  age: number | undefined;
  action: 'remove' | 'keep';
  /** Set exactly when `action` is `keep`. */
  reason: KeepReason | undefined;
};

/**
 * One row per orphaned segment directory, in the order given. The age rule is the same as for
 * pending writes, and for the same reason: a backup being uploaded right now has committed
 * segments and no backup object yet, so its directory looks orphaned until it commits. Its
 * newest segment is young, though (one is committed at least every SEGMENT_SIZE bytes), and a
 * journal names the directory of a backup that the next run resumes.
 */
export function planOrphans<T extends OrphanDir>(input: {
  orphans: readonly T[];
  now: number;
  olderThan: number;
  /** Segment directories a journal of this target names (in its `segmentdir` metadata). */
  journaledDirs: ReadonlySet<string>;
}): OrphanRow<T>[] {
  return input.orphans.map((orphan) => {
    const age = ageAt(orphan.newest, input.now);
    const journaled = input.journaledDirs.has(orphan.dir);
    const reason = keepReason({ olderThan: input.olderThan, journaled, age });
    return { ...orphan, age, action: reason === undefined ? 'remove' : 'keep', reason };
  });
}

/** Milliseconds from `iso` to `now`; undefined when `iso` is `""` or no date. */
function ageAt(iso: string, now: number): number | undefined {
  const at = iso === '' ? Number.NaN : Date.parse(iso);
  return Number.isNaN(at) ? undefined : now - at;
}

function keepReason(input: {
  journaled: boolean;
  age: number | undefined;
  olderThan: number;
}): KeepReason | undefined {
  if (input.journaled) return 'journal';
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
