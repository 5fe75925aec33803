/**
 * Segments that no backup owns (layout: src/plan/segments.ts): left by a run that was killed
 * after committing some segments and before committing its backup object, or by a run whose
 * backup another writer committed first. For `z3 cleanup`.
 *
 * Caution for the caller: a backup being uploaded right now has committed segments and no
 * backup object yet, so it looks orphaned too. Delete only directories older than any run
 * could be (`newest`), or while holding the dataset's backup lock.
 */
import { ownerOfSegmentKey, SEGMENT_DIR_KEY, segmentsRoot } from '../plan/segments.js';
import type { Backend } from '../storage/backend.js';

/** One segment directory whose backup object does not exist or does not name it. */
export interface OrphanSegments {
  /** The directory (key prefix, ends in `/`). */
  dir: string;
  /** The snapshot (`<fs>@<snap>`) whose backup object would own it. */
  snapshotName: string;
  /** Every key in it, segments and end marker. */
  keys: string[];
  bytes: number;
  /** The newest LastModified among them (ISO 8601, `""` when the backend gives none). */
  newest: string;
}

/**
 * Every orphaned segment directory under `prefix` (normalised S3_PREFIX): one listing of
 * `<prefix>.z3/segments/`, then a stat of each directory's would-be owner.
 */
export async function findOrphanSegments(
  backend: Backend,
  prefix: string,
): Promise<OrphanSegments[]> {
  const dirs = new Map<string, OrphanSegments>();
  for await (const o of backend.list(segmentsRoot(prefix))) {
    const owner = ownerOfSegmentKey(prefix, o.key);
    if (owner === undefined) continue;
    const found = dirs.get(owner.dir) ?? { ...owner, keys: [], bytes: 0, newest: '' };
    found.keys.push(o.key);
    found.bytes += o.size;
    if (o.lastModified > found.newest) found.newest = o.lastModified;
    dirs.set(owner.dir, found);
  }
  const orphans: OrphanSegments[] = [];
  for (const found of dirs.values()) {
    const info = await backend.stat(`${prefix}${found.snapshotName}`);
    if (info?.metadata[SEGMENT_DIR_KEY] !== found.dir) orphans.push(found);
  }
  return orphans;
}
