/**
 * What is stored for one dataset, as metric values: objects and bytes, broken backups, the
 * newest backup's chain length, snapshot time and verification. Pure: the listing, its health
 * and the verify record (src/storage/verify-record.ts) in, values out.
 */
import { chainPositions } from '../plan/chain.js';
import { healthOf } from '../plan/health.js';
import type { HealthMap, RemoteSnapshot } from '../plan/types.js';
import { currentVerification, type Verification } from '../storage/verify-record.js';
import type { MetricValues } from './render.js';

export interface StoredInput {
  remote: readonly RemoteSnapshot[];
  health: HealthMap;
  /** The verify record of the target, by object key (empty when CACHE_DIR is off). */
  verifications: ReadonlyMap<string, Verification>;
}

/** The stored-state metrics; the newest-backup ones are left out when nothing is stored. */
export function storedValues(input: StoredInput): MetricValues {
  const { remote, health } = input;
  const values: MetricValues = {
    z3_stored_objects: remote.length,
    z3_stored_bytes: remote.reduce((sum, r) => sum + r.objectSize, 0),
    z3_broken_backups: remote.filter((r) => healthOf(r, health) !== 'ok').length,
  };
  const verifiedAt = lastVerifiedSeconds(input);
  if (verifiedAt !== undefined) values.z3_last_verify_timestamp_seconds = verifiedAt;
  const chains = chainPositions(remote, health);
  const newest = newestBackup(remote, (r) => chains.get(r.name)?.length ?? 0);
  if (newest === undefined) return values;
  const chain = chains.get(newest.snapshot.name);
  if (chain !== undefined) values.z3_chain_length = chain.length;
  values.z3_newest_backup_timestamp_seconds = newest.seconds;
  const verified = currentVerification(
    input.verifications,
    newest.snapshot.key,
    newest.snapshot.etag,
  );
  values.z3_newest_backup_verified = verified === undefined ? 0 : 1;
  return values;
}

/**
 * The backup of the newest snapshot: by its `creation` metadata (the snapshot's own time, which
 * is what "how far behind" means), else by when the object was written (backups by Python z3
 * carry no creation). `creation` has one-second resolution, so snapshots taken in one second
 * tie: then the one further down its chain (`depth`) is the newer, a child after its parent.
 */
function newestBackup(
  remote: readonly RemoteSnapshot[],
  depth: (snapshot: RemoteSnapshot) => number,
): { snapshot: RemoteSnapshot; seconds: number } | undefined {
  let newest: { snapshot: RemoteSnapshot; seconds: number } | undefined;
  for (const snapshot of remote) {
    const seconds = snapshotSeconds(snapshot);
    if (seconds === undefined) continue;
    const isNewer =
      newest === undefined ||
      seconds > newest.seconds ||
      (seconds === newest.seconds && depth(snapshot) > depth(newest.snapshot));
    if (isNewer) newest = { snapshot, seconds };
  }
  return newest;
}

function snapshotSeconds(snapshot: RemoteSnapshot): number | undefined {
  const creation = Number(snapshot.creation);
  if (snapshot.creation !== undefined && /^\d+$/.test(snapshot.creation)) return creation;
  const written = Date.parse(snapshot.lastModified ?? '');
  return Number.isNaN(written) ? undefined : written / 1000;
}

/** The latest verification of any of these objects as stored now, in seconds. */
function lastVerifiedSeconds(input: StoredInput): number | undefined {
  let latest: number | undefined;
  for (const snapshot of input.remote) {
    const entry = currentVerification(input.verifications, snapshot.key, snapshot.etag);
    const at = entry === undefined ? NaN : Date.parse(entry.at) / 1000;
    if (!Number.isNaN(at) && (latest === undefined || at > latest)) latest = at;
  }
  return latest;
}
