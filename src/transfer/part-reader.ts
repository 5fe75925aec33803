/**
 * The producer side of the uploader: one async generator that reads the source into pool
 * buffers, one part at a time, and that every upload worker pulls from.
 *
 * Why a pull-based generator: reading happens only when a worker asks for the next part (plus
 * one part read ahead, see `readAhead`), so when every worker is busy the source is not read at
 * all — the kernel pipe fills and `zfs send` waits. Backpressure without a queue.
 */
import { InternalError, StorageError, UsageError, Z3Error } from '../errors.js';
import { formatMiB } from '../config/sizes.js';
import { MAX_OBJECT_SIZE, MAX_PARTS } from './part-size.js';
import type { PartPool } from './part-pool.js';
import { abortReason } from './retry.js';

/** One filled part: `buf` belongs to the pool; bytes [0, length) are the part. */
export interface FilledPart {
  partNumber: number;
  buf: Uint8Array;
  length: number;
}

export interface PartLimits {
  /** S3's 10,000 parts per upload. */
  maxParts: number;
  /** S3's 5 TiB per object. */
  maxObjectSize: number;
}

export const S3_LIMITS: PartLimits = { maxParts: MAX_PARTS, maxObjectSize: MAX_OBJECT_SIZE };

export interface ReadPartsInput {
  source: AsyncIterator<Uint8Array>;
  pool: PartPool;
  /** Aborting makes a pending read reject with `stop.reason`. */
  stop: AbortSignal;
  limits: PartLimits;
}

/**
 * Fill pool buffers from `source` and yield them as parts numbered from 1; each incoming chunk
 * is copied with `buf.set` and split across part boundaries. The last part may be short; empty
 * input yields nothing. Throws before the S3 limits are crossed: when a byte beyond
 * `maxParts` full parts arrives (UsageError) or the total exceeds `maxObjectSize` (StorageError).
 */
export async function* readParts(input: ReadPartsInput): AsyncGenerator<FilledPart, void> {
  const { pool, stop, limits } = input;
  const partSize = pool.partSize;
  let buf: Uint8Array | undefined;
  let filled = 0;
  let partNumber = 0;
  let total = 0;
  for (;;) {
    const chunk = await nextChunk(input.source, stop);
    if (chunk === undefined) break;
    total += chunk.byteLength;
    if (total > limits.maxObjectSize) throw objectTooLarge(limits);
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (buf === undefined) {
        if (partNumber >= limits.maxParts) throw tooManyParts(limits, partSize);
        buf = await pool.acquire(stop);
        filled = 0;
      }
      const n = Math.min(chunk.byteLength - offset, partSize - filled);
      buf.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === partSize) {
        partNumber += 1;
        const full = buf;
        buf = undefined;
        yield { partNumber, buf: full, length: partSize };
      }
    }
  }
  if (buf !== undefined) {
    partNumber += 1;
    yield { partNumber, buf, length: filled };
  }
}

/** The next chunk, undefined at the end; a source error becomes a one-line Z3Error. */
async function nextChunk(
  source: AsyncIterator<Uint8Array>,
  stop: AbortSignal,
): Promise<Uint8Array | undefined> {
  try {
    const r = await raceAbort(source.next(), stop);
    return r.done === true ? undefined : r.value;
  } catch (err) {
    if (stop.aborted) throw abortReason(stop);
    if (err instanceof Z3Error) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new InternalError(`reading the input failed: ${why}`, { cause: err });
  }
}

function tooManyParts(limits: PartLimits, partSize: number): UsageError {
  return new UsageError(
    `the input needs more than ${limits.maxParts} parts of ${formatMiB(partSize)}M, ` +
      `the S3 limit per upload; the upload was aborted`,
    {
      hint: 'use a larger part size: pput --estimated <bytes> or a larger --chunk-size / CHUNK_SIZE',
    },
  );
}

function objectTooLarge(limits: PartLimits): StorageError {
  return new StorageError(
    `the input exceeds ${limits.maxObjectSize} bytes (5 TiB), the S3 object size limit; ` +
      `the upload was aborted`,
    { hint: 'split the data or compress it better; S3 cannot store it in one object' },
  );
}

/**
 * Wrap an iterator so that, as soon as one result is handed out, the next one is already being
 * produced: the source is read while the workers upload. At most one result is in flight ahead,
 * which is the `+ 1` of the uploader's memory bound. Concurrent callers are served in order.
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
