import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import type { ListedObject, ObjectInfo, ObjectReader } from '../storage/types.js';
import { downloadObject, downloadStream, type DownloadOptions } from './downloader.js';

interface RangeCall {
  start: number;
  end: number;
  /** 0-based index of the range (start / chunkSize). */
  index: number;
  /** 1-based attempt for this range. */
  attempt: number;
}

/**
 * A scripted ObjectReader over an in-memory object. `script` runs inside each getRange before
 * the bytes are returned: it may wait (out-of-order completion), throw (faults), or return a
 * replacement body (short reads).
 */
class FakeReader implements ObjectReader {
  readonly calls: RangeCall[] = [];
  readonly completed: number[] = [];
  /** Every body handed out, weakly: a delivered chunk must become garbage. */
  readonly bodies: WeakRef<Uint8Array>[] = [];
  aborted = 0;
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly data: Uint8Array | undefined,
    private readonly chunkSize: number,
    private readonly script: (
      call: RangeCall,
    ) => Promise<Uint8Array | void> | Uint8Array | void = () => undefined,
  ) {}

  head(key: string): Promise<ObjectInfo | undefined> {
    if (this.data === undefined) return Promise.resolve(undefined);
    return Promise.resolve({ key, size: this.data.byteLength, etag: '"x"', metadata: {} });
  }

  async getRange(_key: string, start: number, end: number, signal?: AbortSignal) {
    const index = Math.floor(start / this.chunkSize);
    const call = {
      start,
      end,
      index,
      attempt: this.calls.filter((c) => c.index === index).length + 1,
    };
    this.calls.push(call);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const onAbort = (): void => {
      this.aborted += 1;
    };
    signal?.addEventListener('abort', onAbort);
    try {
      const replaced = await this.script(call);
      signal?.throwIfAborted();
      this.completed.push(index);
      const body = replaced ?? (this.data ?? new Uint8Array()).subarray(start, end + 1);
      this.bodies.push(new WeakRef(body));
      return body;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.inFlight -= 1;
    }
  }

  async *list(): AsyncIterable<ListedObject> {
    /* not used by the downloader */
  }
}

/** A Writable that keeps what it gets; optionally slow, with a small buffer. */
function collectingSink(options: { delayMs?: number; highWaterMark?: number } = {}) {
  const chunks: Buffer[] = [];
  let writesWhileFull = 0;
  const sink = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (options.delayMs === undefined) cb();
      else setTimeout(cb, options.delayMs);
    },
  });
  const write = sink.write.bind(sink) as (chunk: Uint8Array) => boolean;
  sink.write = ((chunk: Uint8Array) => {
    if (sink.writableNeedDrain) writesWhileFull += 1;
    return write(chunk);
  }) as typeof sink.write;
  return {
    sink,
    bytes: () => Buffer.concat(chunks),
    count: () => chunks.length,
    writesWhileFull: () => writesWhileFull,
  };
}

const CHUNK = 100;

function opts(reader: ObjectReader, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return {
    reader,
    key: 'k',
    chunkSize: CHUNK,
    concurrency: 4,
    maxRetries: 3,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2,
    ...extra,
  };
}

/** A FakeReader with the RangeIntoReader capability: copies each range into the given buffer. */
class IntoReader extends FakeReader {
  readonly targets = new Set<ArrayBufferLike>();
  async getRangeInto(input: {
    key: string;
    start: number;
    end: number;
    target: Uint8Array;
    signal?: AbortSignal | undefined;
  }): Promise<Uint8Array> {
    this.targets.add(input.target.buffer);
    const body = await this.getRange(input.key, input.start, input.end, input.signal);
    input.target.set(body);
    return input.target.subarray(0, body.byteLength);
  }
}

/** A slow sink done with each chunk at its write callback (it copies the bytes); no buffer. */
function copyingSink(delayMs: number): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      setTimeout(cb, delayMs);
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

describe('range buffer reuse', () => {
  it('reuses range buffers when the sink is done at the callback, bytes intact', async () => {
    const data = randomBytes(CHUNK * 20 + 37);
    const reader = new IntoReader(data, CHUNK, async ({ index }) => {
      await sleep([3, 0, 2, 1][index % 4] ?? 0);
    });
    const out = copyingSink(1);
    await downloadObject({ ...opts(reader), sink: out.sink, isSinkDoneAtCallback: true });
    // The sink owns what it buffered: let it write the rest, then compare.
    await new Promise<void>((resolve) => out.sink.end(resolve));
    expect(out.bytes().equals(data)).toBe(true);
    // 21 ranges through at most concurrency + the chunks the sink still holds.
    expect(reader.targets.size).toBeLessThanOrEqual(4 + 2);
  });

  it('never hands a buffer back without the flag (a sink may keep the chunk)', async () => {
    const data = randomBytes(CHUNK * 6);
    const reader = new IntoReader(data, CHUNK);
    const out = collectingSink();
    await downloadObject({ ...opts(reader), sink: out.sink });
    expect(out.bytes().equals(data)).toBe(true);
    expect(reader.targets.size).toBe(0);
  });
});

describe('downloadObject', () => {
  it('writes chunks in order although they complete out of order', async () => {
    const data = randomBytes(CHUNK * 12 + 37);
    const reader = new FakeReader(data, CHUNK, async ({ index }) => {
      await sleep([9, 1, 5, 0, 7, 3][index % 6] ?? 0);
    });
    const out = collectingSink();
    const progress: number[] = [];
    const { size } = await downloadObject({
      ...opts(reader),
      sink: out.sink,
      onProgress: (n) => progress.push(n),
    });
    expect(size).toBe(data.byteLength);
    expect(out.bytes().equals(data)).toBe(true);
    expect(reader.completed).not.toEqual([...reader.completed].sort((a, b) => a - b));
    expect(reader.calls.map((c) => [c.start, c.end]).at(-1)).toEqual([1200, 1236]);
    expect(progress.reduce((a, b) => a + b, 0)).toBe(data.byteLength);
  });

  it('retries a range that fails with a transient error', async () => {
    const data = randomBytes(CHUNK * 5);
    const reader = new FakeReader(data, CHUNK, ({ index, attempt }) => {
      if (index === 2 && attempt <= 2) {
        throw new StorageError('503 slow down', { isRetryable: true });
      }
    });
    const out = collectingSink();
    await downloadObject({ ...opts(reader), sink: out.sink });
    expect(out.bytes().equals(data)).toBe(true);
    expect(reader.calls.filter((c) => c.index === 2)).toHaveLength(3);
  });

  it('retries a short body and fails when it stays short', async () => {
    const data = randomBytes(CHUNK * 3);
    const reader = new FakeReader(data, CHUNK, ({ index }) =>
      index === 1 ? new Uint8Array(CHUNK - 1) : undefined,
    );
    const out = collectingSink();
    const done = downloadObject({ ...opts(reader), sink: out.sink });
    await expect(done).rejects.toThrow(/range 100-199 of k: got 99 bytes, expected 100/);
    expect(reader.calls.filter((c) => c.index === 1)).toHaveLength(3);
    expect(out.bytes().equals(data.subarray(0, CHUNK))).toBe(true);
  });

  it('stops at a permanent failure: rejects, issues no more ranges, writes nothing more', async () => {
    const data = randomBytes(CHUNK * 20);
    const permanent = new StorageError('403 access denied');
    const reader = new FakeReader(data, CHUNK, async ({ index }) => {
      if (index === 3) throw permanent;
      await sleep(index === 2 ? 30 : 2); // range 2 is still running when 3 fails
    });
    const out = collectingSink();
    await expect(downloadObject({ ...opts(reader), sink: out.sink })).rejects.toBe(permanent);
    const callsAtFailure = reader.calls.length;
    const written = out.bytes();
    await sleep(60);
    expect(reader.calls.length).toBe(callsAtFailure);
    expect(reader.calls.filter((c) => c.index === 3)).toHaveLength(1); // not retried
    expect(Math.max(...reader.calls.map((c) => c.index))).toBeLessThan(8);
    expect(reader.aborted).toBeGreaterThan(0); // range 2 was cancelled
    expect(written.byteLength).toBeLessThanOrEqual(2 * CHUNK);
    expect(written.equals(data.subarray(0, written.byteLength))).toBe(true);
    expect(out.bytes().equals(written)).toBe(true);
  });

  it('rejects at once when a later range fails while an earlier one hangs', async () => {
    const data = randomBytes(CHUNK * 10);
    let release = (): void => undefined;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    const reader = new FakeReader(data, CHUNK, async ({ index }) => {
      if (index === 0) await hanging; // ignores cancellation
      if (index === 2) throw new StorageError('404 gone', { isNotFound: true });
    });
    const out = collectingSink();
    const started = Date.now();
    await expect(downloadObject({ ...opts(reader), sink: out.sink })).rejects.toThrow('404 gone');
    expect(Date.now() - started).toBeLessThan(1000);
    release();
    await sleep(5);
    expect(out.count()).toBe(0);
  });

  it('keeps at most `concurrency` ranges ahead of a slow sink', async () => {
    const data = randomBytes(CHUNK * 30);
    const reader = new FakeReader(data, CHUNK, () => sleep(1).then(() => undefined));
    const out = collectingSink({ delayMs: 3, highWaterMark: 1 });
    let maxAhead = 0;
    const check = setInterval(() => {
      maxAhead = Math.max(maxAhead, reader.calls.length - out.count());
    }, 1);
    await downloadObject({ ...opts(reader, { concurrency: 3 }), sink: out.sink });
    clearInterval(check);
    expect(out.bytes().equals(data)).toBe(true);
    expect(reader.maxInFlight).toBe(3);
    // 3 fetched or in flight, plus the one handed to the sink.
    expect(maxAhead).toBeLessThanOrEqual(3 + 1);
  });

  it('does not retain chunks already written (memory stays bounded)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const data = randomBytes(CHUNK * 40);
    const reader = new FakeReader(data, CHUNK);
    let writes = 0;
    let aliveEarly = -1;
    const sink = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        writes += 1;
        if (writes !== 30) return void cb();
        // Halfway: collect garbage (WeakRefs clear after the current job), then count.
        setTimeout(() => {
          gc();
          setTimeout(() => {
            aliveEarly = reader.bodies.slice(0, 20).filter((r) => r.deref() !== undefined).length;
            cb();
          }, 0);
        }, 0);
      },
    });
    await downloadObject({ ...opts(reader), sink });
    expect(writes).toBe(40);
    expect(aliveEarly).toBe(0);
  });

  it('honours sink backpressure: never writes while the sink needs a drain', async () => {
    const data = randomBytes(CHUNK * 10);
    const reader = new FakeReader(data, CHUNK);
    const out = collectingSink({ delayMs: 2, highWaterMark: CHUNK / 2 });
    await downloadObject({ ...opts(reader), sink: out.sink });
    expect(out.writesWhileFull()).toBe(0);
    await new Promise<void>((resolve) => out.sink.end(resolve));
    expect(out.bytes().equals(data)).toBe(true);
  });

  it('succeeds on a zero-byte object without any range request', async () => {
    const reader = new FakeReader(new Uint8Array(), CHUNK);
    const out = collectingSink();
    await expect(downloadObject({ ...opts(reader), sink: out.sink })).resolves.toEqual({ size: 0 });
    expect(reader.calls).toHaveLength(0);
    expect(out.count()).toBe(0);
  });

  it('reports a missing key as a not-found StorageError naming the object', async () => {
    const reader = new FakeReader(undefined, CHUNK);
    const out = collectingSink();
    const err: unknown = await downloadObject({
      ...opts(reader, { displayName: 's3://bucket/k' }),
      sink: out.sink,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isNotFound).toBe(true);
    expect((err as StorageError).message).toBe('no such object s3://bucket/k');
    expect(out.count()).toBe(0);
  });

  it('rejects with the abort reason and cancels the ranges in flight', async () => {
    const data = randomBytes(CHUNK * 10);
    const controller = new AbortController();
    const reader = new FakeReader(data, CHUNK, async ({ index }) => {
      if (index === 1) controller.abort(new Error('interrupted'));
      await sleep(5);
    });
    const out = collectingSink();
    await expect(
      downloadObject({ ...opts(reader, { signal: controller.signal }), sink: out.sink }),
    ).rejects.toThrow('interrupted');
    expect(reader.aborted).toBeGreaterThan(0);
    expect(out.count()).toBe(0);
  });

  it('rejects at once on abort even when a range ignores its signal', async () => {
    let release = (): void => undefined;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    const reader = new FakeReader(randomBytes(CHUNK * 3), CHUNK, () => hanging);
    const controller = new AbortController();
    const out = collectingSink();
    const done = downloadObject({ ...opts(reader, { signal: controller.signal }), sink: out.sink });
    await sleep(5);
    controller.abort(new Error('interrupted by SIGINT'));
    await expect(done).rejects.toThrow('interrupted by SIGINT');
    release();
    await sleep(5);
    expect(out.count()).toBe(0);
  });

  it('stops when the sink fails', async () => {
    const data = randomBytes(CHUNK * 50);
    const reader = new FakeReader(data, CHUNK, () => sleep(1).then(() => undefined));
    let writes = 0;
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        writes += 1;
        cb(writes === 3 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    await expect(downloadObject({ ...opts(reader), sink })).rejects.toThrow('EPIPE');
    const calls = reader.calls.length;
    await sleep(20);
    expect(reader.calls.length).toBe(calls);
    expect(calls).toBeLessThan(15);
  });
});

describe('downloadStream', () => {
  it('streams the object in order', async () => {
    const data = randomBytes(CHUNK * 7 + 1);
    const reader = new FakeReader(data, CHUNK, async ({ index }) => {
      await sleep(index % 2 === 0 ? 4 : 0);
    });
    const out = collectingSink();
    await pipeline(downloadStream(opts(reader)), out.sink);
    expect(out.bytes().equals(data)).toBe(true);
  });

  it('errors the stream on a failure and on a missing key', async () => {
    const reader = new FakeReader(randomBytes(CHUNK * 4), CHUNK, ({ index }) => {
      if (index === 2) throw new StorageError('boom');
    });
    await expect(pipeline(downloadStream(opts(reader)), collectingSink().sink)).rejects.toThrow(
      'boom',
    );
    const missing = new FakeReader(undefined, CHUNK);
    await expect(
      pipeline(downloadStream(opts(missing)), collectingSink().sink),
    ).rejects.toMatchObject({ isNotFound: true });
  });

  it('cancels the ranges in flight when the consumer goes away', async () => {
    const data = randomBytes(CHUNK * 40);
    const reader = new FakeReader(data, CHUNK, () => sleep(5).then(() => undefined));
    const stream = downloadStream(opts(reader));
    for await (const chunk of stream) {
      expect((chunk as Buffer).byteLength).toBe(CHUNK);
      break; // destroys the stream
    }
    await sleep(30);
    expect(reader.aborted).toBeGreaterThan(0);
    expect(reader.calls.length).toBeLessThan(10);
  });
});
