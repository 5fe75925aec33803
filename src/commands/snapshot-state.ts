import type { Settings } from '../config/types.js';
import { computeHealth } from '../plan/health.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from '../plan/types.js';
import type { ObjectReader } from '../storage/types.js';
import { fetchLocalSnapshots } from './local-snapshots.js';
import { fetchRemoteSnapshots, type RemoteCacheOptions } from './remote-snapshots.js';

/** What status, backup and restore read before they plan. */
export interface SnapshotState {
  /** Whether the local dataset exists, and its snapshots in creation order. */
  local: { exists: boolean; snapshots: LocalSnapshot[] };
  /** The S3 objects of `filesystem` whose snapshot name starts with SNAPSHOT_PREFIX. */
  remote: RemoteSnapshot[];
  health: HealthMap;
}

/**
 * Read both sides at once (ZFS listing and S3 listing + HEADs run concurrently).
 * `localDataset` is where the snapshots live locally (restore --target reads the target);
 * `selectLocal` keeps only local snapshots matching SNAPSHOT_PREFIX (status, backup), where
 * restore wants every local snapshot as a possible base. Object metadata comes from the local
 * cache (CACHE_DIR) where the listing shows an object unchanged.
 */
export async function readSnapshotState(
  reader: ObjectReader,
  settings: Settings,
  opts: { filesystem: string; localDataset: string; selectLocal: boolean },
): Promise<SnapshotState> {
  const [local, remote] = await Promise.all([
    fetchLocalSnapshots(opts.localDataset, opts.selectLocal ? settings.snapshotPrefix : undefined),
    fetchRemoteSnapshots(reader, {
      prefix: settings.s3Prefix,
      filesystem: opts.filesystem,
      snapshotPrefix: settings.snapshotPrefix,
      cache: remoteCacheOptions(settings),
    }),
  ]);
  return { local, remote, health: computeHealth(remote) };
}

/** The metadata cache of this run, or undefined when CACHE_DIR is off (or no bucket is set). */
function remoteCacheOptions(settings: Settings): RemoteCacheOptions | undefined {
  if (settings.metadataCacheDir === undefined || settings.bucket === undefined) return undefined;
  return {
    dir: settings.metadataCacheDir,
    endpoint: settings.endpoint,
    bucket: settings.bucket,
    warn: (message) => process.stderr.write(`z3: warning: ${message}\n`),
  };
}
