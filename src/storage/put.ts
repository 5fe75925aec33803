/**
 * What every backend's `put` shares: the size rule, the test that an object at the key is this
 * put's own bytes (so a retried conditional put after a lost answer succeeds), and `put` for
 * backends whose chunked write is already a single local commit (local directory, memory).
 */
import { CommitConflictError, StorageError } from '../errors.js';
import type { Backend, CommittedObject, ObjectInfo, PutInput } from './backend.js';
import { multipartEtag, normalizeEtag } from './etag.js';

/** @throws StorageError (not retryable) when the body is larger than one request may carry. */
export function checkPutSize(input: PutInput, backend: Pick<Backend, 'limits' | 'location'>): void {
  const max = backend.limits.maxPartSize;
  if (input.body.byteLength > max) {
    throw new StorageError(
      `writing ${input.key} to ${backend.location}: ${input.body.byteLength} bytes is more ` +
        `than one request may carry (${max})`,
    );
  }
}

/**
 * Whether `info` describes exactly the bytes of `input`: same size and an ETag that is their
 * MD5, plain (S3 PutObject) or as a one-part multipart ETag (the local backend).
 */
export function isOwnPut(info: ObjectInfo | undefined, input: PutInput): info is ObjectInfo {
  if (info === undefined || info.size !== input.body.byteLength) return false;
  const etag = normalizeEtag(info.etag);
  const hex = Buffer.from(input.md5).toString('hex');
  return etag === hex || etag === normalizeEtag(multipartEtag([input.md5]));
}

/**
 * `put` as one chunk and a commit, for backends whose commit is local and atomic (a rename, a
 * map entry): there one request is not cheaper than two calls. Aborts the write on a failure.
 */
export async function putViaWriter(
  backend: Pick<Backend, 'openWriter' | 'stat' | 'limits' | 'location'>,
  input: PutInput,
): Promise<CommittedObject> {
  checkPutSize(input, backend);
  const { key, metadata, storageClass, ifNoneMatch, body, md5, signal, pace } = input;
  const chunkSize = Math.max(1, body.byteLength);
  const writer = await backend.openWriter({ key, metadata, storageClass, chunkSize, ifNoneMatch });
  try {
    const chunk = await writer.writeChunk({ number: 1, body, md5, signal, pace });
    return await writer.complete([chunk]);
  } catch (err) {
    await writer.abort().catch(() => undefined);
    if (err instanceof CommitConflictError) {
      const info = await backend.stat(key);
      if (isOwnPut(info, input)) return { etag: info.etag, size: info.size };
    }
    throw err;
  }
}
