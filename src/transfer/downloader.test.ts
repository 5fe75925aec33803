import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import type { Backend, ReadRangeInput } from '../storage/backend.js';
import { md5 } from '../storage/etag.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend, type FaultCall } from '../storage/wrappers/faulty.js';
import { withRetries } from '../storage/wrappers/retrying.js';
import { downloadObject, downloadStream, type DownloadOptions } from './downloader.js';
import { injected } from '../testing/faults.js';

const CHUNK = 100;

/**
 * The mem backend, watched: every body a range returned (weakly: a delivered chunk must become
 * garbage) and every buffer it was asked to fill. `reshape` lets one test break the contract.
 */
class WatchedMem extends MemBackend {
  readonly targets = new Set<ArrayBufferLike>();
  readonly bodies: WeakRef<Uint8Array>[] = [];
  reshape: ((body: Uint8Array, input: ReadRangeInput) => Uint8Array) | undefined;

  override async readRange(input: ReadRangeInput): Promise<Uint8Array> {
    if (input.target !== undefined) this.targets.add(input.target.buffer);
    const body = await super.readRange(input);
    this.bodies.push(new WeakRef(body));
    return this.reshape?.(body, input) ?? body;
  }
}

/** A range call as the test scripts see it: `index` is start / CHUNK. */
type RangeCall = FaultCall & { index: number };

/**
 * Object `k` (when `data` is given) on a watched mem backend, behind a fault script that runs
 * before each range: it may wait (out-of-order completion) or throw (faults). A range whose
 * signal aborted meanwhile then fails, like a cancelled request.
 */
function objectWith(
  data: Uint8Array | undefined,
  script: (call: RangeCall) => Promise<unknown> | void = () => undefined,
) {
  const mem = new WatchedMem();
  if (data !== undefined) mem.seed('k', data);
  const stats = { inFlight: 0, maxInFlight: 0, aborted: 0, completed: [] as number[] };
  const faulty = new FaultyBackend(mem, async (call) => {
    if (call.op !== 'readRange') return;
    const index = Math.floor((call.start ?? 0) / CHUNK);
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    const onAbort = (): void => void (stats.aborted += 1);
    call.signal?.addEventListener('abort', onAbort);
    try {
      await script({ ...call, index });
      call.signal?.throwIfAborted();
      stats.completed.push(index);
    } finally {
      call.signal?.removeEventListener('abort', onAbort);
      stats.inFlight -= 1;
    }
  });
  const ranges = (): RangeCall[] =>
    faulty.ops('readRange').map((c) => ({ ...c, index: Math.floor((c.start ?? 0) / CHUNK) }));
  return { mem, faulty, stats, ranges };
}

/** `backend` with the one retry policy, 3 attempts, no waiting (as `openBackend` wraps it). */
function retrying(backend: Backend): Backend {
  return withRetries(backend, { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 });
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

function opts(backend: Backend, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { backend, key: 'k', chunkSize: CHUNK, concurrency: 4, ...extra };
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
    const { mem, faulty } = objectWith(data, ({ index }) => sleep([3, 0, 2, 1][index % 4] ?? 0));
    const out = copyingSink(1);
    await downloadObject({ ...opts(faulty), sink: out.sink, isSinkDoneAtCallback: true });
    // The sink owns what it buffered: let it write the rest, then compare.
    await new Promise<void>((resolve) => out.sink.end(resolve));
    expect(out.bytes().equals(data)).toBe(true);
    // 21 ranges through at most concurrency + the chunks the sink still holds.
    expect(mem.targets.size).toBeGreaterThan(0);
    expect(mem.targets.size).toBeLessThanOrEqual(4 + 2);
  });

  it('holds at most concurrency + 1 range buffers with a synchronous sink (a file)', async () => {
    // A file's write stream writes synchronously, but Writable defers the callback to the next
    // tick, while ranges that are already complete resolve in microtasks before it: the buffer
    // of a written chunk must be free for the next range anyway.
    const data = randomBytes(CHUNK * 40);
    const { mem, faulty } = objectWith(data);
    const written: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written.push(Buffer.from(chunk));
        callback();
      },
    });
    await downloadObject({ ...opts(faulty), sink, isSinkDoneAtCallback: true });
    expect(Buffer.concat(written).equals(data)).toBe(true);
    expect(mem.targets.size).toBeLessThanOrEqual(opts(faulty).concurrency + 1);
  });

  it('never hands a buffer back without the flag (a sink may keep the chunk)', async () => {
    const data = randomBytes(CHUNK * 6);
    const { mem, faulty } = objectWith(data);
    const out = collectingSink();
    await downloadObject({ ...opts(faulty), sink: out.sink });
    expect(out.bytes().equals(data)).toBe(true);
    expect(mem.targets.size).toBe(0);
  });
});

describe('downloadObject', () => {
  it('writes chunks in order although they complete out of order', async () => {
    const data = randomBytes(CHUNK * 12 + 37);
    const { faulty, stats, ranges } = objectWith(data, ({ index }) =>
      sleep([9, 1, 5, 0, 7, 3][index % 6] ?? 0),
    );
    const out = collectingSink();
    const progress: number[] = [];
    const { size } = await downloadObject({
      ...opts(faulty),
      sink: out.sink,
      onProgress: (n) => progress.push(n),
    });
    expect(size).toBe(data.byteLength);
    expect(out.bytes().equals(data)).toBe(true);
    expect(stats.completed).not.toEqual([...stats.completed].sort((a, b) => a - b));
    expect(ranges().at(-1)?.start).toBe(1200);
    expect(progress.reduce((a, b) => a + b, 0)).toBe(data.byteLength);
  });

  it(
    'retries a range that fails with a transient error (through the retry wrapper)',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 5);
      const { faulty, ranges } = objectWith(data, ({ index, attempt }) => {
        if (index === 2 && attempt <= 2) {
          throw new StorageError('503 slow down', { isRetryable: true });
        }
      });
      const out = collectingSink();
      await downloadObject({ ...opts(retrying(faulty)), sink: out.sink });
      expect(out.bytes().equals(data)).toBe(true);
      expect(ranges().filter((c) => c.index === 2)).toHaveLength(3);
      injected('S3 error', faulty.thrown);
    },
  );

  it(
    'refuses a range of the wrong length at once: a backend broke its contract',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 3);
      // Range 1 comes late, so range 0 is delivered first.
      const { mem, faulty, ranges } = objectWith(data, ({ index }) => sleep(index === 1 ? 5 : 0));
      mem.reshape = (body, input) => (input.start === CHUNK ? body.subarray(1) : body);
      const out = collectingSink();
      const err = await downloadObject({ ...opts(retrying(faulty)), sink: out.sink }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).message).toBe('range 100-199 of k: got 99 bytes, expected 100');
      expect((err as StorageError).isRetryable).toBe(false);
      expect(ranges().filter((c) => c.index === 1)).toHaveLength(1);
      expect(out.bytes().equals(data.subarray(0, CHUNK))).toBe(true);
      injected('corrupt data');
    },
  );

  it(
    'stops at a permanent failure: rejects, issues no more ranges, writes nothing more',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 20);
      const permanent = new StorageError('403 access denied');
      const { faulty, stats, ranges } = objectWith(data, async ({ index }) => {
        if (index === 3) throw permanent;
        await sleep(index === 2 ? 30 : 2); // range 2 is still running when 3 fails
      });
      const out = collectingSink();
      await expect(downloadObject({ ...opts(retrying(faulty)), sink: out.sink })).rejects.toBe(
        permanent,
      );
      const callsAtFailure = ranges().length;
      const written = out.bytes();
      await sleep(60);
      expect(ranges().length).toBe(callsAtFailure);
      expect(ranges().filter((c) => c.index === 3)).toHaveLength(1); // not retried
      expect(Math.max(...ranges().map((c) => c.index))).toBeLessThan(8);
      expect(stats.aborted).toBeGreaterThan(0); // range 2 was cancelled
      expect(written.byteLength).toBeLessThanOrEqual(2 * CHUNK);
      expect(written.equals(data.subarray(0, written.byteLength))).toBe(true);
      expect(out.bytes().equals(written)).toBe(true);
      // range 2's cancellation is not a fault
      injected('S3 error', ranges().filter((c) => c.index === 3).length);
    },
  );

  it(
    'rejects at once when a later range fails while an earlier one hangs',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 10);
      let release = (): void => undefined;
      const hanging = new Promise<void>((resolve) => (release = resolve));
      const { faulty } = objectWith(data, async ({ index }) => {
        if (index === 0) await hanging; // ignores cancellation
        if (index === 2) throw new StorageError('404 gone', { isNotFound: true });
      });
      const out = collectingSink();
      const started = Date.now();
      await expect(downloadObject({ ...opts(faulty), sink: out.sink })).rejects.toThrow('404 gone');
      expect(Date.now() - started).toBeLessThan(1000);
      release();
      await sleep(5);
      expect(out.count()).toBe(0);
      injected('S3 reset/timeout'); // range 0 hangs
      injected('S3 error'); // range 2: 404
    },
  );

  it('keeps at most `concurrency` ranges ahead of a slow sink', async () => {
    const data = randomBytes(CHUNK * 30);
    const { faulty, stats, ranges } = objectWith(data, () => sleep(1));
    const out = collectingSink({ delayMs: 3, highWaterMark: 1 });
    let maxAhead = 0;
    const check = setInterval(() => {
      maxAhead = Math.max(maxAhead, ranges().length - out.count());
    }, 1);
    await downloadObject({ ...opts(faulty, { concurrency: 3 }), sink: out.sink });
    clearInterval(check);
    expect(out.bytes().equals(data)).toBe(true);
    expect(stats.maxInFlight).toBe(3);
    // 3 fetched or in flight, plus the one handed to the sink.
    expect(maxAhead).toBeLessThanOrEqual(3 + 1);
  });

  it('does not retain chunks already written (memory stays bounded)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const data = randomBytes(CHUNK * 40);
    const { mem, faulty } = objectWith(data);
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
            aliveEarly = mem.bodies.slice(0, 20).filter((r) => r.deref() !== undefined).length;
            cb();
          }, 0);
        }, 0);
      },
    });
    await downloadObject({ ...opts(faulty), sink });
    expect(writes).toBe(40);
    expect(mem.bodies).toHaveLength(40);
    expect(aliveEarly).toBe(0);
  });

  it('honours sink backpressure: never writes while the sink needs a drain', async () => {
    const data = randomBytes(CHUNK * 10);
    const { faulty } = objectWith(data);
    const out = collectingSink({ delayMs: 2, highWaterMark: CHUNK / 2 });
    await downloadObject({ ...opts(faulty), sink: out.sink });
    expect(out.writesWhileFull()).toBe(0);
    await new Promise<void>((resolve) => out.sink.end(resolve));
    expect(out.bytes().equals(data)).toBe(true);
  });

  it('reads one version: every range carries the ETag of the stat', async () => {
    const data = randomBytes(CHUNK * 3 + 7);
    const { mem, faulty } = objectWith(data);
    const asked: (string | undefined)[] = [];
    mem.reshape = (body, input) => (asked.push(input.ifMatch), body);
    await downloadObject({ ...opts(faulty), sink: collectingSink().sink });
    expect(asked).toEqual(Array(4).fill(mem.objects.get('k')?.etag));
  });

  it(
    'fails, not splices, when the object is replaced mid-download (even by one as long)',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 6);
      const etag = `"${md5(data).toString('hex')}"`;
      const { mem, faulty } = objectWith(data, ({ index }) => {
        if (index === 2) mem.seed('k', Buffer.alloc(CHUNK * 6, 7));
      });
      const out = collectingSink();
      const error = await downloadObject({ ...opts(retrying(faulty)), sink: out.sink }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).message).toBe(
        `k changed while it was being read (ETag was ${etag})`,
      );
      expect(out.bytes().equals(data.subarray(0, out.bytes().byteLength))).toBe(true);
      injected('concurrent writer');
    },
  );

  it('sends no ETag where the stat has none (a local object without its sidecar)', async () => {
    const { mem, faulty } = objectWith(randomBytes(CHUNK));
    const stored = mem.objects.get('k');
    if (stored !== undefined) stored.etag = '';
    const asked: (string | undefined)[] = [];
    mem.reshape = (body, input) => (asked.push(input.ifMatch), body);
    await downloadObject({ ...opts(faulty), sink: collectingSink().sink });
    expect(asked).toEqual([undefined]);
  });

  it('succeeds on a zero-byte object without any range request', async () => {
    const { faulty, ranges } = objectWith(new Uint8Array());
    const out = collectingSink();
    await expect(downloadObject({ ...opts(faulty), sink: out.sink })).resolves.toEqual({ size: 0 });
    expect(ranges()).toHaveLength(0);
    expect(out.count()).toBe(0);
  });

  it(
    'reports a missing key as a not-found StorageError naming the object',
    { tags: ['faults'] },
    async () => {
      const { faulty } = objectWith(undefined);
      const out = collectingSink();
      const err: unknown = await downloadObject({
        ...opts(faulty, { displayName: 's3://bucket/k' }),
        sink: out.sink,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).isNotFound).toBe(true);
      expect((err as StorageError).message).toBe('no such object s3://bucket/k');
      expect(out.count()).toBe(0);
      injected('bad input');
    },
  );

  it(
    'reads the size from one stat, retried by the wrapper when it fails transiently',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 2 + 1);
      const { faulty } = objectWith(data);
      faulty.script = ({ op, attempt }) => {
        if (op === 'stat' && attempt === 1) throw new StorageError('503', { isRetryable: true });
      };
      const out = collectingSink();
      const sizes: number[] = [];
      const done = await downloadObject({
        ...opts(retrying(faulty), { onStart: (n) => sizes.push(n) }),
        sink: out.sink,
      });
      expect(done.size).toBe(data.byteLength);
      expect(sizes).toEqual([data.byteLength]);
      expect(faulty.ops('stat')).toHaveLength(2);
      expect(out.bytes().equals(data)).toBe(true);
      injected('S3 error', faulty.thrown);
    },
  );

  it(
    'rejects with the abort reason and cancels the ranges in flight',
    { tags: ['faults'] },
    async () => {
      const data = randomBytes(CHUNK * 10);
      const controller = new AbortController();
      const { faulty, stats } = objectWith(data, async ({ index }) => {
        if (index === 1) controller.abort(new Error('interrupted'));
        await sleep(5);
      });
      const out = collectingSink();
      await expect(
        downloadObject({ ...opts(faulty, { signal: controller.signal }), sink: out.sink }),
      ).rejects.toThrow('interrupted');
      expect(stats.aborted).toBeGreaterThan(0);
      expect(out.count()).toBe(0);
      injected('signal');
    },
  );

  it(
    'rejects at once on abort even when a range ignores its signal',
    { tags: ['faults'] },
    async () => {
      let release = (): void => undefined;
      const hanging = new Promise<void>((resolve) => (release = resolve));
      const { faulty } = objectWith(randomBytes(CHUNK * 3), () => hanging);
      const controller = new AbortController();
      const out = collectingSink();
      const done = downloadObject({
        ...opts(faulty, { signal: controller.signal }),
        sink: out.sink,
      });
      await sleep(5);
      controller.abort(new Error('interrupted by SIGINT'));
      await expect(done).rejects.toThrow('interrupted by SIGINT');
      release();
      await sleep(5);
      expect(out.count()).toBe(0);
      injected('signal');
    },
  );

  it('stops when the sink fails', { tags: ['faults'] }, async () => {
    const data = randomBytes(CHUNK * 50);
    const { faulty, ranges } = objectWith(data, () => sleep(1));
    let writes = 0;
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        writes += 1;
        cb(writes === 3 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    await expect(downloadObject({ ...opts(faulty), sink })).rejects.toThrow('EPIPE');
    const calls = ranges().length;
    await sleep(20);
    expect(ranges().length).toBe(calls);
    expect(calls).toBeLessThan(15);
    injected('output failure');
  });

  it(
    'refuses a chunk size or concurrency that is not a positive integer, before any call',
    { tags: ['faults'] },
    async () => {
      const { faulty } = objectWith(randomBytes(CHUNK));
      for (const bad of [{ chunkSize: 0 }, { concurrency: 0 }, { chunkSize: 1.5 }]) {
        await expect(
          downloadObject({ ...opts(faulty, bad), sink: collectingSink().sink }),
        ).rejects.toBeInstanceOf(RangeError);
      }
      expect(faulty.calls).toHaveLength(0);
      injected('bad input', 3);
    },
  );
});

describe('downloadStream', () => {
  it('streams the object in order', async () => {
    const data = randomBytes(CHUNK * 7 + 1);
    const { faulty } = objectWith(data, ({ index }) => sleep(index % 2 === 0 ? 4 : 0));
    const out = collectingSink();
    await pipeline(downloadStream(opts(faulty)), out.sink);
    expect(out.bytes().equals(data)).toBe(true);
  });

  it('errors the stream on a failure and on a missing key', { tags: ['faults'] }, async () => {
    const { faulty } = objectWith(randomBytes(CHUNK * 4), ({ index }) => {
      if (index === 2) throw new StorageError('boom');
    });
    await expect(pipeline(downloadStream(opts(faulty)), collectingSink().sink)).rejects.toThrow(
      'boom',
    );
    const missing = objectWith(undefined);
    await expect(
      pipeline(downloadStream(opts(missing.faulty)), collectingSink().sink),
    ).rejects.toMatchObject({ isNotFound: true });
    // ranges cancelled after the failure are not faults
    injected('S3 error', faulty.ops('readRange').filter((c) => c.start === 2 * CHUNK).length);
    injected('bad input'); // the missing key
  });

  it('cancels the ranges in flight when the consumer goes away', { tags: ['faults'] }, async () => {
    const data = randomBytes(CHUNK * 40);
    const { faulty, stats, ranges } = objectWith(data, () => sleep(5));
    const stream = downloadStream(opts(faulty));
    for await (const chunk of stream) {
      expect((chunk as Buffer).byteLength).toBe(CHUNK);
      break; // destroys the stream
    }
    await sleep(30);
    expect(stats.aborted).toBeGreaterThan(0);
    expect(ranges().length).toBeLessThan(10);
    injected('output failure');
  });
});

describe('abort listeners', () => {
  /**
   * The AWS SDK adds an 'abort' listener to a request's signal for as long as the request runs.
   * With every range on one shared signal, more than 10 ranges in flight made Node print
   * MaxListenersExceededWarning on every large z3_get; each range gets its own signal instead.
   */
  it('puts one listener per range on its own signal, none piling up on a shared one', async () => {
    const data = randomBytes(CHUNK * 64);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    let maxListeners = 0;
    const { faulty, stats } = objectWith(data, async (call) => {
      if (call.signal !== undefined) {
        maxListeners = Math.max(maxListeners, getEventListeners(call.signal, 'abort').length);
      }
      await sleep(2);
    });
    const caller = new AbortController();
    try {
      const out = collectingSink();
      await downloadObject({
        ...opts(faulty),
        concurrency: 16,
        signal: caller.signal,
        sink: out.sink,
      });
      await sleep(10); // warnings are emitted on a later tick
      expect(out.bytes().equals(data)).toBe(true);
      expect(stats.maxInFlight).toBe(16);
      expect(maxListeners).toBe(1);
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
