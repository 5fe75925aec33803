/**
 * Parallel ranged download of one object, delivered strictly in order (z3_get, z3 restore).
 *
 * Why a generator: `concurrency` ranges are fetched at once, but the consumer pulls chunks one
 * by one in order; a slow consumer (a full pipe, `zfs receive`) stops the generator at its
 * `yield`, so no new range starts and memory stays bounded without any extra bookkeeping.
 *
 * Memory bound: at most `concurrency` ranges in flight or fetched-but-not-yet-delivered, plus the
 * one chunk the consumer holds: (concurrency + 1) × chunkSize.
 *
 * Why range buffers are reused when the sink allows it (`downloadObject` with `isSinkDone…`):
 * a fresh chunk-size buffer per range is external memory that V8 answers with a full garbage
 * collection almost every time (about 0.5 CPU-s per GiB at 16 MiB ranges, and a higher RSS).
 *
 * Every range carries the ETag of the initial stat (`ifMatch`), so an object replaced in the
 * middle of a download fails it instead of splicing two versions (where the backend reports
 * an ETag at all).
 *
 * What is not here, and why: retries. The backend comes wrapped in the one retry policy
 * (src/storage/wrappers/retrying.ts), which retries each range and the stat on its own.
 */
import { Readable, type Writable } from 'node:stream';
import { StorageError } from '../errors.js';
import type { Backend } from '../storage/backend.js';

export interface DownloadOptions {
  /** Where to read, already wrapped in the retry policy by the caller: each call is made once here. */
  backend: Backend;
  /** The full key; no prefix is applied. */
  key: string;
  /** Bytes per ranged GET (the last range may be shorter). */
  chunkSize: number;
  /** Ranges fetched at once; also the number of chunks buffered ahead of the consumer. */
  concurrency: number;
  /** Aborting stops issuing ranges, cancels those in flight and rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Called once with the object's size (from `stat`), before any byte is delivered. */
  onStart?: ((size: number) => void) | undefined;
  /** Called with the byte count of each chunk as it is delivered in order. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** How error messages name the object, e.g. `s3://bucket/key`; default the key. */
  displayName?: string | undefined;
  /**
   * True when the sink is done with a chunk once its write callback ran (a file, pipe, socket or
   * process.stdout), so the chunk's buffer may be reused for a later range. Never for a
   * Transform or PassThrough that passes the written chunk on. Default false.
   */
  isSinkDoneAtCallback?: boolean | undefined;
}

/** An object opened for download: its size from `stat` and its bytes, in order. */
export interface OpenedDownload {
  size: number;
  /** The object's bytes in order; iterate once. Stopping early cancels the ranges in flight. */
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Stat the object and return its size with a generator of its chunks. A missing key throws a
 * StorageError with `isNotFound` and the message `no such object <displayName>`.
 */
export function openDownload(options: DownloadOptions): Promise<OpenedDownload> {
  return openWith(options, undefined);
}

async function openWith(
  options: DownloadOptions,
  buffers: RangeBuffers | undefined,
): Promise<OpenedDownload> {
  validate(options);
  const name = options.displayName ?? options.key;
  const info = await options.backend.stat(options.key);
  if (info === undefined) {
    throw new StorageError(`no such object ${name}`, { isNotFound: true });
  }
  options.onStart?.(info.size);
  const version = { size: info.size, etag: info.etag };
  return { size: info.size, chunks: fetchInOrder(options, version, buffers) };
}

/**
 * Download the object into `sink`, in order, honouring the sink's backpressure. Resolves with
 * the byte count (equal to the stat size) once the last chunk was handed to the sink. On any
 * failure (a range, the sink, the signal) nothing more is written and it rejects. The sink is
 * neither ended nor destroyed: the caller owns it.
 */
export async function downloadObject(
  options: DownloadOptions & { sink: Writable },
): Promise<{ size: number }> {
  const { sink } = options;
  // A broken sink cancels the ranges in flight at once, not when the next chunk arrives.
  const sinkBroken = new AbortController();
  const signal =
    options.signal === undefined
      ? sinkBroken.signal
      : AbortSignal.any([options.signal, sinkBroken.signal]);
  const watcher = watchSink(sink, (error) => sinkBroken.abort(error));
  const buffers =
    options.isSinkDoneAtCallback === true ? new RangeBuffers(options.chunkSize) : undefined;
  try {
    const opened = await openWith({ ...options, signal }, buffers);
    for await (const chunk of opened.chunks) {
      watcher.check();
      const release = buffers === undefined ? undefined : once(() => buffers.give(chunk));
      if (!sink.write(chunk, release)) await watcher.drained(signal);
      // Nothing buffered: the sink wrote the chunk already (a file writes synchronously), but
      // Writable runs the callback on the next tick, after ranges that completed meanwhile
      // took buffers. Free it now, or every such range allocates a new one.
      else if (sink.writableLength === 0) release?.();
    }
    watcher.check();
    return { size: opened.size };
  } finally {
    watcher.dispose();
  }
}

/**
 * The object as a byte Readable, for in-process pipelines (download → decompressor → zfs
 * receive). A failure destroys the stream with the error; destroying it cancels the download.
 */
export function downloadStream(options: DownloadOptions): Readable {
  async function* all(): AsyncGenerator<Uint8Array, void, undefined> {
    const opened = await openDownload(options);
    yield* opened.chunks;
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1 });
}

/** The version being read: the stat's size and ETag (`""` when the backend has none). */
interface Version {
  size: number;
  etag: string;
}

/** The engine: keep `concurrency` ranges going, hand them out in order, stop at the first failure. */
async function* fetchInOrder(
  options: DownloadOptions,
  version: Version,
  buffers: RangeBuffers | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { size } = version;
  const ifMatch = version.etag !== '' ? version.etag : undefined;
  // One controller per range in flight, aborted from here. Why not one shared signal: the AWS
  // SDK adds an 'abort' listener per request, and more than 10 ranges on one signal made Node
  // print MaxListenersExceededWarning on every large download.
  const ranges = new RangeSignals();
  let failure: { error: unknown } | undefined;
  // Rejects the current wait. Why not Promise.race with one long-lived failure promise: every
  // race leaves a reaction on it that keeps that race's result, i.e. every chunk, reachable.
  let interruptWait: ((error: unknown) => void) | undefined;
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  let delivered = 0;

  const fail = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = { error };
    ranges.abortAll(error);
    interruptWait?.(error);
  };
  // The caller's abort ends the wait at once, even for a range that ignores its signal.
  const onAbort = (): void => fail(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const waitFor = (range: Promise<Uint8Array>): Promise<Uint8Array> =>
    new Promise<Uint8Array>((resolve, reject) => {
      if (failure !== undefined) throw failure.error;
      interruptWait = reject;
      range.then(resolve, reject);
    }).finally(() => {
      interruptWait = undefined;
    });

  const fill = (): void => {
    while (failure === undefined && next < size && pending.length < options.concurrency) {
      const start = next;
      const end = Math.min(start + options.chunkSize, size) - 1;
      next = end + 1;
      const { signal, release } = ranges.open();
      const range = fetchRange(options, { start, end, signal, buffers, ifMatch });
      range.then(release, release);
      // When the caller aborted, its reason (e.g. InterruptedError) is the error to report.
      range.catch((rangeError: unknown) =>
        fail(options.signal?.aborted === true ? options.signal.reason : rangeError),
      );
      pending.push(range);
    }
  };

  try {
    options.signal?.throwIfAborted();
    fill();
    for (let head = pending.shift(); head !== undefined; head = pending.shift()) {
      let chunk: Uint8Array;
      try {
        chunk = await waitFor(head);
      } catch (error) {
        throw failure?.error ?? error;
      }
      if (failure !== undefined) throw failure.error;
      options.signal?.throwIfAborted();
      delivered += chunk.byteLength;
      fill();
      options.onProgress?.(chunk.byteLength);
      yield chunk;
    }
    if (delivered !== size) {
      throw new StorageError(
        `download of ${options.displayName ?? options.key} delivered ${delivered} bytes, expected ${size}`,
      );
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Reached on success, failure, or the consumer stopping early: cancel whatever is left.
    ranges.abortAll(new Error('download stopped'));
  }
}

/** The abort controllers of the ranges in flight, so that a failure or stop cancels them all. */
class RangeSignals {
  private readonly live = new Set<AbortController>();
  private stopped: { reason: unknown } | undefined;

  /** A signal for one range, and `release` to call once the range settled. */
  open(): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    if (this.stopped !== undefined) controller.abort(this.stopped.reason);
    else this.live.add(controller);
    return { signal: controller.signal, release: () => void this.live.delete(controller) };
  }

  /** Abort every range in flight and every later one; only the first reason counts. */
  abortAll(reason: unknown): void {
    if (this.stopped !== undefined) return;
    this.stopped = { reason };
    for (const controller of this.live) controller.abort(reason);
    this.live.clear();
  }
}

/**
 * One range, exactly `end - start + 1` bytes long. The backend promises that length (and
 * retries a short body itself); a wrong length reaching here is checked once more, as a
 * non-retryable error, since no retry happens at this level.
 */
async function fetchRange(
  options: DownloadOptions,
  range: {
    start: number;
    end: number;
    signal: AbortSignal;
    buffers: RangeBuffers | undefined;
    ifMatch: string | undefined;
  },
): Promise<Uint8Array> {
  const { start, end, signal, ifMatch } = range;
  const expected = end - start + 1;
  const target = range.buffers?.take();
  const { key } = options;
  const body = await options.backend.readRange({ key, start, end, target, signal, ifMatch });
  if (body.byteLength !== expected) {
    throw new StorageError(
      `range ${start}-${end} of ${options.displayName ?? options.key}: ` +
        `got ${body.byteLength} bytes, expected ${expected}`,
    );
  }
  return body;
}

/**
 * Chunk-size buffers given back by the consumer, handed out again for later ranges. Not
 * bounded here: at most the ranges in flight plus the chunks the sink still holds exist.
 */
class RangeBuffers {
  private readonly free: ArrayBuffer[] = [];
  constructor(private readonly size: number) {}

  /** A free buffer of `size` bytes (contents undefined). */
  take(): Uint8Array {
    const buf = this.free.pop();
    return buf !== undefined ? new Uint8Array(buf) : Buffer.allocUnsafeSlow(this.size);
  }

  /** Give back a chunk handed out by `take` (or a prefix of one); call once per chunk. */
  give(chunk: Uint8Array): void {
    if (chunk.byteOffset === 0 && chunk.buffer.byteLength === this.size) {
      this.free.push(chunk.buffer as ArrayBuffer);
    }
  }
}

/** `fn`, callable any number of times, run the first time only. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function validate(options: DownloadOptions): void {
  for (const [name, value] of [
    ['chunkSize', options.chunkSize],
    ['concurrency', options.concurrency],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`download ${name} must be a positive integer, got ${value}`);
    }
  }
}

/**
 * Watch the sink for errors and early close while we write to it, so that a broken pipe stops
 * the download instead of buffering into a dead stream or waiting forever for 'drain'.
 */
function watchSink(
  sink: Writable,
  onBroken: (error: Error) => void,
): {
  check(): void;
  drained(signal: AbortSignal): Promise<void>;
  dispose(): void;
} {
  let problem: Error | undefined;
  const wakers = new Set<() => void>();
  const broke = (error: Error): void => {
    if (problem !== undefined) return;
    problem = error;
    onBroken(error);
    for (const wake of wakers) wake();
  };
  const onError = (err: Error): void => broke(err);
  const onClose = (): void =>
    broke(new Error('the output was closed before the download finished'));
  sink.on('error', onError);
  sink.on('close', onClose);
  const check = (): void => {
    if (problem === undefined && (sink.destroyed || sink.writableEnded)) onClose();
    if (problem !== undefined) throw problem;
  };
  return {
    check,
    drained(signal) {
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          wakers.delete(done);
          sink.off('drain', done);
          signal.removeEventListener('abort', done);
          if (problem !== undefined) reject(problem);
          else if (signal.aborted) reject(signal.reason as Error);
          else resolve();
        };
        wakers.add(done);
        sink.on('drain', done);
        signal.addEventListener('abort', done);
        if (problem !== undefined || signal.aborted) done();
      });
    },
    dispose() {
      sink.off('error', onError);
      sink.off('close', onClose);
    },
  };
}
