/**
 * The upload of a stream that ended within its first part: one request (`Backend.put`, S3:
 * PutObject with Content-MD5) instead of a multipart upload's four (create, part, complete,
 * and the HEAD that checks the commit). Most incremental backups of a quiet dataset are that
 * small, so this is what they cost.
 *
 * Same guarantees as the chunked write: the body's MD5 is verified by the backend, nothing is
 * visible before the commit gate passed and the one request succeeded, and `ifNoneMatch` makes
 * another writer's object at the key a CommitConflictError that leaves that object in place.
 */
import type { Backend } from '../storage/backend.js';
import type { DigestPool } from './digest-pool.js';
import type { FilledPart } from './part-reader.js';
import type { PartPool } from './part-pool.js';

export interface PutWholeInput {
  backend: Backend;
  key: string;
  metadata: Record<string, string>;
  storageClass: string | undefined;
  ifNoneMatch: boolean | undefined;
  /** The whole stream: the first and only part, in a pool buffer (released here). */
  part: FilledPart;
  pool: PartPool;
  hasher: DigestPool;
  /** The commit gate, awaited after hashing and before the request. */
  gate: () => Promise<void>;
  signal: AbortSignal;
  onProgress?: ((bytes: number) => void) | undefined;
}

export interface PutWholeResult {
  etag: string;
  size: number;
}

/** Hash the part, pass the gate, store the part as the whole object. */
export async function putWhole(input: PutWholeInput): Promise<PutWholeResult> {
  const { part } = input;
  try {
    const body = part.buf.subarray(0, part.length);
    const md5 = await input.hasher.digest(body);
    await input.gate();
    const committed = await input.backend.put({
      key: input.key,
      body,
      md5,
      metadata: input.metadata,
      storageClass: input.storageClass,
      ifNoneMatch: input.ifNoneMatch,
      signal: input.signal,
    });
    input.onProgress?.(part.length);
    return { etag: committed.etag, size: part.length };
  } finally {
    input.pool.release(part.buf);
  }
}
