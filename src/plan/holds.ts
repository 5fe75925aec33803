/**
 * Holds and bookmarks that keep an incremental possible when snapshot tools destroy old
 * snapshots: after a backup, z3 holds the newest backed-up snapshot of each dataset under a
 * tag naming the target (so two targets never release each other's hold), releases its hold
 * on the one before, and bookmarks it (`<dataset>#z3_<snapshot>`) so that an incremental can
 * still be sent from the bookmark once the snapshot is gone. Pure: listings in, actions out.
 */
import { createHash } from 'node:crypto';
import { healthOf } from './health.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from './types.js';

/** Every hold z3 places has a tag starting so; the rest is the target's id. */
export const HOLD_TAG_PREFIX = 'z3:';

/** Bookmarks z3 makes are named `<dataset>#z3_<snapshot>`. */
export const BOOKMARK_PREFIX = 'z3_';

/** ZFS_MAX_DATASET_NAME_LEN (256) less the terminating NUL: the longest name zfs accepts. */
export const MAX_ZFS_NAME_LENGTH = 255;

/** Hex digits of the target's digest in the tag: 48 bits, no collision between a user's targets. */
const TAG_ID_LENGTH = 12;

/** Where backups go: a bucket or BACKUP_DIR, and the normalised S3_PREFIX. */
export interface HoldTarget {
  bucket: string | undefined;
  backupDir: string | undefined;
  s3Prefix: string;
}

/**
 * The hold tag of a target: `z3:` and the first 12 hex digits of the SHA-256 of
 * `s3:<bucket>/<prefix>` or `dir:<BACKUP_DIR>/<prefix>`. Stable across runs, hosts and
 * endpoints (a changed HOST does not orphan the hold); different for another bucket or prefix.
 */
export function holdTag(target: HoldTarget): string {
  const identity =
    target.bucket !== undefined
      ? `s3:${target.bucket}/${target.s3Prefix}`
      : `dir:${target.backupDir ?? ''}/${target.s3Prefix}`;
  const digest = createHash('sha256').update(identity).digest('hex');
  return `${HOLD_TAG_PREFIX}${digest.slice(0, TAG_ID_LENGTH)}`;
}

/** `<dataset>#z3_<snapshot>` for `<dataset>@<snapshot>` (bookmark names allow what snapshot names do). */
export function bookmarkName(snapshot: string): string {
  const at = snapshot.indexOf('@');
  return `${snapshot.slice(0, at)}#${BOOKMARK_PREFIX}${snapshot.slice(at + 1)}`;
}

/**
 * The newest local snapshot that is backed up on the target: committed by this run, or listed
 * with a healthy chain and (when both are known) the same guid. undefined when none is.
 */
export function newestBackedUp(input: {
  local: readonly LocalSnapshot[];
  remote: readonly RemoteSnapshot[];
  health: HealthMap;
  committed: readonly string[];
}): string | undefined {
  const remote = new Map(input.remote.map((r) => [r.name, r]));
  for (let i = input.local.length - 1; i >= 0; i -= 1) {
    const local = input.local[i] as LocalSnapshot;
    if (input.committed.includes(local.name)) return local.name;
    const backup = remote.get(local.name);
    if (backup === undefined || healthOf(backup, input.health) !== 'ok') continue;
    if (backup.guid === undefined || local.guid === undefined || backup.guid === local.guid) {
      return local.name;
    }
  }
  return undefined;
}

/** One zfs change, in the order to run: a failed `hold` stops the rest (the old hold stays). */
export type HoldAction =
  | { kind: 'hold'; snapshot: string }
  | { kind: 'bookmark'; snapshot: string; bookmark: string }
  | { kind: 'release'; snapshot: string };

/**
 * What to change so that exactly `newest` carries `tag` and has a bookmark: hold it first,
 * bookmark it, then release `tag` on every other snapshot. Nothing is released when nothing is
 * backed up (`newest` undefined): a held base may still be the only way to an incremental.
 * `warnings` name what cannot be done (a bookmark name longer than zfs allows).
 */
export function planHolds(input: {
  tag: string;
  newest: string | undefined;
  /** Holds listed on the dataset's snapshots (any tag). */
  holds: readonly { snapshot: string; tag: string }[];
  /** Full names of the dataset's bookmarks. */
  bookmarks: readonly string[];
}): { actions: HoldAction[]; warnings: string[] } {
  const { tag, newest } = input;
  if (newest === undefined) return { actions: [], warnings: [] };
  const ours = input.holds.filter((h) => h.tag === tag).map((h) => h.snapshot);
  const actions: HoldAction[] = [];
  const warnings: string[] = [];
  if (!ours.includes(newest)) actions.push({ kind: 'hold', snapshot: newest });
  const bookmark = bookmarkName(newest);
  if (bookmark.length > MAX_ZFS_NAME_LENGTH) {
    warnings.push(`${newest}: no bookmark, '${bookmark}' is longer than zfs allows`);
  } else if (!input.bookmarks.includes(bookmark)) {
    actions.push({ kind: 'bookmark', snapshot: newest, bookmark });
  }
  for (const snapshot of new Set(ours)) {
    if (snapshot !== newest) actions.push({ kind: 'release', snapshot });
  }
  return { actions, warnings };
}

/** One of the target's holds, and whether it still keeps the newest backup's base. */
export interface TargetHold {
  snapshot: string;
  isStale: boolean;
}

/**
 * The holds tagged `tag`, each stale unless its snapshot is `newest` (the newest backed-up
 * one): a stale hold keeps a snapshot no incremental will be sent from. With nothing backed
 * up, every hold is stale.
 */
export function classifyHolds(input: {
  tag: string;
  newest: string | undefined;
  holds: readonly { snapshot: string; tag: string }[];
}): TargetHold[] {
  return input.holds
    .filter((h) => h.tag === input.tag)
    .map((h) => ({ snapshot: h.snapshot, isStale: h.snapshot !== input.newest }));
}
