/**
 * The storage port: one small interface that every backend (S3, a local directory, memory for
 * tests) implements, restic/rclone style. Everything above storage (the uploader, the
 * downloader, the commands) sees only this; the AWS SDK is imported only under `s3/`.
 *
 * Contract for every method: a failure is a `StorageError` (src/errors.ts), classified where it
 * arises: `isRetryable` for transient failures (5xx, throttling, resets, timeouts, a short
 * body), `isNotFound` for a missing key or upload. Backends make exactly one attempt per call;
 * the one retry policy is a wrapper (src/storage/wrappers/retrying.ts), built in by
 * `openBackend` (src/storage/open.ts), the only constructor the commands use.
 */

/** What a stat tells about one object. */
export interface ObjectInfo {
  key: string;
  /** Length in bytes. */
  size: number;
  /** ETag with its quotes, as the backend reports it (may be `""`, e.g. on some servers). */
  etag: string;
  /** User metadata (S3: `x-amz-meta-*` without the prefix); keys lower-case. */
  metadata: Record<string, string>;
  /** LastModified (ISO 8601) where the info comes from a listing (`listWithMetadata`); a stat may leave it undefined. */
  lastModified?: string | undefined;
  /** Storage class where the info comes from a listing that reports one; undefined otherwise. */
  storageClass?: string | undefined;
}

/** One entry of a listing (no user metadata: `stat` gives that). */
export interface ListedObject {
  key: string;
  size: number;
  /** ETag with its quotes (may be `""` where the listing does not carry one). */
  etag: string;
  /** Last modification as an ISO 8601 string (`""` when the backend gives none). */
  lastModified: string;
  /** Storage class (S3: `STANDARD`, `STANDARD_IA`, `GLACIER`, …); undefined when the backend has none. */
  storageClass?: string | undefined;
}

/** A write that was started and neither completed nor aborted (S3: a pending multipart upload). */
export interface PendingWrite {
  key: string;
  /** The writer's id (S3: the upload id). */
  id: string;
  /** When it was started, ISO 8601 (`""` when unknown). */
  started: string;
}

export interface OpenWriterInput {
  key: string;
  /** User metadata to store with the object; keys are lower-cased by the backend. */
  metadata: Record<string, string>;
  /** Storage class; undefined = the backend's default. Backends without classes ignore it. */
  storageClass?: string | undefined;
  /**
   * Size of every chunk but the last (which may be shorter), within `limits`. Chunk n covers
   * bytes [(n - 1) × chunkSize, n × chunkSize) of the object.
   */
  chunkSize: number;
  /**
   * Commit only if no object exists at the key (S3: `If-None-Match: *`): `complete` then fails
   * with a CommitConflictError, leaving the object there in place, when another writer committed
   * the key first. Only for a backend whose `features.conditionalCommit` is true; one without it
   * refuses the write in `openWriter` (StorageError), so no caller believes it is protected.
   */
  ifNoneMatch?: boolean | undefined;
}

/** A digest the backend verifies a chunk's bytes against (ChunkWriter.digest). */
export type ChunkDigestAlgorithm = 'md5' | 'sha256';

export interface WriteChunkInput {
  /** 1-based chunk number, at most `limits.maxParts`. */
  number: number;
  body: Uint8Array;
  /**
   * Binary MD5 of `body`: the backend verifies the bytes against it (S3: Content-MD5). Every
   * writer takes it; give it or `sha256`, never neither.
   */
  md5?: Uint8Array | undefined;
  /**
   * Binary SHA-256 of `body`, instead of `md5`, for a writer whose `digest` is 'sha256' (S3:
   * the signed payload hash, `x-amz-content-sha256`, which such a server verifies).
   */
  sha256?: Uint8Array | undefined;
  /** Aborting cancels the request; the call then rejects. */
  signal?: AbortSignal | undefined;
  /**
   * The bandwidth limit (./wrappers/throttled.ts): the backend awaits it for each slice of at
   * most PACE_SLICE bytes as the bytes move (before a slice is sent, after it arrives), so a
   * part goes out at the limit, not in a burst. A backend that cannot pace within the call
   * awaits it for all the bytes before the call. Undefined: no limit.
   */
  pace?: Pacer | undefined;
}

/** What the writer returns for a written chunk; `complete` takes them back. */
export interface WrittenChunk {
  number: number;
  size: number;
  /**
   * Binary MD5 of the chunk's bytes: the caller's, or the backend's own where it is known to be
   * one (S3 after a SHA-256 chunk: the part's ETag, on a server whose part ETags are MD5s).
   * Undefined when neither is known (SHA-256 chunks under SSE-KMS): the object's ETag cannot be
   * predicted then, and `complete` checks the size.
   */
  md5?: Uint8Array | undefined;
  /** The backend's receipt for the chunk (S3: the part's ETag with quotes). */
  etag: string;
}

/** One chunk of a pending write as the backend lists it (`listChunks`). */
export interface ListedChunk {
  /** 1-based chunk number. */
  number: number;
  size: number;
  /**
   * The backend's receipt (quoted). The quoted MD5 hex of the chunk's bytes on mem, local and
   * S3 without SSE-KMS; anything else (SSE-KMS) is no digest, and a resume must not trust it.
   */
  etag: string;
}

/** A write to take up again (`resumeWriter`): the inputs of the first `openWriter`, and its id. */
export interface ResumeWriterInput extends OpenWriterInput {
  /** The pending write's id (S3: the upload id), as `ChunkWriter.id` gave it. */
  id: string;
}

/** The committed object, as the backend confirms it. */
export interface CommittedObject {
  /** The object's ETag as the backend reports it after the commit (quoted). */
  etag: string;
  size: number;
}

/**
 * One object being written in chunks (rclone's ChunkWriter). Nothing is visible under the key
 * before `complete` resolves; after `abort` nothing of it is left.
 */
export interface ChunkWriter {
  readonly key: string;
  /** The writer's id (S3: the upload id), for messages and `listPending`. */
  readonly id: string;
  /**
   * The digest to give `writeChunk`: 'sha256' only where the backend showed that it verifies
   * one and hashing it is the cheaper check (S3: part-digest.ts); 'md5' otherwise. Either is
   * taken whatever this says.
   */
  readonly digest: ChunkDigestAlgorithm;
  /**
   * Store one chunk. Chunks may be written in any order and concurrently; writing the same
   * number again replaces it (safe to retry).
   */
  writeChunk(input: WriteChunkInput): Promise<WrittenChunk>;
  /**
   * Commit chunks 1..n (`chunks` in any order, each number exactly once) as the object,
   * replacing any object at the key (unless `ifNoneMatch`), and check what was stored: size,
   * and the content digest where the backend can tell it. A mismatch is an `IntegrityError`.
   * The mismatching object is deleted only when it is provably this write's (S3: its ETag is
   * the one this write's commit returned, and the delete is conditional on it); otherwise it
   * may be another writer's, committed in between, and is left in place, which the message
   * says. Call once, after every chunk was written; a retry after a failure is safe.
   */
  complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject>;
  /** Discard the write and its chunks. Idempotent: safe to call twice, or after a failed complete. */
  abort(): Promise<void>;
}

/** The limits of one backend, defined once as data (S3: 5 MiB … 5 GiB parts, 10,000, 5 TiB). */
export interface BackendLimits {
  /** Smallest chunk but the last. */
  minPartSize: number;
  /** Largest chunk. */
  maxPartSize: number;
  /** Most chunks per object. */
  maxParts: number;
  /** Largest object. */
  maxObjectSize: number;
}

/** Optional capabilities, declared as data (rclone's Features): undefined = not supported. */
export interface BackendFeatures {
  /**
   * A `stat` tuned for many calls in a row (the metadata of a listing), same contract as
   * `stat`. S3: signed HEADs without the SDK's per-call overhead.
   */
  readonly statBulk?: ((key: string) => Promise<ObjectInfo | undefined>) | undefined;
  /**
   * Listings carry an ETag and a LastModified that change whenever an object's content or
   * metadata does, so a local cache of metadata keyed by them is safe (S3: yes).
   */
  readonly hasStableListing: boolean;
  /**
   * `OpenWriterInput.ifNoneMatch` is supported: a commit onto a key where an object exists
   * fails with a CommitConflictError and leaves that object in place. Atomic on local and mem;
   * S3: see the S3 writer (a HEAD before the commit always catches an object committed
   * earlier; the `If-None-Match: *` header closes the race only on servers that honour it).
   */
  readonly conditionalCommit: boolean;
}

export interface ListOptions {
  /** Only keys strictly after this one (lexically): lets a failed listing resume. */
  startAfter?: string | undefined;
}

export interface ReadRangeInput {
  key: string;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive; must be < the object's size. */
  end: number;
  /**
   * Where to put the bytes (at least end - start + 1 long); the result is a view of it. Saves
   * an allocation per range. Default: a new buffer.
   */
  target?: Uint8Array | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Read only this version: the object's ETag (quoted, from `stat`). When the object at the key
   * has another ETag now (replaced since the stat), the read fails with a StorageError, not
   * retryable, `<key> changed while it was being read (ETag was <ifMatch>)`, so a reader that
   * passes the same ETag with every range never splices two versions. Undefined: any version.
   */
  ifMatch?: string | undefined;
  /**
   * The bandwidth limit (./wrappers/throttled.ts): the backend awaits it for each slice of at
   * most PACE_SLICE bytes as the bytes move (before a slice is sent, after it arrives), so a
   * part goes out at the limit, not in a burst. A backend that cannot pace within the call
   * awaits it for all the bytes before the call. Undefined: no limit.
   */
  pace?: Pacer | undefined;
}

/** A whole object written in one request (`Backend.put`): small objects, and streams shorter than one part. */
export interface PutInput {
  key: string;
  /** The object's bytes: at most `limits.maxPartSize`; may be empty. */
  body: Uint8Array;
  /** Binary MD5 of `body`: the backend verifies the bytes against it (S3: Content-MD5). */
  md5: Uint8Array;
  /** User metadata to store with the object; keys are lower-cased by the backend. */
  metadata: Record<string, string>;
  /** Storage class; undefined = the backend's default. Backends without classes ignore it. */
  storageClass?: string | undefined;
  /**
   * Write only if no object exists at the key, as `OpenWriterInput.ifNoneMatch`: another
   * writer's object there fails the call with a CommitConflictError and stays. An object with
   * exactly these bytes (size and MD5 ETag) counts as this call's own, so a retry after a lost
   * answer succeeds.
   */
  ifNoneMatch?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** The bandwidth limit, as `WriteChunkInput.pace`. Undefined: no limit. */
  pace?: Pacer | undefined;
}

/** Resolves when `bytes` more may move (a TokenBucket's `take`); rejects when `signal` aborts. */
export type Pacer = (bytes: number, signal?: AbortSignal) => Promise<void>;

/** One place that stores objects under keys. */
export interface Backend {
  /** `s3`, `local`, `mem`, or a wrapper's name around it. */
  readonly kind: string;
  /** Where the objects live, for messages: `s3://bucket`, `/mnt/backup`. */
  readonly location: string;
  readonly limits: BackendLimits;
  readonly features: BackendFeatures;

  /** The object's size, ETag and metadata; undefined when the key does not exist (never throws for that). */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Every object whose key starts with `prefix` (no delimiter: keys in "sub-folders" too), all
   * pages, in lexical (UTF-8 byte) order. Objects being written are not listed.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject>;
  /**
   * Bytes [start, end] of `key`, exactly end - start + 1 of them (a short or long body is a
   * retryable error). A missing key is a StorageError with `isNotFound`; an object whose
   * ETag is not `ifMatch` (when given) is one that changed (see ReadRangeInput.ifMatch).
   */
  readRange(input: ReadRangeInput): Promise<Uint8Array>;
  /** Delete one object; a missing key is not an error. */
  remove(key: string): Promise<void>;
  /**
   * Write a whole object in one request and check it like `ChunkWriter.complete`; nothing is
   * visible under the key before it is all there. Safe to retry.
   */
  put(input: PutInput): Promise<CommittedObject>;
  /** Start writing an object in chunks. Each call starts a new write (not idempotent). */
  openWriter(input: OpenWriterInput): Promise<ChunkWriter>;
  /** Writes under `prefix` that were started and neither completed nor aborted. */
  listPending(prefix: string): Promise<PendingWrite[]>;
  /** Abort a pending write by key and id (for cleanup); a missing one is not an error. */
  abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void>;
  /**
   * The chunks of a pending write that were completely (and, where the backend can tell,
   * durably) written, all pages, sorted by number. A chunk being written when its writer died
   * is not listed. A write that is missing (never started, completed, aborted) is a StorageError
   * with `isNotFound`.
   */
  listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]>;
  /**
   * A writer for a pending write, typically one a killed run left: the same semantics as
   * `openWriter`'s (chunks written again replace those listed; `complete` commits 1..n of them
   * with the metadata of the first `openWriter` where the backend stored it then). Pass the
   * first call's inputs (`chunkSize` above all). A missing write fails here or at the first
   * call on the writer, with `isNotFound`.
   */
  resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter>;
}
