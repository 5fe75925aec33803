/** Segmented backups and orphaned segment directories for the `z3 cleanup` unit tests. */
import { Readable } from 'node:stream';
import { SEGMENT_DIR_KEY } from '../../plan/segments.js';
import type { Backend, BackendLimits } from '../../storage/backend.js';
import { uploadSegmented } from '../../transfer/segments.js';

const MiB = 1 << 20;

/** Limits under which 2.5 MiB make a backup object and two segments (1 MiB, 0.5 MiB). */
export const SEGMENT_LIMITS: BackendLimits = {
  minPartSize: 1,
  maxPartSize: MiB,
  maxParts: 100,
  maxObjectSize: 1e9,
};

/**
 * Upload a full backup of `snapshotName` (2.5 MiB in 1 MiB segments) under `prefix`; the
 * directory its segments 2..3 are in (the end marker too).
 */
export async function segmentedBackup(
  backend: Backend,
  input: { prefix: string; snapshotName: string },
): Promise<string> {
  const key = `${input.prefix}${input.snapshotName}`;
  const data = Buffer.alloc(2.5 * MiB, 9);
  await uploadSegmented({
    source: Readable.from([data]),
    backend,
    key,
    metadata: { size: String(data.length), isfull: 'true' },
    storageClass: undefined,
    partSize: MiB / 4,
    concurrency: 2,
    prefix: input.prefix,
    snapshotName: input.snapshotName,
    segmentSize: MiB,
  });
  const dir = (await backend.stat(key))?.metadata[SEGMENT_DIR_KEY];
  if (dir === undefined) throw new Error(`${key} was not segmented`);
  return dir;
}

/** As `segmentedBackup`, then its backup object deleted: a run killed before it committed it. */
export async function orphanedSegments(
  backend: Backend,
  input: { prefix: string; snapshotName: string },
): Promise<string> {
  const dir = await segmentedBackup(backend, input);
  await backend.remove(`${input.prefix}${input.snapshotName}`);
  return dir;
}
