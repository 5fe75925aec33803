/**
 * The producer side of the uploader: one async generator that reads the source into pool
 * buffers, one part at a time, and that every upload worker pulls from.
 *
 * Why a pull-based generator: reading happens only when a worker asks for the next part (plus
 * one part read ahead, see `readAhead`) and a pool buffer is free, so when every worker is busy
 * the source is not read at all — the kernel pipe fills and `zfs send` waits. Backpressure
 * without a queue.
 */
import { InternalError, StorageError, UsageError, Z3Error } from '../errors.js';
import { formatMiB } from '../config/sizes.js';
import type { BackendLimits } from '../storage/backend.js';
import type { PartPool } from './part-pool.js';
import { abortReason } from '../storage/retry.js';

/** One filled part: `buf` belongs to the pool; bytes [0, length) are the part. */
export interface FilledPart {
  partNumber: number;
  buf: Uint8Array;
  length: number;
}

/**
 * A source that reads into the caller's buffer: a file descriptor reads straight into the part
 * buffer (no intermediate chunk, no copy); an async iterable is adapted by `chunkReader`.
 */
export interface ByteReader {
  /**
   * Read up to `length` (> 0) bytes into `buf` at `offset`; resolves the count, 0 only at the
   * end of the input. One call at a time.
   */
  readInto(buf: Uint8Array, offset: number, length: number): Promise<number>;
  /** Stop reading and release the source; safe to call twice. A pending read may still end. */
  close(): void;
}

export interface ReadPartsInput {
  source: ByteReader;
  pool: PartPool;
  /** Aborting makes a pending read reject with `stop.reason`. */
  stop: AbortSignal;
  /** The backend's; only `maxParts` and `maxObjectSize` are checked here. */
  limits: Pick<BackendLimits, 'maxParts' | 'maxObjectSize'>;
}

/**
 * Fill pool buffers from `source` and yield them as parts numbered from 1. The last part may be
 * short; empty input yields nothing. Throws before the backend's limits are crossed: when a byte beyond
 * `maxParts` full parts arrives (UsageError) or the total exceeds `maxObjectSize` (StorageError).
 */
export async function* readParts(input: ReadPartsInput): AsyncGenerator<FilledPart, void> {
  const { pool, stop, limits } = input;
  const partSize = pool.partSize;
  let partNumber = 0;
  let total = 0;
  for (;;) {
    const buf = await pool.acquire(stop);
    let filled = 0;
    try {
      while (filled < partSize) {
        const n = await readSome(input, buf, filled);
        if (n === 0) break;
        if (partNumber >= limits.maxParts) throw tooManyParts(limits, partSize);
        total += n;
        if (total > limits.maxObjectSize) throw objectTooLarge(limits);
        filled += n;
      }
    } catch (err) {
      pool.release(buf);
      throw err;
    }
    if (filled === 0) {
      pool.release(buf);
      return;
    }
    partNumber += 1;
    yield { partNumber, buf, length: filled };
    if (filled < partSize) return;
  }
}

/** The next bytes into `buf` at `offset`, 0 at the end; a source error becomes a one-line Z3Error. */
async function readSome(input: ReadPartsInput, buf: Uint8Array, offset: number): Promise<number> {
  const { source, stop, pool } = input;
  try {
    return await raceAbort(source.readInto(buf, offset, pool.partSize - offset), stop);
  } catch (err) {
    if (stop.aborted) throw abortReason(stop);
    if (err instanceof Z3Error) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new InternalError(`reading the input failed: ${why}`, { cause: err });
  }
}

/**
 * Adapt an async iterator of chunks (a child's stdout, a Readable) to a ByteReader: each chunk
 * is copied into the caller's buffer, split where the buffer ends, the rest kept for the next
 * read. `close` ends the iterator (its `return`).
 */
export function chunkReader(source: AsyncIterator<Uint8Array>): ByteReader {
  let chunk: Uint8Array | undefined;
  let offset = 0;
  return {
    async readInto(buf, at, length) {
      while (chunk === undefined || offset === chunk.byteLength) {
        const r = await source.next();
        if (r.done === true) return 0;
        chunk = r.value;
        offset = 0;
      }
      const n = Math.min(length, chunk.byteLength - offset);
      buf.set(chunk.subarray(offset, offset + n), at);
      offset += n;
      return n;
    },
    close() {
      source.return?.().catch(() => undefined);
    },
  };
}

function tooManyParts(limits: ReadPartsInput['limits'], partSize: number): UsageError {
  return new UsageError(
    `the input needs more than ${limits.maxParts} parts of ${formatMiB(partSize)}M, ` +
      `the storage's limit per upload; the upload was aborted`,
    {
      hint: 'use a larger part size: pput --estimated <bytes> or a larger --chunk-size / CHUNK_SIZE',
    },
  );
}

function objectTooLarge(limits: ReadPartsInput['limits']): StorageError {
  return new StorageError(
    `the input exceeds ${limits.maxObjectSize} bytes, the storage's object size limit; ` +
      `the upload was aborted`,
    { hint: 'split the data or compress it better; the storage cannot hold it in one object' },
  );
}

/**
 * Wrap an iterator so that, as soon as one result is handed out, the next one is already being
 * produced: the source is read while the workers upload. At most one result is in flight ahead
 * (it waits for a free pool buffer, so it adds no memory). Concurrent callers are served in order.
 */
export function readAhead<T>(source: AsyncIterator<T>): { next(): Promise<IteratorResult<T>> } {
  let ahead: Promise<IteratorResult<T>> | undefined;
  return {
    next(): Promise<IteratorResult<T>> {
      const current = ahead ?? source.next();
      ahead = current.then((r) => (r.done === true ? r : source.next()));
      // Observed here so a failure nobody asks for again is not an unhandled rejection.
      ahead.catch(() => undefined);
      return current;
    },
  };
}

/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
