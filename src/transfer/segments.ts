/**
 * Upload one stream as a segmented backup (layout: src/plan/segments.ts): segment 1 at the
 * backup's key, segments 2..N beside it, one `uploadStream` each, cut by a SegmentCutter.
 *
 * Order, and why: segment 1's upload is opened first (its metadata must be set then) and
 * committed last. Its commit gate uploads and commits segments 2..N as the stream goes on,
 * then awaits the caller's gate (every pipeline stage exited 0), then writes the end marker.
 * So the backup is listed only once every segment and the marker are on the server; a failure
 * anywhere aborts segment 1 and removes the segments already committed (best effort: kill -9
 * leaves them, and `findOrphanSegments` finds them).
 *
 * Memory: one segment is uploaded at a time, so the bound is uploadStream's.
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import {
  markerKey,
  segmentDir,
  segmentKey,
  segmentMetadata,
  SEGMENT_DIR_KEY,
  type SegmentLayout,
} from '../plan/segments.js';
import type { Backend, BackendLimits } from '../storage/backend.js';
import { md5 } from '../storage/etag.js';
import { formatMiB } from '../config/sizes.js';
import { SegmentCutter } from './segment-cutter.js';
import { sourceReader } from './upload-reading.js';
import { uploadStream, type UploadResult, type UploadStreamOptions } from './uploader.js';

export interface SegmentedUploadOptions extends UploadStreamOptions {
  /** The normalised S3_PREFIX and the snapshot's full name: where the segments go. */
  prefix: string;
  snapshotName: string;
  /** SEGMENT_SIZE in bytes; undefined = as large as the backend allows one object. */
  segmentSize: number | undefined;
  /**
   * The layout of the upload being resumed, as its metadata records it: the server fixed that
   * metadata when the earlier run started, so this run cuts and names its segments the same
   * way. Undefined: a fresh run's own (a new directory, the capacity from `segmentSize`).
   */
  layout?: SegmentLayout | undefined;
  /** How segment 1, the backup's own object, is uploaded (resumable in `z3 backup`); default uploadStream. */
  uploadFirst?: ((options: UploadStreamOptions) => Promise<UploadResult>) | undefined;
}

export interface SegmentedUploadResult extends UploadResult {
  /** Objects the stream was stored in (1 when it fit in one). */
  segments: number;
}

/**
 * The bytes of one segment: SEGMENT_SIZE, capped by what one upload of `partSize` parts can
 * hold (parts × part size, the object size limit), rounded down to whole parts so that every
 * part but a segment's last has the same size.
 *
 * @throws UsageError when not even one part fits (SEGMENT_SIZE below the part size).
 */
export function segmentCapacity(input: {
  segmentSize: number | undefined;
  partSize: number;
  limits: Pick<BackendLimits, 'maxParts' | 'maxObjectSize'>;
}): number {
  const { partSize, limits } = input;
  const top = Math.min(
    input.segmentSize ?? Infinity,
    limits.maxParts * partSize,
    limits.maxObjectSize,
  );
  const capacity = Math.floor(top / partSize) * partSize;
  if (capacity < partSize) {
    throw new UsageError(
      `SEGMENT_SIZE ${input.segmentSize ?? top} bytes is smaller than one part of this backup ` +
        `(${formatMiB(partSize)}M)`,
      { hint: `set SEGMENT_SIZE to at least ${partSize} bytes, or leave it unset` },
    );
  }
  return capacity;
}

/** Upload `options.source` as segments; resolves once segment 1 (the backup) is committed. */
export async function uploadSegmented(
  options: SegmentedUploadOptions,
): Promise<SegmentedUploadResult> {
  const layout: SegmentLayout = options.layout ?? {
    dir: segmentDir(options.prefix, options.snapshotName, randomBytes(6).toString('hex')),
    capacity: segmentCapacity({ ...options, limits: options.backend.limits }),
  };
  const cutter = new SegmentCutter(sourceReader(options.source), layout.capacity);
  const written: string[] = [];
  try {
    const { uploadFirst = uploadStream } = options;
    const first = await uploadFirst({
      ...options,
      source: cutter.next(),
      metadata: { ...options.metadata, ...segmentMetadata(layout) },
      beforeComplete: async () => {
        await uploadRest({ options, cutter, layout, written });
        await options.beforeComplete?.();
        // A full segment 1 may have successors: the marker says there are none (or how many).
        if (cutter.count > 1 || cutter.lastLength === layout.capacity) {
          await writeMarker({ options, key: markerKey(layout.dir, cutter.count), written });
        }
      },
    });
    return { ...first, size: first.size + restSize(cutter, layout), segments: cutter.count };
  } catch (err) {
    await removeUnowned({ backend: options.backend, key: options.key, layout, written });
    throw err;
  }
}

interface RestInput {
  options: SegmentedUploadOptions;
  cutter: SegmentCutter;
  layout: SegmentLayout;
  /** Keys committed so far, for the cleanup after a failure. */
  written: string[];
}

/** Segments 2..N, each committed before the next is read. */
async function uploadRest(input: RestInput): Promise<void> {
  const { options, cutter, layout } = input;
  while (await cutter.hasMore(options.signal)) {
    const source = cutter.next();
    const key = segmentKey(layout.dir, cutter.count);
    await uploadStream({
      ...options,
      source,
      key,
      metadata: {},
      beforeComplete: undefined,
      ifNoneMatch: false, // the run id makes the key this run's own
    });
    input.written.push(key);
  }
}

/** Bytes of segments 2..N: all full but the last, whose length the cutter counted. */
function restSize(cutter: SegmentCutter, layout: SegmentLayout): number {
  return cutter.count <= 1 ? 0 : (cutter.count - 2) * layout.capacity + cutter.lastLength;
}

/** The end marker: a tiny object whose key names the count (its body says it for humans). */
async function writeMarker(input: {
  options: SegmentedUploadOptions;
  key: string;
  written: string[];
}): Promise<void> {
  const { options } = input;
  const body = new TextEncoder().encode(`z3 segmented backup of ${options.key}\n`);
  await options.backend.put({
    key: input.key,
    body,
    md5: md5(body),
    metadata: {},
    storageClass: options.storageClass,
    signal: options.signal,
  });
  input.written.push(input.key);
}

/**
 * After a failure: remove the segments this run committed, unless its backup object is there
 * after all (a commit whose answer was lost) and names them.
 */
async function removeUnowned(input: {
  backend: Backend;
  key: string;
  layout: SegmentLayout;
  written: string[];
}): Promise<void> {
  if (input.written.length === 0) return;
  try {
    const info = await input.backend.stat(input.key);
    if (info?.metadata[SEGMENT_DIR_KEY] === input.layout.dir) return;
    for (const key of input.written) await input.backend.remove(key);
  } catch {
    // Left for `findOrphanSegments`: the run's own failure is the one to report.
  }
}
