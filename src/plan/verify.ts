/**
 * `z3 verify`'s checks that need only a listing and a HEAD of each object (issue 10): is the
 * metadata well-formed, is the chain healthy, is the stored size plausible, does the ETag agree
 * with the part count. Pure: the objects, their health and the backend's limits come in, one
 * reason (or none) per object goes out. What reading the data adds is in src/commands/verify.ts.
 */
import { isCompressorName } from '../pipeline/compressors.js';
import type { BackendLimits } from '../storage/backend.js';
import type { Health, RemoteSnapshot } from './types.js';

/** A BEGIN and an END record alone are 624 bytes; no compressor makes them smaller than this. */
const MIN_STREAM_BYTES = 20;

/**
 * How far above the metadata `size` a stored object may be before it is implausible. The size is
 * the `zfs send -nvP` estimate of the uncompressed stream, not the object's length: compression
 * makes the object smaller, and the estimate is often low for incrementals (metadata it does not
 * count) and by gpg's and gzip's few bytes of framing. Twice the estimate plus 1 MiB is far
 * beyond any of that, and still catches an object that is not the stream the metadata describes.
 */
const SIZE_SLACK_FACTOR = 2;
const SIZE_SLACK_BYTES = 1024 * 1024;

/** What the fast checks see of one object: the snapshot parsed from it and its raw HEAD. */
export interface HeadedObject {
  snapshot: RemoteSnapshot;
  metadata: Readonly<Record<string, string>>;
  /** The ETag as the server gave it (quoted or not); `""` when the backend has none. */
  etag: string;
}

/**
 * The first reason `object` fails the fast checks, or undefined when it passes: metadata first
 * (nothing else means anything without it), then health, size and ETag.
 */
export function headProblem(
  object: HeadedObject,
  health: Health,
  limits: BackendLimits,
): string | undefined {
  return (
    metadataProblem(object) ??
    (health === 'ok' ? undefined : health) ??
    sizeProblem(object.snapshot) ??
    etagProblem(
      object.etag,
      object.snapshot.segments?.[0]?.size ?? object.snapshot.objectSize,
      limits,
    ) ??
    segmentEtagProblem(object.snapshot, limits)
  );
}

/** The first segment (2..N) of a segmented backup whose listed ETag contradicts its size. */
function segmentEtagProblem(snapshot: RemoteSnapshot, limits: BackendLimits): string | undefined {
  for (const [i, segment] of (snapshot.segments ?? []).entries()) {
    if (i === 0) continue;
    const problem = etagProblem(segment.etag, segment.size, limits);
    if (problem !== undefined) return `segment ${i + 1}: ${problem}`;
  }
  return undefined;
}

/** Why the metadata of a backup is not what z3 (or the Python z3) writes, or undefined. */
export function metadataProblem(object: HeadedObject): string | undefined {
  const { snapshot, metadata } = object;
  if (snapshot.size === undefined) {
    return `metadata size is missing or not a number: ${JSON.stringify(metadata['size'] ?? null)}`;
  }
  if (snapshot.isFull && snapshot.parent !== undefined) {
    return `metadata says both full and parent ${snapshot.parent}`;
  }
  if (!snapshot.isFull && snapshot.parent === undefined) {
    return 'metadata has neither isfull=true nor a parent';
  }
  if (snapshot.parent !== undefined && !/^[^@]+@[^@]+$/.test(snapshot.parent)) {
    return `metadata parent is not a snapshot name: ${JSON.stringify(snapshot.parent)}`;
  }
  if (snapshot.compressor !== undefined && !isCompressorName(snapshot.compressor)) {
    return `metadata names an unknown compressor '${snapshot.compressor}'`;
  }
  return undefined;
}

/** Why the stored length cannot be the stream the metadata `size` estimates, or undefined. */
export function sizeProblem(snapshot: RemoteSnapshot): string | undefined {
  const stored = snapshot.objectSize;
  if (stored < MIN_STREAM_BYTES) return `object of ${stored} bytes cannot hold a send stream`;
  const estimate = snapshot.size;
  if (estimate === undefined) return undefined;
  if (stored > estimate * SIZE_SLACK_FACTOR + SIZE_SLACK_BYTES) {
    return `implausible size: ${stored} bytes stored for a stream estimated at ${estimate}`;
  }
  return undefined;
}

/**
 * Why an ETag contradicts the object's size, or undefined (also when the ETag is not an MD5
 * one, e.g. SSE-KMS, or absent: nothing to check). A multipart ETag `<md5>-N` needs a part size
 * p within the backend's limits with ceil(size / p) = N; a plain MD5 one, a single upload within
 * the largest part.
 */
export function etagProblem(
  etag: string,
  objectSize: number,
  limits: BackendLimits,
): string | undefined {
  const match = /^"?[0-9a-f]{32}(?:-(\d+))?"?$/i.exec(etag.trim());
  if (match === null) return undefined;
  const partsText = match[1];
  if (partsText === undefined) {
    return objectSize > limits.maxPartSize
      ? `single-part ETag on an object of ${objectSize} bytes, above the ${limits.maxPartSize}-byte part limit`
      : undefined;
  }
  const parts = Number(partsText);
  if (parts < 1 || parts > limits.maxParts) return `ETag names ${parts} parts`;
  if (partSizesFor(objectSize, parts, limits).length === 0) {
    return `ETag names ${parts} parts, impossible for ${objectSize} bytes`;
  }
  return undefined;
}

/**
 * The part-size range [min, max] that cuts `size` bytes into exactly `parts` parts within the
 * limits, as a one- or two-element list, or empty when there is none. Exposed for the object
 * level check, which must guess the part size to recompute a multipart ETag.
 */
export function partSizesFor(size: number, parts: number, limits: BackendLimits): number[] {
  if (parts === 1) return size <= limits.maxPartSize ? [Math.max(size, 1)] : [];
  // ceil(size / p) = parts  ⇔  size / parts ≤ p < size / (parts - 1)
  const low = Math.max(Math.ceil(size / parts), limits.minPartSize);
  const high = Math.min(Math.ceil(size / (parts - 1)) - 1, limits.maxPartSize);
  if (low > high) return [];
  return low === high ? [low] : [low, high];
}
