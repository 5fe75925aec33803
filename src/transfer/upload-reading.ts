/**
 * The reading side of one upload (src/transfer/uploader.ts): the source as a ByteReader, the
 * part buffers, the parts read from it (one read ahead), and the MD5 threads that hash them. One
 * stop signal ties them together: the first failure or the caller's abort cancels every read and
 * wait.
 */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { skipVerifiedParts, type CheckedPart, type PartSkipRule } from '../resume/part-skip.js';
import type { BackendLimits } from '../storage/backend.js';
import { createDigestPool, type DigestPool } from './digest-pool.js';
import { PartPool } from './part-pool.js';
import { chunkReader, readAhead, readParts, type ByteReader } from './part-reader.js';

/** Where the uploaded bytes come from. */
export type UploadSource = AsyncIterable<Uint8Array> | Readable | ByteReader;

export interface ReadingOptions {
  source: UploadSource;
  partSize: number;
  concurrency: number;
  limits: BackendLimits;
  /** The caller's abort: aborts `stop` with its reason. */
  signal?: AbortSignal | undefined;
  /**
   * A resumed upload's rule (src/resume/part-skip.ts): each part is checked as it is read, in
   * order, and one the server holds verified carries `kept` (and its `digest`).
   */
  skipRule?: PartSkipRule | undefined;
}

/** The reading side of one upload: parts from the source into pool buffers, and their hashing. */
export interface Reading {
  /** Aborted by the first failure or the caller's abort: cancels reads, waits and requests. */
  stop: AbortController;
  pool: PartPool;
  reader: ByteReader;
  parts: { next(): Promise<IteratorResult<CheckedPart>> };
  hasher: DigestPool;
  /** Stop listening to the caller's signal and stop the hashing threads. */
  dispose(): void;
}

export function startReading(options: ReadingOptions): Reading {
  const stop = new AbortController();
  // every worker's request, read and wait listens to it: 10 listeners is no leak here
  setMaxListeners(0, stop.signal);
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const pool = new PartPool(options.partSize, partBuffers(options.concurrency));
  const reader = sourceReader(options.source);
  const limits = options.limits;
  const filled = readParts({ source: reader, pool, stop: stop.signal, limits });
  const { skipRule } = options;
  const parts = readAhead<CheckedPart>(skipRule ? skipVerifiedParts(filled, skipRule) : filled);
  const hasher = createDigestPool();
  const dispose = (): void => {
    options.signal?.removeEventListener('abort', onAbort);
    hasher.close();
  };
  return { stop, pool, reader, parts, hasher, dispose };
}

/** `first`, then the rest of `rest`. */
export function prepend<T>(
  first: IteratorResult<T>,
  rest: { next(): Promise<IteratorResult<T>> },
): { next(): Promise<IteratorResult<T>> } {
  let head: IteratorResult<T> | undefined = first;
  return {
    next() {
      const r = head;
      head = undefined;
      return r !== undefined ? Promise.resolve(r) : rest.next();
    },
  };
}

/** How many part buffers an upload with `concurrency` workers uses; see `partSize`. */
export function partBuffers(concurrency: number): number {
  return Math.max(concurrency, 2);
}

function isByteReader(source: UploadSource): source is ByteReader {
  return typeof (source as Partial<ByteReader>).readInto === 'function';
}

/**
 * The source as a ByteReader whose `close` stops the source: a Readable is destroyed at once (a
 * pending read may never finish), an iterator is ended, a ByteReader closed.
 */
export function sourceReader(source: UploadSource): ByteReader {
  if (isByteReader(source)) return source;
  const reader = chunkReader(source[Symbol.asyncIterator]());
  if (!('destroy' in source) || typeof source.destroy !== 'function') return reader;
  return {
    readInto: (buf, offset, length) => reader.readInto(buf, offset, length),
    close: () => source.destroy(),
  };
}
