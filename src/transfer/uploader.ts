/**
 * The streaming multipart uploader, used by `pput` and in-process by `z3 backup`.
 *
 * Shape: one producer (src/transfer/part-reader.ts) fills reused pool buffers from the source;
 * `concurrency` workers pull parts from it, upload each with Content-MD5 and retries, and give
 * the buffer back. The object is committed last: only after all input was read, every part
 * uploaded and `beforeComplete` resolved; any failure before that aborts the multipart upload
 * and rethrows, so a failed or interrupted run leaves neither an object nor a pending upload.
 * After completion the server's ETag is checked against the one computed locally.
 */
import type { Readable } from 'node:stream';
import { IntegrityError, InternalError, StorageError, UsageError, Z3Error } from '../errors.js';
import type { CompletedPart, MultipartPort, ObjectStore } from '../storage/types.js';
import { md5, multipartEtag, normalizeEtag } from '../storage/etag.js';
import { PartPool } from './part-pool.js';
import {
  S3_LIMITS,
  chunkReader,
  raceAbort,
  readAhead,
  readParts,
  type ByteReader,
  type PartLimits,
} from './part-reader.js';
import { abortReason, withRetry, type RetryOptions } from '../storage/retry.js';

/** Where the uploaded bytes come from. */
export type UploadSource = AsyncIterable<Uint8Array> | Readable | ByteReader;

/** What the uploader needs of a store: the multipart calls, HEAD, and delete (for a bad ETag). */
export type UploadPort = MultipartPort & Pick<ObjectStore, 'delete'>;

export interface UploadStreamOptions {
  /**
   * The bytes to upload; read once, in order. A ByteReader (e.g. `fdReader`) reads straight into
   * the part buffers; chunks of an iterable are copied into them. A Readable is destroyed and a
   * ByteReader closed when the upload fails.
   */
  source: UploadSource;
  port: UploadPort;
  key: string;
  /** User metadata (`x-amz-meta-*`). */
  metadata: Record<string, string>;
  storageClass: string | undefined;
  /**
   * Bytes per part; every part but the last has exactly this size.
   *
   * Memory bound: at most `partSize × max(concurrency, 2)` bytes of part buffers, allocated
   * once and reused, plus the source's current chunk (none for a ByteReader) and a small
   * constant. Each buffer is either being uploaded or being filled: the next part is read as
   * soon as a worker frees a buffer, and reading stops while all are busy. Why not one more
   * buffer to read ahead while every worker uploads: with S3 the workers share one link, so a
   * worker briefly waiting for its refill costs little throughput, while the extra part is
   * often a fifth or more of pput's memory. At least 2, so one worker still overlaps reading
   * with uploading.
   */
  partSize: number;
  /** Parts uploaded at the same time (CONCURRENCY). */
  concurrency: number;
  /** Attempts per part, total (MAX_RETRIES); only retryable StorageErrors are retried. */
  maxRetries: number;
  /** Aborting stops reading, cancels parts in flight, aborts the upload and rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Told the size of each part once it is uploaded. */
  onProgress?: ((bytes: number) => void) | undefined;
  /**
   * The commit gate: awaited after all input was read and every part uploaded, before the
   * upload is completed. If it rejects, the upload is aborted and its rejection propagates
   * (`z3 backup` waits here until every pipeline stage exited 0).
   */
  beforeComplete?: (() => Promise<void>) | undefined;
  /** Backoff timing of part retries (tests shorten it). */
  retry?: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random' | 'onRetry'>;
  /** S3's part-count and object-size limits; only tests lower them. */
  limits?: PartLimits;
}

export interface UploadResult {
  /** Quoted multipart ETag, `"<hex>-<parts>"`, as computed locally and confirmed by HEAD. */
  etag: string;
  /** Bytes uploaded. */
  size: number;
  /** Number of parts. */
  parts: number;
  /** Part buffers allocated (at most max(concurrency, 2)). */
  buffersAllocated: number;
}

/** pput's zero-byte input; the message is the original tool's, exit code 1. */
export class EmptyUploadError extends InternalError {
  constructor() {
    super("Error: Can't upload zero bytes!");
  }
}

/** Abort attempts when cleaning up (abort is idempotent). */
const ABORT_ATTEMPTS = 3;

/** Upload `source` to `key` as one multipart upload; see the module comment for the guarantees. */
export async function uploadStream(options: UploadStreamOptions): Promise<UploadResult> {
  validate(options);
  options.signal?.throwIfAborted();
  const { port, key } = options;
  let uploadId: string;
  try {
    uploadId = await port.create({
      key,
      metadata: options.metadata,
      storageClass: options.storageClass,
    });
  } catch (err) {
    closeSource(options.source);
    throw err;
  }
  let sent: SentParts;
  let etag: string;
  try {
    sent = await sendParts(options, uploadId);
    if (sent.size === 0) throw new EmptyUploadError();
    if (options.beforeComplete !== undefined) {
      const gate = options.beforeComplete();
      await (options.signal ? raceAbort(gate, options.signal) : gate);
    }
    options.signal?.throwIfAborted();
    etag = multipartEtag(sent.md5s);
    await port.complete({ key, uploadId, parts: sent.parts });
  } catch (err) {
    throw await abortAfter(options, uploadId, err);
  }
  await verifyCommitted(options, etag, sent);
  return {
    etag,
    size: sent.size,
    parts: sent.parts.length,
    buffersAllocated: sent.buffersAllocated,
  };
}

interface SentParts {
  parts: CompletedPart[];
  md5s: Buffer[];
  size: number;
  buffersAllocated: number;
}

/**
 * Run the producer and the workers until the source ends or something fails. The first
 * failure (or the caller's abort) aborts `stop`, which cancels the reads, waits and requests
 * of everyone else; its reason is what this rejects with.
 */
async function sendParts(options: UploadStreamOptions, uploadId: string): Promise<SentParts> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) onAbort(); // aborted while the upload was being created
  const pool = new PartPool(options.partSize, partBuffers(options.concurrency));
  const reader = byteReader(options.source);
  const parts = readAhead(
    readParts({ source: reader, pool, stop: stop.signal, limits: options.limits ?? S3_LIMITS }),
  );
  const sent: SentParts = { parts: [], md5s: [], size: 0, buffersAllocated: 0 };
  const fail = (err: unknown): void => {
    if (!stop.signal.aborted) stop.abort(err);
  };

  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      const next = await parts.next();
      if (next.done === true) return;
      const { partNumber, buf, length } = next.value;
      try {
        const body = buf.subarray(0, length);
        const digest = md5(body);
        const partEtag = await withRetry(
          () =>
            options.port.uploadPart({
              key: options.key,
              uploadId,
              partNumber,
              body,
              md5Base64: digest.toString('base64'),
              signal: stop.signal,
            }),
          { ...options.retry, attempts: options.maxRetries, signal: stop.signal },
        );
        sent.parts.push({ partNumber, etag: partEtag });
        sent.md5s[partNumber - 1] = digest;
        sent.size += length;
        options.onProgress?.(length);
      } finally {
        pool.release(buf);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker().catch(fail)));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (stop.signal.aborted) {
    closeSource(options.source, reader);
    throw abortReason(stop.signal);
  }
  sent.parts.sort((a, b) => a.partNumber - b.partNumber);
  sent.buffersAllocated = pool.allocated;
  checkComplete(sent);
  return sent;
}

/** Every part from 1 to n was uploaded exactly once (a bug otherwise, never the user's fault). */
function checkComplete(sent: SentParts): void {
  const ok =
    sent.md5s.length === sent.parts.length &&
    sent.parts.every((p, i) => p.partNumber === i + 1 && sent.md5s[i] !== undefined);
  if (!ok) throw new InternalError(`uploaded parts are not numbered 1..${sent.parts.length}`);
}

/** How many part buffers an upload with `concurrency` workers uses; see `partSize`. */
export function partBuffers(concurrency: number): number {
  return Math.max(concurrency, 2);
}

function isByteReader(source: UploadSource): source is ByteReader {
  return typeof (source as Partial<ByteReader>).readInto === 'function';
}

function byteReader(source: UploadSource): ByteReader {
  if (isByteReader(source)) return source;
  return chunkReader((source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]());
}

/** Stop the source: a Readable is destroyed at once (a pending read may never finish). */
function closeSource(source: UploadSource, reader?: ByteReader): void {
  if ('destroy' in source && typeof source.destroy === 'function') {
    source.destroy();
    return;
  }
  if (isByteReader(source)) source.close();
  else reader?.close();
}

/**
 * Abort the upload after `cause` and return the error to throw: `cause` itself, or, if the abort
 * failed too, an error of the same exit code that says a pending upload is left behind.
 */
async function abortAfter(
  options: UploadStreamOptions,
  uploadId: string,
  cause: unknown,
): Promise<unknown> {
  const { port, key } = options;
  try {
    await withRetry(() => port.abort({ key, uploadId }), {
      ...options.retry,
      attempts: ABORT_ATTEMPTS,
    });
    return cause;
  } catch (abortErr) {
    const why = abortErr instanceof Error ? abortErr.message : String(abortErr);
    const what = cause instanceof Error ? cause.message : String(cause);
    return new Z3Error(
      `${what}; aborting the upload failed too: ${why}`,
      cause instanceof Z3Error ? cause.exitCode : 1,
      {
        cause,
        hint: `multipart upload ${uploadId} of ${key} is left pending and holds storage: abort it, or add a lifecycle rule that aborts incomplete uploads`,
      },
    );
  }
}

/**
 * HEAD the committed object: its ETag and size must be what was sent. Otherwise it is deleted,
 * so a corrupt object never looks like a valid backup, and an IntegrityError is thrown.
 */
async function verifyCommitted(
  options: UploadStreamOptions,
  etag: string,
  sent: SentParts,
): Promise<void> {
  const { port, key } = options;
  const info = await withRetry(() => port.head(key), {
    ...options.retry,
    attempts: options.maxRetries,
  });
  if (info === undefined) {
    throw new StorageError(`${key}: the object is missing right after its upload was completed`);
  }
  // The multipart ETag is an MD5 of part MD5s only where the server's part ETags are MD5s;
  // with SSE-KMS (AWS) or server-side encryption (MinIO) they are not, and every part was
  // already verified by Content-MD5: then only the size can be compared.
  const isEtagComparable = sent.parts.every(
    (p) => normalizeEtag(p.etag) === sent.md5s[p.partNumber - 1]?.toString('hex'),
  );
  const isEtagOk = !isEtagComparable || normalizeEtag(info.etag) === normalizeEtag(etag);
  if (isEtagOk && info.size === sent.size) return;
  await port.delete(key);
  throw new IntegrityError(
    `${key}: the server reports ETag ${info.etag || '(none)'} and ${info.size} bytes, ` +
      `expected ${etag} and ${sent.size} bytes; the object was deleted`,
  );
}

function validate(options: UploadStreamOptions): void {
  for (const [name, value] of [
    ['part size', options.partSize],
    ['concurrency', options.concurrency],
    ['retries', options.maxRetries],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new UsageError(`upload ${name} must be a positive integer, got ${value}`);
    }
  }
}
