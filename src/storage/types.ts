/**
 * The storage ports. The AWS SDK is imported only under src/storage/s3/; everything else
 * (uploader, downloader, commands) depends on these small interfaces, so tests can script a
 * fake port for fault injection and the real path runs against a real S3 server.
 */

/** What HEAD (or a listing + HEAD) tells about one object. */
export interface ObjectInfo {
  key: string;
  /** Content length in bytes. */
  size: number;
  /** ETag with its quotes, as the server reports it (may be empty on some servers). */
  etag: string;
  /** User metadata (`x-amz-meta-*` without the prefix), keys lower-case. */
  metadata: Record<string, string>;
}

/** One entry of a listing (no user metadata: fetch that with `head`). */
export interface ListedObject {
  key: string;
  size: number;
  /** ETag with its quotes, as listed (may be empty on some servers). */
  etag: string;
  /** Last-Modified as an ISO 8601 string (`""` when the server gives none). */
  lastModified: string;
}

export interface CreateMultipartInput {
  key: string;
  metadata: Record<string, string>;
  storageClass: string | undefined;
}

export interface UploadPartInput {
  key: string;
  uploadId: string;
  /** 1-based. */
  partNumber: number;
  body: Uint8Array;
  /** Base64 MD5 of body, sent as Content-MD5 so the server verifies the bytes. */
  md5Base64: string;
  signal?: AbortSignal;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/**
 * Multipart upload port (S3 semantics). Errors are StorageError with `isRetryable` set where
 * they arise (5xx, throttling, resets, timeouts → retryable).
 */
export interface MultipartPort {
  /** Start an upload; returns the upload id. Not idempotent: each call starts a new upload. */
  create(input: CreateMultipartInput): Promise<string>;
  /** Upload one part; returns the part's ETag. Safe to call again for the same part number. */
  uploadPart(input: UploadPartInput): Promise<string>;
  /** Commit the upload: the object becomes visible. Called only after every check passed. */
  complete(input: { key: string; uploadId: string; parts: CompletedPart[] }): Promise<void>;
  /** Abort the upload and free its parts. Safe to call twice; a missing upload is not an error. */
  abort(input: { key: string; uploadId: string }): Promise<void>;
  /** HEAD the object; undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
}

/** Read side of the object store. */
export interface ObjectReader {
  /** HEAD; undefined when the key does not exist (never throws for not-found). */
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Optional: `head` tuned for many calls in a row (the metadata of a listing), same contract.
   * Callers use it when present and fall back to `head`.
   */
  headBulk?(key: string): Promise<ObjectInfo | undefined>;
  /** Bytes [start, end] inclusive of `key`. Throws StorageError (isNotFound for a missing key). */
  getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** Every object under `prefix` (all pages, no delimiter), in the server's (lexical) order. */
  list(prefix: string): AsyncIterable<ListedObject>;
}

/** Everything the commands need of a bucket. */
export interface ObjectStore extends ObjectReader, MultipartPort {
  /** Delete one object; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Pending multipart uploads under `prefix` (for cleanup and tests). */
  listMultipartUploads(prefix: string): Promise<{ key: string; uploadId: string }[]>;
}
