/**
 * The incremental base of last resort: when no local snapshot is backed up any more (a
 * snapshot tool destroyed the base), the bookmark z3 made of a backed-up snapshot
 * (`<dataset>#z3_<snapshot>`, see ./holds.ts) can still serve as the source of `zfs send -i`.
 * Pure.
 */
import { healthOf } from './health.js';
import { bookmarkName } from './holds.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from './types.js';

/** One local bookmark as listed: its full name, and the createtxg and guid of its snapshot. */
export interface LocalBookmark {
  /** Full name `<dataset>#<bookmark>`. */
  name: string;
  createtxg: number;
  guid: string;
}

/** A backup whose snapshot survives locally as a bookmark, and the local snapshots after it. */
export interface BookmarkBase {
  base: RemoteSnapshot;
  bookmark: LocalBookmark;
  /** The local snapshots up to the target created after the bookmark's snapshot, oldest first. */
  after: LocalSnapshot[];
}

/**
 * The newest healthy backup that has a z3 bookmark with the backup's guid (a bookmark of a
 * re-created snapshot of the same name has another guid, and a stream from it would not apply),
 * with the snapshots of `candidates` (oldest first) created after it. undefined when there is
 * none, or when no candidate is newer than it (or createtxgs are unknown).
 */
export function findBookmarkBase(input: {
  candidates: readonly LocalSnapshot[];
  remote: readonly RemoteSnapshot[];
  health: HealthMap;
  bookmarks: readonly LocalBookmark[];
}): BookmarkBase | undefined {
  const byName = new Map(input.bookmarks.map((b) => [b.name, b]));
  let found: { base: RemoteSnapshot; bookmark: LocalBookmark } | undefined;
  for (const base of input.remote) {
    const bookmark = byName.get(bookmarkName(base.name));
    if (bookmark === undefined || base.guid === undefined || bookmark.guid !== base.guid) continue;
    if (healthOf(base, input.health) !== 'ok') continue;
    if (found === undefined || bookmark.createtxg > found.bookmark.createtxg) {
      found = { base, bookmark };
    }
  }
  if (found === undefined) return undefined;
  const since = found.bookmark.createtxg;
  const after = input.candidates.filter((s) => s.createtxg !== undefined && s.createtxg > since);
  return after.length === 0 ? undefined : { ...found, after };
}
