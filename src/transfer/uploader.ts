/**
 * The streaming chunked uploader, used by `pput` and in-process by `z3 backup`.
 *
 * Shape: one producer (src/transfer/part-reader.ts) fills reused pool buffers from the source;
 * `concurrency` workers pull parts from it, write each as a chunk of one backend writer (with
 * its MD5, which the backend verifies), and give the buffer back. The object is committed last:
 * only after all input was read, every chunk written and `beforeComplete` resolved; any failure
 * before that, or of the commit itself, aborts the writer and rethrows, so a failed or
 * interrupted run leaves neither an object nor a pending write — unless the caller keeps it
 * for a resume (`keepPending`; src/resume/). A resumed upload (`resume`) passes each part
 * through the verified skip rule (src/resume/part-skip.ts) as it is read, in order, before the
 * workers get it.
 *
 * What is not here, and why: retries (the backend comes wrapped in the one retry policy,
 * src/storage/wrappers/retrying.ts, so an attempt is never retried twice over), and the check of
 * the committed object (the backend's `complete` does it: only it knows its ETag rule).
 */
import { InternalError, UsageError, Z3Error } from '../errors.js';
import type { Backend, ChunkWriter, ListedChunk, WrittenChunk } from '../storage/backend.js';
import { PartSkipRule, type ResumeTally } from '../resume/part-skip.js';
import { abortReason } from '../storage/retry.js';
import { formatMiB } from '../config/sizes.js';
import { putWhole } from './single-put.js';
import { raceAbort, type FilledPart } from './part-reader.js';
import { prepend, startReading, type Reading, type UploadSource } from './upload-reading.js';

export type { UploadSource } from './upload-reading.js';
export { partBuffers } from './upload-reading.js';

export interface UploadStreamOptions {
  /**
   * The bytes to upload; read once, in order. A ByteReader (e.g. `fdReader`) reads straight into
   * the part buffers; chunks of an iterable are copied into them. A Readable is destroyed and a
   * ByteReader closed when the upload fails.
   */
  source: UploadSource;
  /**
   * Where to write, already wrapped in the retry policy by the caller (`openBackend`): every
   * call is made once here. Its `limits` bound the part size, the part count and the size.
   */
  backend: Backend;
  key: string;
  /** User metadata (S3: `x-amz-meta-*`). */
  metadata: Record<string, string>;
  /** Undefined = the backend's default class. */
  storageClass: string | undefined;
  /**
   * Bytes per part; every part but the last has exactly this size. Must lie within the
   * backend's `minPartSize` … `maxPartSize` (UsageError otherwise, before anything is read).
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
  /** Aborting stops reading, cancels parts in flight, aborts the write and rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Told the size of each part once it is written. */
  onProgress?: ((bytes: number) => void) | undefined;
  /**
   * The commit gate: awaited after all input was read and every part written, before the
   * write is completed. If it rejects, the write is aborted and its rejection propagates
   * (`z3 backup` waits here until every pipeline stage exited 0).
   */
  beforeComplete?: (() => Promise<void>) | undefined;
  /**
   * Commit only if no object is at the key (OpenWriterInput.ifNoneMatch): another writer's
   * object there fails the upload with a CommitConflictError (exit 3), leaves that object in
   * place and aborts this write. For `z3 backup`, where a key is written once; not for `pput`,
   * which may replace a key on purpose. Needs `backend.features.conditionalCommit`.
   */
  ifNoneMatch?: boolean | undefined;
  /**
   * Take up a pending write instead of opening one (src/resume/): its writer
   * (`backend.resumeWriter`) and the chunks the backend listed. Each part read is compared with
   * the listed chunk of its number; the verified ones are not sent again (part-skip.ts). A
   * resumed upload is always a chunked write, however short the stream.
   */
  resume?: { writer: ChunkWriter; chunks: readonly ListedChunk[] } | undefined;
  /** Awaited once a fresh chunked writer is open (`z3 backup` journals its id); not for a single put. */
  onOpened?: ((writer: ChunkWriter) => Promise<void>) | undefined;
  /** A failure for which this is true leaves the write pending (not aborted), for a resume. */
  keepPending?: ((err: unknown) => boolean) | undefined;
  /** Told each part once it is written, or kept from the server (`resumed`). */
  onPart?: ((part: { number: number; size: number; resumed: boolean }) => void) | undefined;
}

export interface UploadResult {
  /** The committed object's ETag, as the backend's `complete` confirmed it (quoted). */
  etag: string;
  /** Bytes uploaded. */
  size: number;
  /** Number of parts. */
  parts: number;
  /** Part buffers allocated (at most max(concurrency, 2)). */
  buffersAllocated: number;
  /** With `resume`: what was kept from the server instead of sent. */
  resumed?: ResumeTally | undefined;
}

/** pput's zero-byte input; the message is the original tool's, exit code 1. */
export class EmptyUploadError extends InternalError {
  constructor() {
    super("Error: Can't upload zero bytes!");
  }
}

/**
 * Upload `source` to `key`; see the module comment for the guarantees. A stream that ends within
 * its first part goes up in one request (single-put.ts), anything longer as one chunked write.
 */
export async function uploadStream(options: UploadStreamOptions): Promise<UploadResult> {
  validate(options);
  options.signal?.throwIfAborted();
  const skipRule = options.resume && new PartSkipRule(options.resume.chunks);
  const reading = startReading({ ...options, limits: options.backend.limits, skipRule });
  try {
    const first = await reading.parts.next();
    if (first.done === true) throw new EmptyUploadError();
    if (options.resume === undefined && first.value.length < options.partSize) {
      return await putOnce(options, reading, first.value);
    }
    const writer = options.resume?.writer ?? (await openWriter(options));
    const parts = prepend(first, reading.parts);
    const sent = await writeChunks(options, writer, { ...reading, parts });
    return { ...sent, resumed: skipRule?.tally() };
  } catch (err) {
    reading.stop.abort(err);
    reading.reader.close();
    // A taken-up write that failed before its chunks were sent (e.g. an empty stream) is
    // aborted like a fresh one, unless it is kept for the next run (abort is idempotent).
    if (options.resume !== undefined && options.keepPending?.(err) !== true) {
      await options.resume.writer.abort().catch(() => undefined);
    }
    throw err;
  } finally {
    reading.dispose();
  }
}

/** The whole stream in one request (single-put.ts). */
async function putOnce(
  options: UploadStreamOptions,
  reading: Reading,
  part: FilledPart,
): Promise<UploadResult> {
  const put = await putWhole({
    ...options,
    ifNoneMatch: options.ifNoneMatch,
    part,
    pool: reading.pool,
    hasher: reading.hasher,
    gate: () => passGate(options),
    signal: reading.stop.signal,
  });
  return { ...put, parts: 1, buffersAllocated: reading.pool.allocated };
}

/** Open the chunked write of `options.key`. */
function openWriter(options: UploadStreamOptions): Promise<ChunkWriter> {
  return options.backend.openWriter({
    key: options.key,
    metadata: options.metadata,
    storageClass: options.storageClass,
    chunkSize: options.partSize,
    ifNoneMatch: options.ifNoneMatch,
  });
}

/** Send every part through `writer`, pass the gate, commit; abort the write on any failure. */
async function writeChunks(
  options: UploadStreamOptions,
  writer: ChunkWriter,
  reading: Reading,
): Promise<UploadResult> {
  try {
    if (options.resume === undefined) await options.onOpened?.(writer);
    const sent = await sendParts(options, writer, reading);
    await passGate(options);
    const committed = await writer.complete(sent.chunks);
    return {
      etag: committed.etag,
      size: sent.size,
      parts: sent.chunks.length,
      buffersAllocated: sent.buffersAllocated,
    };
  } catch (err) {
    if (options.keepPending?.(err) === true) throw err;
    throw await abortAfter(writer, err);
  }
}

/** Await the commit gate (`beforeComplete`), racing the caller's abort. */
async function passGate(options: UploadStreamOptions): Promise<void> {
  if (options.beforeComplete !== undefined) {
    const gate = options.beforeComplete();
    await (options.signal ? raceAbort(gate, options.signal) : gate);
  }
  options.signal?.throwIfAborted();
}

interface SentParts {
  /** Sorted by number. */
  chunks: WrittenChunk[];
  size: number;
  buffersAllocated: number;
}

/**
 * Run the workers until the source ends or something fails. The first failure (or the caller's
 * abort) aborts `reading.stop`, which cancels the reads, waits and requests of everyone else;
 * its reason is what this rejects with.
 */
async function sendParts(
  options: UploadStreamOptions,
  writer: ChunkWriter,
  reading: Reading,
): Promise<SentParts> {
  const { stop, pool, parts, hasher } = reading;
  const sent: SentParts = { chunks: [], size: 0, buffersAllocated: 0 };
  const fail = (err: unknown): void => {
    if (!stop.signal.aborted) stop.abort(err);
  };

  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      const next = await parts.next();
      if (next.done === true) return;
      const { partNumber, buf, length, kept, digest } = next.value;
      try {
        const body = buf.subarray(0, length);
        const chunk = { number: partNumber, body, signal: stop.signal };
        // a resumed part was hashed with MD5 to compare it with the listed one (part-skip.ts)
        const check =
          digest !== undefined || writer.digest === 'md5'
            ? { md5: digest ?? (await hasher.digest(body, 'md5')) }
            : { sha256: await hasher.digest(body, 'sha256') };
        sent.chunks.push(kept ?? (await writer.writeChunk({ ...chunk, ...check })));
        sent.size += length;
        options.onProgress?.(length);
        options.onPart?.({ number: partNumber, size: length, resumed: kept !== undefined });
      } finally {
        pool.release(buf);
      }
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, () => worker().catch(fail)));
  if (stop.signal.aborted) throw abortReason(stop.signal);
  sent.chunks.sort((a, b) => a.number - b.number);
  sent.buffersAllocated = pool.allocated;
  checkComplete(sent.chunks);
  return sent;
}

/** Every part from 1 to n was written exactly once (a bug otherwise, never the user's fault). */
function checkComplete(chunks: readonly WrittenChunk[]): void {
  if (!chunks.every((c, i) => c.number === i + 1)) {
    throw new InternalError(`written parts are not numbered 1..${chunks.length}`);
  }
}

/**
 * Abort the write after `cause` and return the error to throw: `cause` itself, or, if the abort
 * failed too (after the backend's retries), an error of the same exit code that says a pending
 * write is left behind.
 */
async function abortAfter(writer: ChunkWriter, cause: unknown): Promise<unknown> {
  try {
    await writer.abort();
    return cause;
  } catch (abortErr) {
    const why = abortErr instanceof Error ? abortErr.message : String(abortErr);
    const what = cause instanceof Error ? cause.message : String(cause);
    return new Z3Error(
      `${what}; aborting the upload failed too: ${why}`,
      cause instanceof Z3Error ? cause.exitCode : 1,
      {
        cause,
        hint: `multipart upload ${writer.id} of ${writer.key} is left pending and holds storage: abort it, or add a lifecycle rule that aborts incomplete uploads`,
      },
    );
  }
}

function validate(options: UploadStreamOptions): void {
  for (const [name, value] of [
    ['part size', options.partSize],
    ['concurrency', options.concurrency],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new UsageError(`upload ${name} must be a positive integer, got ${value}`);
    }
  }
  const { minPartSize, maxPartSize } = options.backend.limits;
  const { partSize } = options;
  if (partSize < minPartSize || partSize > maxPartSize) {
    throw new UsageError(
      `part size ${formatMiB(partSize)}M (${partSize} bytes) is outside the limits of ` +
        `${options.backend.location}: ${minPartSize} to ${maxPartSize} bytes`,
      { hint: 'choose a --chunk-size / CHUNK_SIZE within them' },
    );
  }
}
