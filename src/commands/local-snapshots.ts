import { snapshotPart } from '../plan/names.js';
import type { LocalSnapshot } from '../plan/types.js';
import { datasetExists, listSnapshots } from '../zfs/zfs.js';

/**
 * The local side of one dataset: its snapshots in creation order, optionally only those whose
 * part after `@` starts with `snapshotPrefix` (spec 4.1). A dataset that does not exist has
 * none (restore into a new dataset, status on a machine that lost its pool).
 */
export async function fetchLocalSnapshots(
  dataset: string,
  snapshotPrefix: string | undefined,
): Promise<{ exists: boolean; snapshots: LocalSnapshot[] }> {
  if (!(await datasetExists(dataset))) return { exists: false, snapshots: [] };
  const all = await listSnapshots(dataset);
  const snapshots = all
    .filter((s) => snapshotPrefix === undefined || snapshotPart(s.name).startsWith(snapshotPrefix))
    .map((s) => ({ name: s.name }));
  return { exists: true, snapshots };
}
