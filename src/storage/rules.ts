/**
 * Small rules every backend applies the same way (pure): key order, metadata key case, the
 * check that a write is complete before it is committed, and the error of a read whose object
 * changed under it.
 */
import { createHash } from 'node:crypto';
import { InternalError, StorageError } from '../errors.js';
import type { WriteChunkInput, WrittenChunk } from './backend.js';
import { md5, normalizeEtag } from './etag.js';

/** Lexical order of keys as S3 lists them: by their UTF-8 bytes (not UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Metadata with lower-cased keys, as S3 stores them. */
export function lowerCaseKeys(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * The chunks of a write sorted by number, after checking that they are exactly 1..n, each
 * once, and that there is at least one.
 *
 * @throws StorageError (not retryable) naming the first gap or duplicate.
 */
export function checkCompleteChunks(chunks: readonly WrittenChunk[], key: string): WrittenChunk[] {
  const ordered = [...chunks].sort((a, b) => a.number - b.number);
  if (ordered.length === 0) throw new StorageError(`completing ${key}: no chunks were written`);
  ordered.forEach((c, i) => {
    if (c.number !== i + 1) {
      throw new StorageError(
        `completing ${key}: chunk ${i + 1} is ${c.number < i + 1 ? 'given twice' : 'missing'}`,
      );
    }
  });
  return ordered;
}

/**
 * Refuse a chunk number outside 1..`maxParts` before it reaches the backend: AWS answers
 * InvalidArgument, but Ceph RGW accepts 0, -1 and 10,001, which would make an object no other
 * server could hold.
 *
 * @throws StorageError (not retryable) naming the chunk and the key.
 */
export function checkChunkNumber(number: number, maxParts: number, key: string): void {
  if (!Number.isInteger(number) || number < 1 || number > maxParts) {
    throw new StorageError(`writing chunk ${number} of ${key}: chunk numbers are 1..${maxParts}`);
  }
}

/**
 * The MD5 of a chunk's bytes, after checking them against the digest the caller gave (`md5` or
 * `sha256`): for the backends that verify a chunk themselves (mem, local).
 *
 * @throws StorageError (retryable, as S3's BadDigest) when the bytes do not match it.
 * @throws InternalError when the caller gave neither.
 */
export function verifyChunkDigest(
  input: Pick<WriteChunkInput, 'body' | 'md5' | 'sha256'>,
  what: string,
): Buffer {
  const digest = md5(input.body);
  const [name, given, actual] =
    input.md5 !== undefined
      ? ['MD5', input.md5, digest]
      : ['SHA-256', input.sha256, createHash('sha256').update(input.body).digest()];
  if (given === undefined) throw new InternalError(`${what}: the chunk carries no digest`);
  if (!actual.equals(given)) {
    throw new StorageError(`${what}: BadDigest (the bytes do not match their ${name})`, {
      isRetryable: true,
    });
  }
  return digest;
}

/**
 * The MD5 of a chunk given back to the writer that wrote it, for a backend whose writer always
 * returns one (mem, local).
 *
 * @throws InternalError when it is missing (a chunk from another writer).
 */
export function writtenMd5(chunk: WrittenChunk, key: string): Uint8Array {
  if (chunk.md5 === undefined) {
    throw new InternalError(`completing ${key}: chunk ${chunk.number} carries no MD5`);
  }
  return chunk.md5;
}

/**
 * The error of a read with `ifMatch` (ReadRangeInput) that found another version at the key.
 * Not retryable: the version asked for is gone, so every retry would fail the same way.
 */
export function changedWhileReading(key: string, ifMatch: string): StorageError {
  return new StorageError(`${key} changed while it was being read (ETag was ${ifMatch})`);
}

/** Whether two ETags name the same version (quotes aside); an empty one matches nothing. */
export function isSameEtag(a: string, b: string): boolean {
  const normal = normalizeEtag(a);
  return normal !== '' && normal === normalizeEtag(b);
}
