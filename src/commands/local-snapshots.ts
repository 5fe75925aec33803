import type { CommandRunner } from '../pipeline/run-command.js';
import { snapshotPart } from '../plan/names.js';
import type { LocalSnapshot } from '../plan/types.js';
import { datasetExists, listSnapshots } from '../zfs/zfs.js';

/**
 * The local side of one dataset: its snapshots in creation order, optionally only those whose
 * part after `@` starts with `snapshotPrefix` (spec 4.1). A dataset that does not exist has
 * none (restore into a new dataset, status on a machine that lost its pool). `run` runs the
 * `zfs` commands.
 */
export async function fetchLocalSnapshots(opts: {
  dataset: string;
  snapshotPrefix: string | undefined;
  run: CommandRunner;
}): Promise<{ exists: boolean; snapshots: LocalSnapshot[] }> {
  const { dataset, snapshotPrefix, run } = opts;
  if (!(await datasetExists(dataset, { run }))) return { exists: false, snapshots: [] };
  const all = await listSnapshots(dataset, { run });
  const snapshots = all
    .filter((s) => snapshotPrefix === undefined || snapshotPart(s.name).startsWith(snapshotPrefix))
    .map((s) => ({ name: s.name, creation: s.creation, guid: s.guid, createtxg: s.createtxg }));
  return { exists: true, snapshots };
}
