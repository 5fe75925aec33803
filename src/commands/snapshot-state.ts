import type { Settings } from '../config/types.js';
import type { HeldLock } from '../lock/acquire.js';
import { requirePrograms } from '../pipeline/programs.js';
import { computeHealth } from '../plan/health.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from '../plan/types.js';
import type { Storage } from '../storage/open.js';
import { fetchLocalSnapshots } from './local-snapshots.js';
import { openDatasetIndex, type DatasetIndex } from './dataset-index.js';
import { warnOn, zfsRunner, type CommandPorts } from './ports.js';
import { fetchRemoteSnapshots } from './remote-snapshots.js';

/** What status, backup and restore read before they plan. */
export interface SnapshotState {
  /** Whether the local dataset exists, and its snapshots in creation order. */
  local: { exists: boolean; snapshots: LocalSnapshot[] };
  /** The stored objects of `filesystem` whose snapshot name starts with SNAPSHOT_PREFIX. */
  remote: RemoteSnapshot[];
  health: HealthMap;
  /** The dataset's index as read (./dataset-index.ts), for a run that rewrites it afterwards. */
  index: DatasetIndex;
}

/** What `openSnapshotState` returns: the state, the storage it was read from, the lock held. */
export interface OpenedSnapshotState extends SnapshotState {
  storage: Storage;
  /** The lock `input.lock` took; the caller releases it. */
  lock: HeldLock | undefined;
}

/**
 * Open the run's storage, check that `zfs` is installed (exit 2 before anything runs), take
 * the run's lock when `lock` is given, then read both sides: the first steps of status, backup
 * and restore alike. Why the lock comes before the reads: two runs that both read before
 * either wrote would plan the same uploads. When the reads fail, the lock is released here.
 */
export async function openSnapshotState(input: {
  settings: Settings;
  ports: Pick<CommandPorts, 'zfs' | 'openStorage' | 'stderr'>;
  filesystem: string;
  localDataset: string;
  selectLocal: boolean;
  lock?: ((storage: Storage) => Promise<HeldLock>) | undefined;
}): Promise<OpenedSnapshotState> {
  const storage = input.ports.openStorage(input.settings);
  await requirePrograms([[input.ports.zfs]]);
  const lock = await input.lock?.(storage);
  try {
    return { storage, lock, ...(await readSnapshotState({ ...input, storage })) };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/**
 * Read both sides at once (ZFS listing and the storage listing with metadata run
 * concurrently). `localDataset` is where the snapshots live locally (restore --target reads
 * the target); `selectLocal` keeps only local snapshots matching SNAPSHOT_PREFIX (status,
 * backup), where restore wants every local snapshot as a possible base.
 */
export async function readSnapshotState(input: {
  storage: Storage;
  settings: Settings;
  ports: Pick<CommandPorts, 'zfs' | 'stderr'>;
  filesystem: string;
  localDataset: string;
  selectLocal: boolean;
}): Promise<SnapshotState> {
  const { settings } = input;
  const index = openDatasetIndex(input.storage, {
    prefix: settings.s3Prefix,
    dataset: input.filesystem,
    warn: warnOn(input.ports),
  });
  const [local, remote] = await Promise.all([
    fetchLocalSnapshots({
      dataset: input.localDataset,
      snapshotPrefix: input.selectLocal ? settings.snapshotPrefix : undefined,
      run: zfsRunner(input.ports),
    }),
    fetchRemoteSnapshots(input.storage, {
      prefix: settings.s3Prefix,
      filesystem: input.filesystem,
      snapshotPrefix: settings.snapshotPrefix,
      warn: warnOn(input.ports),
      index,
    }),
  ]);
  return { local, remote, health: computeHealth(remote), index };
}
