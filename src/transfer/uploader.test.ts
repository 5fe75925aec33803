import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  CommitConflictError,
  IntegrityError,
  InternalError,
  InterruptedError,
  StorageError,
  UsageError,
} from '../errors.js';
import type { Backend, BackendLimits } from '../storage/backend.js';
import { md5, multipartEtag } from '../storage/etag.js';
import { S3_LIMITS } from '../storage/limits.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend, type FaultScript } from '../storage/wrappers/faulty.js';
import { withRetries } from '../storage/wrappers/retrying.js';
import { injected } from '../testing/faults.js';
import { PartPool } from './part-pool.js';
import { EmptyUploadError, uploadStream, type UploadStreamOptions } from './uploader.js';

/** Spec 8: six 1 MiB blocks, block k = 2048 × the 512 bytes `k,0,k,1,…,k,255`. */
function referenceData(): Buffer {
  const out = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < out.length; i += 2) {
    out[i] = Math.floor(i / (1024 * 1024));
    out[i + 1] = (i / 2) % 256;
  }
  return out;
}

function randomBytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

/** Yield `data` in chunks of the given sizes, cycling. */
async function* chunked(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    yield data.subarray(offset, offset + n);
    offset += n;
    await Promise.resolve();
  }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** S3's limits but parts of any size, so tests use 10-byte parts. */
const SMALL_PARTS: BackendLimits = { ...S3_LIMITS, minPartSize: 1 };

/** The mem backend behind a fault script: the storage every test here writes to. */
interface Storage {
  mem: MemBackend;
  faulty: FaultyBackend;
}

function storage(script?: FaultScript, limits: BackendLimits = SMALL_PARTS): Storage {
  const mem = new MemBackend({ limits });
  return { mem, faulty: new FaultyBackend(mem, script) };
}

/** `backend` with the one retry policy, 3 attempts, no waiting (as `openBackend` wraps it). */
function retrying(backend: Backend): Backend {
  return withRetries(backend, { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 });
}

function options(
  backend: Backend,
  source: UploadStreamOptions['source'],
  over: Partial<UploadStreamOptions> = {},
): UploadStreamOptions {
  return {
    source,
    backend,
    key: 'k',
    metadata: { ana: 'are+mere' },
    storageClass: 'STANDARD_IA',
    partSize: 10,
    concurrency: 3,
    ...over,
  };
}

/** How many times chunk `n` was sent. */
function sends(faulty: FaultyBackend, n: number): number {
  return faulty.ops('writeChunk').filter((c) => c.chunk === n).length;
}

function expectAbortedNothingCommitted({ mem, faulty }: Storage): void {
  expect(faulty.ops('abort').length).toBeGreaterThan(0);
  expect(faulty.ops('complete')).toHaveLength(0);
  expect(mem.pending.size).toBe(0);
  expect(mem.objects.size).toBe(0);
}

describe('uploadStream', () => {
  it('uploads the spec reference data with the reference ETag', async () => {
    const { mem } = storage();
    const data = referenceData();
    const result = await uploadStream(
      options(mem, chunked(data, [65_536, 100_003, 1]), {
        partSize: 5 * 1024 * 1024,
        concurrency: 2,
      }),
    );
    expect(result).toMatchObject({
      etag: '"d229c1fc0e509475afe56426c89d2724-2"',
      size: data.length,
      parts: 2,
    });
    expect(result.etag).toBe(mem.objects.get('k')?.etag);
    expect(sha256(mem.objects.get('k')?.data ?? Buffer.alloc(0))).toBe(sha256(data));
    expect(mem.objects.get('k')?.metadata).toEqual({ ana: 'are+mere' });
  });

  it('sends SHA-256 chunks to a writer that asks for them, and MD5 ones to the others', async () => {
    const data = randomBytes(95);
    for (const chunkDigest of ['md5', 'sha256'] as const) {
      const mem = new MemBackend({ limits: SMALL_PARTS, chunkDigest });
      const faulty = new FaultyBackend(mem);
      const carried: string[] = [];
      const spying = Object.assign(Object.create(faulty) as Backend, {
        openWriter: async (input: Parameters<Backend['openWriter']>[0]) => {
          const writer = await faulty.openWriter(input);
          return Object.assign(Object.create(writer) as typeof writer, {
            writeChunk: (chunk: Parameters<typeof writer.writeChunk>[0]) => {
              carried.push(
                Object.keys(chunk)
                  .filter((k) => k === 'md5' || k === 'sha256')
                  .join(),
              );
              return writer.writeChunk(chunk);
            },
          });
        },
      });
      const result = await uploadStream(options(spying, chunked(data, [7])));
      expect(new Set(carried)).toEqual(new Set([chunkDigest]));
      expect(carried).toHaveLength(10);
      expect(result.etag).toBe(
        multipartEtag(
          Array.from({ length: 10 }, (_, i) => md5(data.subarray(i * 10, i * 10 + 10))),
        ),
      );
      expect(sha256(mem.objects.get('k')?.data ?? Buffer.alloc(0))).toBe(sha256(data));
    }
  });

  it.each([
    [1, [1]],
    [9, [4]],
    [10, [10]],
    [11, [3, 7]],
    [95, [1, 2, 13, 64]],
    [1000, [999, 1]],
  ])('splits %d bytes into parts of 10 whatever the chunking %j', async (size, sizes) => {
    const { mem } = storage();
    const data = randomBytes(size);
    const progress: number[] = [];
    const result = await uploadStream(
      options(mem, chunked(data, sizes), { onProgress: (n) => progress.push(n) }),
    );
    expect(result.parts).toBe(Math.ceil(size / 10));
    expect(result.size).toBe(size);
    expect(progress.reduce((a, b) => a + b, 0)).toBe(size);
    expect(sha256(mem.objects.get('k')?.data ?? Buffer.alloc(0))).toBe(sha256(data));
  });

  it('reads a Readable', async () => {
    const { mem } = storage();
    const data = randomBytes(123);
    await uploadStream(options(mem, Readable.from([data.subarray(0, 50), data.subarray(50)])));
    expect(mem.objects.get('k')?.data.equals(data)).toBe(true);
  });

  it(
    'retries a part that fails twice with a retryable error (through the retry wrapper)',
    { tags: ['faults'] },
    async () => {
      const { mem, faulty } = storage(({ op, chunk, attempt }) => {
        if (op === 'writeChunk' && chunk === 3 && attempt <= 2) {
          throw new StorageError('503', { isRetryable: true });
        }
      });
      const data = randomBytes(55);
      const result = await uploadStream(options(retrying(faulty), chunked(data, [7])));
      expect(sends(faulty, 3)).toBe(3);
      expect(sends(faulty, 2)).toBe(1);
      const md5s = [0, 1, 2, 3, 4, 5].map((i) => md5(data.subarray(i * 10, i * 10 + 10)));
      expect(result.etag).toBe(multipartEtag(md5s));
      expect(mem.objects.get('k')?.data.equals(data)).toBe(true);
      injected('S3 error', faulty.thrown);
    },
  );

  it(
    'aborts when a part keeps failing after MAX_RETRIES attempts',
    { tags: ['faults'] },
    async () => {
      const s = storage(({ op, chunk }) => {
        if (op === 'writeChunk' && chunk === 2) {
          throw new StorageError('503 again', { isRetryable: true });
        }
      });
      await expect(
        uploadStream(options(retrying(s.faulty), chunked(randomBytes(100), [10]))),
      ).rejects.toThrow('503 again');
      expect(sends(s.faulty, 2)).toBe(3);
      expectAbortedNothingCommitted(s);
      injected('S3 error', s.faulty.thrown);
    },
  );

  it(
    'aborts at once on a permanent error and cancels the other parts',
    { tags: ['faults'] },
    async () => {
      const denied = new StorageError('uploading part 2: AccessDenied (HTTP 403)');
      const s = storage(async ({ op, chunk, signal }) => {
        if (op !== 'writeChunk') return;
        if (chunk === 2) throw denied;
        await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
        throw new Error('request aborted');
      });
      await expect(
        uploadStream(options(retrying(s.faulty), chunked(randomBytes(100), [10]))),
      ).rejects.toBe(denied);
      expect(sends(s.faulty, 2)).toBe(1);
      expect(s.faulty.ops('writeChunk').every((c) => c.signal?.aborted === true)).toBe(true);
      expectAbortedNothingCommitted(s);
      // the other parts' 'request aborted' is the cancellation, not a fault
      injected('S3 error', sends(s.faulty, 2));
    },
  );

  it(
    'aborts when the source fails, and destroys a Readable source',
    { tags: ['faults'] },
    async () => {
      const s = storage();
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield randomBytes(25);
        await Promise.resolve();
        throw new Error('read EIO');
      }
      await expect(uploadStream(options(s.faulty, failing()))).rejects.toThrow(
        'reading the input failed: read EIO',
      );
      expectAbortedNothingCommitted(s);

      const s2 = storage(({ op }) => {
        if (op === 'writeChunk') throw new StorageError('403');
      });
      const stream = new Readable({ read() {} });
      stream.push(randomBytes(30));
      await expect(uploadStream(options(s2.faulty, stream))).rejects.toThrow('403');
      expect(stream.destroyed).toBe(true);
      expectAbortedNothingCommitted(s2);
      injected('stage death');
      injected('S3 error', s2.faulty.thrown);
    },
  );

  it('destroys the source when the writer cannot be opened', { tags: ['faults'] }, async () => {
    const refused = new StorageError('NoSuchBucket', { isNotFound: true });
    const s = storage(({ op }) => {
      if (op === 'openWriter') throw refused;
    });
    const stream = new Readable({ read() {} });
    stream.push(randomBytes(30));
    await expect(uploadStream(options(s.faulty, stream))).rejects.toBe(refused);
    expect(stream.destroyed).toBe(true);
    expect(s.faulty.ops('writeChunk')).toHaveLength(0);
    expect(s.mem.objects.size).toBe(0);
    injected('S3 error', s.faulty.thrown);
  });

  it(
    'aborts when the commit gate rejects, with the gate’s error',
    { tags: ['faults'] },
    async () => {
      const s = storage();
      const stageFailed = new Error('zfs send exited 1');
      let gateCalledAfterParts = false;
      let pendingChunkSize: number | undefined;
      await expect(
        uploadStream(
          options(s.faulty, chunked(randomBytes(35), [5]), {
            beforeComplete: () => {
              gateCalledAfterParts = s.faulty.ops('writeChunk').length === 4;
              pendingChunkSize = [...s.mem.pending.values()][0]?.chunkSize;
              return Promise.reject(stageFailed);
            },
          }),
        ),
      ).rejects.toBe(stageFailed);
      expect(gateCalledAfterParts).toBe(true);
      expect(pendingChunkSize).toBe(10);
      expectAbortedNothingCommitted(s);
      injected('stage death');
    },
  );

  it('commits only after the gate resolves', async () => {
    const { mem, faulty } = storage();
    let completedBeforeGate = true;
    await uploadStream(
      options(faulty, chunked(randomBytes(35), [5]), {
        beforeComplete: async () => {
          await new Promise((r) => setTimeout(r, 20));
          completedBeforeGate = faulty.ops('complete').length > 0 || mem.objects.has('k');
        },
      }),
    );
    expect(completedBeforeGate).toBe(false);
    expect(mem.objects.has('k')).toBe(true);
  });

  it(
    'aborts when the commit fails, with the backend’s error (e.g. its ETag check)',
    { tags: ['faults'] },
    async () => {
      const mismatch = new IntegrityError('k: stored ETag "x-2", expected "y-2"');
      const s = storage(({ op, isAfter }) => {
        if (op === 'complete' && isAfter !== true) throw mismatch;
      });
      const err = await uploadStream(options(s.faulty, chunked(randomBytes(15), [15]))).catch(
        (e: unknown) => e,
      );
      expect(err).toBe(mismatch);
      expect((err as IntegrityError).exitCode).toBe(3);
      expect(s.faulty.ops('abort')).toHaveLength(1);
      expect(s.mem.pending.size).toBe(0);
      expect(s.mem.objects.size).toBe(0);
      injected('corrupt data', s.faulty.thrown);
    },
  );

  it(
    'with ifNoneMatch, leaves an object another writer committed first and aborts',
    { tags: ['faults'] },
    async () => {
      const s = storage();
      s.mem.seed('k', Buffer.from('the other run'));
      const err = await uploadStream(
        options(s.faulty, chunked(randomBytes(15), [15]), { ifNoneMatch: true }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommitConflictError);
      expect((err as CommitConflictError).exitCode).toBe(3);
      expect(s.faulty.ops('abort')).toHaveLength(1);
      expect(s.mem.pending.size).toBe(0);
      expect(s.mem.objects.get('k')?.data.toString()).toBe('the other run');
      injected('concurrent writer');
    },
  );

  it('without ifNoneMatch, replaces the object at the key (pput may, on purpose)', async () => {
    const s = storage();
    s.mem.seed('k', Buffer.from('the other run'));
    await uploadStream(options(s.faulty, chunked(randomBytes(15), [15])));
    expect(s.mem.objects.get('k')?.data.equals(randomBytes(15))).toBe(true);
  });

  it(
    'aborts on the signal mid-upload and rejects with its reason',
    { tags: ['faults'] },
    async () => {
      const controller = new AbortController();
      const reason = new InterruptedError('interrupted by SIGTERM');
      const s = storage(async ({ op, chunk, signal }) => {
        if (op !== 'writeChunk') return;
        if (chunk === 3) controller.abort(reason);
        if (signal?.aborted === true) throw new Error('request aborted');
        await new Promise((r) => setTimeout(r, 5));
      });
      async function* endless(): AsyncGenerator<Uint8Array> {
        for (;;) {
          yield randomBytes(10);
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      await expect(
        uploadStream(options(retrying(s.faulty), endless(), { signal: controller.signal })),
      ).rejects.toBe(reason);
      expectAbortedNothingCommitted(s);
      injected('signal');
    },
  );

  it('aborts on the signal while the source is stalled', { tags: ['faults'] }, async () => {
    const s = storage();
    const controller = new AbortController();
    const stream = new Readable({ read() {} });
    stream.push(randomBytes(25));
    setTimeout(() => controller.abort(new InterruptedError()), 30);
    await expect(
      uploadStream(options(s.faulty, stream, { signal: controller.signal })),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(stream.destroyed).toBe(true);
    expectAbortedNothingCommitted(s);
    injected('signal');
  });

  it(
    'aborts when the signal fires while the writer is being opened',
    { tags: ['faults'] },
    async () => {
      const controller = new AbortController();
      const s = storage(({ op }) => {
        if (op === 'openWriter') controller.abort(new InterruptedError());
      });
      await expect(
        uploadStream(
          options(s.faulty, chunked(randomBytes(25), [5]), { signal: controller.signal }),
        ),
      ).rejects.toBeInstanceOf(InterruptedError);
      expect(s.faulty.ops('openWriter')).toHaveLength(1);
      expect(s.faulty.ops('writeChunk')).toHaveLength(0);
      expectAbortedNothingCommitted(s);
      injected('signal');
    },
  );

  it(
    'refuses zero bytes: opens no write and throws the original message with exit code 1',
    { tags: ['faults'] },
    async () => {
      const s = storage();
      const err = await uploadStream(options(s.faulty, chunked(Buffer.alloc(0), [1]))).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EmptyUploadError);
      expect(err).toBeInstanceOf(InternalError);
      expect((err as Error).message).toBe("Error: Can't upload zero bytes!");
      expect((err as InternalError).exitCode).toBe(1);
      // the input is read before anything is written (a short one goes up in one put)
      expect(s.faulty.ops('openWriter')).toHaveLength(0);
      expect(s.faulty.ops('put')).toHaveLength(0);
      expect(s.mem.pending.size + s.mem.objects.size).toBe(0);
      injected('bad input');
    },
  );

  it.each([
    ['below', 10, { ...S3_LIMITS, minPartSize: 11 }],
    ['above', 10, { ...S3_LIMITS, minPartSize: 1, maxPartSize: 9 }],
  ])(
    'refuses a part size %s the backend’s limits before opening a writer',
    { tags: ['faults'] },
    async (_, partSize, limits) => {
      const s = storage(undefined, limits);
      const err = await uploadStream(
        options(s.faulty, chunked(randomBytes(5), [5]), { partSize }),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toMatch(
        /^part size .*\(10 bytes\) is outside the limits/,
      );
      expect(s.faulty.calls).toHaveLength(0);
      injected('bad input');
    },
  );

  it(
    'stops before the part limit: part N+1 aborts, N parts succeed',
    { tags: ['faults'] },
    async () => {
      const limits = { ...SMALL_PARTS, maxParts: 3, maxObjectSize: 1000 };
      const ok = storage(undefined, limits);
      await uploadStream(options(ok.faulty, chunked(randomBytes(30), [4])));
      expect(ok.mem.objects.has('k')).toBe(true);

      const s = storage(undefined, limits);
      const err = await uploadStream(options(s.faulty, chunked(randomBytes(31), [4]))).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toMatch(/more than 3 parts/);
      expect((err as UsageError).hint).toMatch(/--estimated/);
      expect(sends(s.faulty, 4)).toBe(0);
      expectAbortedNothingCommitted(s);
      injected('bad input');
    },
  );

  it('stops before the object size limit', { tags: ['faults'] }, async () => {
    const s = storage(undefined, { ...SMALL_PARTS, maxObjectSize: 50 });
    const err = await uploadStream(options(s.faulty, chunked(randomBytes(51), [7]))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(
      /exceeds 50 bytes, the storage's object size limit/,
    );
    expectAbortedNothingCommitted(s);
    injected('bad input');
  });

  it(
    'says so when aborting fails too, keeping the exit code and naming the pending write',
    { tags: ['faults'] },
    async () => {
      const s = storage(({ op }) => {
        if (op === 'writeChunk') throw new StorageError('uploading part 1: AccessDenied');
        if (op === 'abort') throw new StorageError('abort: AccessDenied (HTTP 403)');
      });
      const err = await uploadStream(
        options(retrying(s.faulty), chunked(randomBytes(15), [15])),
      ).catch((e: unknown) => e);
      const [pendingId] = [...s.mem.pending.keys()];
      expect((err as StorageError).message).toMatch(/AccessDenied; aborting the upload failed too/);
      expect((err as StorageError).exitCode).toBe(5);
      expect((err as StorageError).hint).toMatch(/left pending/);
      expect((err as StorageError).hint).toContain(`upload ${pendingId ?? '?'} of k`);
      expect(s.mem.objects.size).toBe(0);
      injected('S3 error', s.faulty.thrown);
    },
  );
});

describe('memory bound', () => {
  it('allocates at most max(concurrency, 2) part buffers, however long the input', async () => {
    const { mem } = storage();
    const result = await uploadStream(
      options(mem, chunked(randomBytes(10_000), [3, 17, 64]), { concurrency: 4 }),
    );
    expect(result.parts).toBe(1000);
    expect(result.buffersAllocated).toBeLessThanOrEqual(4);

    const single = await uploadStream(
      options(storage().mem, chunked(randomBytes(100), [7]), { concurrency: 1 }),
    );
    expect(single.buffersAllocated).toBe(2);
  });

  it('stops reading while every worker is busy (backpressure)', async () => {
    const release: (() => void)[] = [];
    const { faulty } = storage(({ op }) =>
      op === 'writeChunk' ? new Promise<void>((resolve) => release.push(resolve)) : undefined,
    );
    let bytesRead = 0;
    async function* counting(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1000; i++) {
        bytesRead += 4;
        yield randomBytes(4, i);
        await Promise.resolve();
      }
    }
    const done = uploadStream(options(faulty, counting(), { concurrency: 4 }));
    await new Promise((r) => setTimeout(r, 50));
    // 4 parts held by the workers, none filled ahead; at most one more chunk read into nothing.
    expect(release.length).toBe(4);
    expect(bytesRead).toBeLessThanOrEqual(4 * 10 + 4);
    // One part done → exactly one more part is read.
    release.shift()?.();
    await new Promise((r) => setTimeout(r, 20));
    expect(bytesRead).toBeLessThanOrEqual(5 * 10 + 4);
    expect(release.length).toBe(4);
    faulty.script = () => undefined;
    for (const r of release.splice(0)) r();
    const result = await done;
    expect(result.size).toBe(4000);
    expect(result.buffersAllocated).toBe(4);
  });
});

describe('PartPool', () => {
  it('never allocates more than its capacity and hands released buffers to waiters', async () => {
    const pool = new PartPool(8, 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    let third: Uint8Array | undefined;
    const waiting = pool.acquire().then((buf) => (third = buf));
    await Promise.resolve();
    expect(third).toBeUndefined();
    pool.release(a);
    await waiting;
    expect(third).toBe(a);
    expect(pool.allocated).toBe(2);
    pool.release(b);
    expect(await pool.acquire()).toBe(b);
  });

  it('stops waiting on abort', async () => {
    const pool = new PartPool(8, 1);
    await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new InterruptedError());
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
  });
});
