/**
 * Reading a segmented backup (layout: src/plan/segments.ts) as the one stream it is: find and
 * check its segments, download them in order, delete them with it. A backup whose first object
 * is shorter than one segment (every unsegmented backup) costs nothing extra here.
 */
import { Readable, type Writable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { checkSegments, layoutToCheck, type SegmentLayout } from '../plan/segments.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { Backend, ListedObject } from '../storage/backend.js';
import { mapBounded } from '../storage/listing.js';
import { downloadObject, openDownload, type DownloadOptions } from './downloader.js';

/** Segment listings in flight at once. */
const LIST_CONCURRENCY = 8;

/**
 * The snapshots with their segments checked: a complete segmented backup gets `segments` and
 * the sum of their sizes as `objectSize`; one with a segment missing gets `segmentProblem`
 * (health then calls it broken). One listing per backup whose first object is full.
 */
export async function resolveSegments(
  backend: Backend,
  snapshots: readonly RemoteSnapshot[],
): Promise<RemoteSnapshot[]> {
  return mapBounded([...snapshots], LIST_CONCURRENCY, async (snapshot) => {
    const layout = snapshot.segmentLayout;
    if (layout === undefined) return snapshot;
    const first = { key: snapshot.key, size: snapshot.objectSize, etag: snapshot.etag ?? '' };
    const check = checkSegments(first, layout, await listAll(backend, layout.dir));
    if (check.kind === 'broken') return { ...snapshot, segmentProblem: check.problem };
    const objectSize = check.segments.reduce((sum, s) => sum + s.size, 0);
    return { ...snapshot, segments: check.segments, objectSize };
  });
}

/** The objects of one stored stream, in order, and its total size when it is segmented. */
export interface StoredStream {
  keys: string[];
  /** Bytes of all segments; undefined for one object (its download's stat tells). */
  size: number | undefined;
}

/**
 * The stream stored at `key`, for a reader given only a key (z3_get): `[key]` for an ordinary
 * object. A segmented one with a segment missing is refused before a byte is read
 * (IntegrityError, exit 3); a missing key yields `[key]` (the download then says so).
 */
export async function streamAt(backend: Backend, key: string): Promise<StoredStream> {
  const info = await backend.stat(key);
  const layout = info === undefined ? undefined : layoutToCheck(info.metadata, info.size);
  if (info === undefined || layout === undefined) return { keys: [key], size: undefined };
  const first = { key, size: info.size, etag: info.etag };
  const check = checkSegments(first, layout, await listAll(backend, layout.dir));
  if (check.kind === 'broken') throw brokenStreamError(key, check.problem);
  const size = check.segments.reduce((sum, s) => sum + s.size, 0);
  return { keys: check.segments.map((s) => s.key), size };
}

/** The keys of a snapshot's stream, in order (see resolveSegments). */
export function snapshotKeys(snapshot: RemoteSnapshot): string[] {
  if (snapshot.segmentProblem !== undefined) {
    throw brokenStreamError(snapshot.key, snapshot.segmentProblem);
  }
  return snapshot.segments?.map((s) => s.key) ?? [snapshot.key];
}

function brokenStreamError(key: string, problem: string): IntegrityError {
  return new IntegrityError(`${key} is a segmented backup that cannot be read: ${problem}`, {
    hint: "nothing was read; 'z3 status' shows the backup broken",
  });
}

/**
 * `keys` downloaded one after the other into `sink` (see downloadObject). `onStart` is told
 * `total` when given, else the first object's size. Resolves with the total byte count.
 */
export async function downloadKeys(
  options: DownloadOptions & { sink: Writable },
  keys: readonly string[],
  total?: number,
): Promise<{ size: number }> {
  if (total !== undefined) options.onStart?.(total);
  let size = 0;
  for (const [i, key] of keys.entries()) {
    const onStart = i === 0 && total === undefined ? options.onStart : undefined;
    const displayName = i === 0 ? options.displayName : key;
    size += (await downloadObject({ ...options, key, onStart, displayName })).size;
  }
  return { size };
}

/** `keys` as one byte Readable, in order (see downloadStream). */
export function keysStream(options: DownloadOptions, keys: readonly string[]): Readable {
  async function* all(): AsyncGenerator<Uint8Array, void, undefined> {
    for (const key of keys) yield* (await openDownload({ ...options, key })).chunks;
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1 });
}

/**
 * Delete a backup: its segment directory first (segments, marker, anything left there), the
 * backup object last. Why that order: a run stopped in between leaves a backup that `status`
 * shows broken (and the next prune deletes), never segments that nothing names.
 */
export async function removeBackup(backend: Backend, snapshot: RemoteSnapshot): Promise<void> {
  const layout: SegmentLayout | undefined = snapshot.segmentLayout;
  if (layout !== undefined) {
    for (const o of await listAll(backend, layout.dir)) await backend.remove(o.key);
  }
  await backend.remove(snapshot.key);
}

async function listAll(backend: Backend, prefix: string): Promise<ListedObject[]> {
  const listed: ListedObject[] = [];
  for await (const o of backend.list(prefix)) listed.push(o);
  return listed;
}
