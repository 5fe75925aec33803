import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  IntegrityError,
  InternalError,
  InterruptedError,
  StorageError,
  UsageError,
} from '../errors.js';
import type {
  CompletedPart,
  CreateMultipartInput,
  ObjectInfo,
  UploadPartInput,
} from '../storage/types.js';
import { md5, multipartEtag } from '../storage/etag.js';
import { PartPool } from './part-pool.js';
import {
  EmptyUploadError,
  uploadStream,
  type UploadPort,
  type UploadStreamOptions,
} from './uploader.js';

/**
 * A scripted in-memory MultipartPort: verifies Content-MD5 like a server, records every call,
 * and lets a test fail or hold any part attempt.
 */
class FakePort implements UploadPort {
  readonly calls: string[] = [];
  readonly attempts = new Map<number, number>();
  readonly partSignals: AbortSignal[] = [];
  private readonly parts = new Map<number, Uint8Array>();
  readonly objects = new Map<
    string,
    { data: Buffer; etag: string; metadata: Record<string, string> }
  >();
  pending = new Set<string>();
  /** Called on every part attempt; throw to fail it, await to hold it. */
  onPart: (input: UploadPartInput, attempt: number) => Promise<void> | void = () => undefined;
  headEtag: ((etag: string) => string) | undefined;
  /** Part ETags like SSE-KMS ones: not the MD5 of the part. */
  opaquePartEtags = false;
  failAbort = false;
  private nextId = 0;
  private metadata: Record<string, string> = {};

  create(input: CreateMultipartInput): Promise<string> {
    this.calls.push(`create ${input.key}`);
    this.metadata = input.metadata;
    const id = `u${++this.nextId}`;
    this.pending.add(id);
    return Promise.resolve(id);
  }

  async uploadPart(input: UploadPartInput): Promise<string> {
    const attempt = (this.attempts.get(input.partNumber) ?? 0) + 1;
    this.attempts.set(input.partNumber, attempt);
    if (input.signal) this.partSignals.push(input.signal);
    await this.onPart(input, attempt);
    if (md5(input.body).toString('base64') !== input.md5Base64) throw new StorageError('BadDigest');
    // A copy: the uploader reuses its buffers.
    this.parts.set(input.partNumber, Uint8Array.from(input.body));
    const hex = md5(input.body).toString('hex');
    return `"${this.opaquePartEtags ? [...hex].reverse().join('') : hex}"`;
  }

  complete(input: { key: string; uploadId: string; parts: CompletedPart[] }): Promise<void> {
    this.calls.push(`complete ${input.parts.length}`);
    const bodies = input.parts.map((p) => this.parts.get(p.partNumber) ?? new Uint8Array());
    const data = Buffer.concat(bodies);
    this.objects.set(input.key, {
      data,
      etag: multipartEtag(bodies.map(md5)),
      metadata: this.metadata,
    });
    this.pending.delete(input.uploadId);
    return Promise.resolve();
  }

  abort(input: { key: string; uploadId: string }): Promise<void> {
    this.calls.push('abort');
    if (this.failAbort) return Promise.reject(new StorageError('abort: AccessDenied (HTTP 403)'));
    this.pending.delete(input.uploadId);
    return Promise.resolve();
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    if (o === undefined) return Promise.resolve(undefined);
    const etag = this.headEtag ? this.headEtag(o.etag) : o.etag;
    return Promise.resolve({ key, size: o.data.length, etag, metadata: o.metadata });
  }

  delete(key: string): Promise<void> {
    this.calls.push(`delete ${key}`);
    this.objects.delete(key);
    return Promise.resolve();
  }
}

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
const noWait = { sleep: (): Promise<void> => Promise.resolve() };

function options(
  port: FakePort,
  source: UploadStreamOptions['source'],
  over: Partial<UploadStreamOptions> = {},
): UploadStreamOptions {
  return {
    source,
    port,
    key: 'k',
    metadata: { ana: 'are+mere' },
    storageClass: 'STANDARD_IA',
    partSize: 10,
    concurrency: 3,
    maxRetries: 3,
    retry: noWait,
    ...over,
  };
}

function expectAbortedNothingCommitted(port: FakePort): void {
  expect(port.calls).toContain('abort');
  expect(port.calls.some((c) => c.startsWith('complete'))).toBe(false);
  expect(port.pending.size).toBe(0);
  expect(port.objects.size).toBe(0);
}

describe('uploadStream', () => {
  it('uploads the spec reference data with the reference ETag', async () => {
    const port = new FakePort();
    const data = referenceData();
    const result = await uploadStream(
      options(port, chunked(data, [65_536, 100_003, 1]), {
        partSize: 5 * 1024 * 1024,
        concurrency: 2,
      }),
    );
    expect(result).toMatchObject({
      etag: '"d229c1fc0e509475afe56426c89d2724-2"',
      size: data.length,
      parts: 2,
    });
    expect(sha256(port.objects.get('k')?.data ?? Buffer.alloc(0))).toBe(sha256(data));
    expect(port.objects.get('k')?.metadata).toEqual({ ana: 'are+mere' });
  });

  it.each([
    [1, [1]],
    [9, [4]],
    [10, [10]],
    [11, [3, 7]],
    [95, [1, 2, 13, 64]],
    [1000, [999, 1]],
  ])('splits %d bytes into parts of 10 whatever the chunking %j', async (size, sizes) => {
    const port = new FakePort();
    const data = randomBytes(size);
    const progress: number[] = [];
    const result = await uploadStream(
      options(port, chunked(data, sizes), { onProgress: (n) => progress.push(n) }),
    );
    expect(result.parts).toBe(Math.ceil(size / 10));
    expect(result.size).toBe(size);
    expect(progress.reduce((a, b) => a + b, 0)).toBe(size);
    expect(sha256(port.objects.get('k')?.data ?? Buffer.alloc(0))).toBe(sha256(data));
  });

  it('reads a Readable', async () => {
    const port = new FakePort();
    const data = randomBytes(123);
    await uploadStream(options(port, Readable.from([data.subarray(0, 50), data.subarray(50)])));
    expect(port.objects.get('k')?.data.equals(data)).toBe(true);
  });

  it('retries a part that fails twice with a retryable error', async () => {
    const port = new FakePort();
    port.onPart = (input, attempt) => {
      if (input.partNumber === 3 && attempt <= 2)
        throw new StorageError('503', { isRetryable: true });
    };
    const data = randomBytes(55);
    const result = await uploadStream(options(port, chunked(data, [7])));
    expect(port.attempts.get(3)).toBe(3);
    expect(port.attempts.get(2)).toBe(1);
    const md5s = [0, 1, 2, 3, 4, 5].map((i) => md5(data.subarray(i * 10, i * 10 + 10)));
    expect(result.etag).toBe(multipartEtag(md5s));
    expect(port.objects.get('k')?.data.equals(data)).toBe(true);
  });

  it('aborts when a part keeps failing after MAX_RETRIES attempts', async () => {
    const port = new FakePort();
    port.onPart = (input) => {
      if (input.partNumber === 2) throw new StorageError('503 again', { isRetryable: true });
    };
    await expect(uploadStream(options(port, chunked(randomBytes(100), [10])))).rejects.toThrow(
      '503 again',
    );
    expect(port.attempts.get(2)).toBe(3);
    expectAbortedNothingCommitted(port);
  });

  it('aborts at once on a permanent error and cancels the other parts', async () => {
    const port = new FakePort();
    const denied = new StorageError('uploading part 2: AccessDenied (HTTP 403)');
    port.onPart = async (input) => {
      if (input.partNumber === 2) throw denied;
      await new Promise<void>((resolve) =>
        input.signal?.addEventListener('abort', () => resolve()),
      );
      throw new Error('request aborted');
    };
    await expect(uploadStream(options(port, chunked(randomBytes(100), [10])))).rejects.toBe(denied);
    expect(port.attempts.get(2)).toBe(1);
    expect(port.partSignals.every((s) => s.aborted)).toBe(true);
    expectAbortedNothingCommitted(port);
  });

  it('aborts when the source fails, and destroys a Readable source', async () => {
    const port = new FakePort();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield randomBytes(25);
      await Promise.resolve();
      throw new Error('read EIO');
    }
    await expect(uploadStream(options(port, failing()))).rejects.toThrow(
      'reading the input failed: read EIO',
    );
    expectAbortedNothingCommitted(port);

    const port2 = new FakePort();
    port2.onPart = () => {
      throw new StorageError('403');
    };
    const stream = new Readable({ read() {} });
    stream.push(randomBytes(30));
    await expect(uploadStream(options(port2, stream))).rejects.toThrow('403');
    expect(stream.destroyed).toBe(true);
    expectAbortedNothingCommitted(port2);
  });

  it('aborts when the commit gate rejects, with the gate’s error', async () => {
    const port = new FakePort();
    const stageFailed = new Error('zfs send exited 1');
    let gateCalledAfterParts = false;
    await expect(
      uploadStream(
        options(port, chunked(randomBytes(35), [5]), {
          beforeComplete: () => {
            gateCalledAfterParts = port.attempts.size === 4;
            return Promise.reject(stageFailed);
          },
        }),
      ),
    ).rejects.toBe(stageFailed);
    expect(gateCalledAfterParts).toBe(true);
    expectAbortedNothingCommitted(port);
  });

  it('commits only after the gate resolves', async () => {
    const port = new FakePort();
    let completedBeforeGate = true;
    await uploadStream(
      options(port, chunked(randomBytes(35), [5]), {
        beforeComplete: async () => {
          await new Promise((r) => setTimeout(r, 20));
          completedBeforeGate = port.calls.some((c) => c.startsWith('complete'));
        },
      }),
    );
    expect(completedBeforeGate).toBe(false);
    expect(port.objects.has('k')).toBe(true);
  });

  it('aborts on the signal mid-upload and rejects with its reason', async () => {
    const port = new FakePort();
    const controller = new AbortController();
    const reason = new InterruptedError('interrupted by SIGTERM');
    port.onPart = async (input) => {
      if (input.partNumber === 3) controller.abort(reason);
      if (input.signal?.aborted === true) throw new Error('request aborted');
      await new Promise((r) => setTimeout(r, 5));
    };
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        yield randomBytes(10);
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await expect(
      uploadStream(options(port, endless(), { signal: controller.signal })),
    ).rejects.toBe(reason);
    expectAbortedNothingCommitted(port);
  });

  it('aborts on the signal while the source is stalled', async () => {
    const port = new FakePort();
    const controller = new AbortController();
    const stream = new Readable({ read() {} });
    stream.push(randomBytes(25));
    setTimeout(() => controller.abort(new InterruptedError()), 30);
    await expect(
      uploadStream(options(port, stream, { signal: controller.signal })),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(stream.destroyed).toBe(true);
    expectAbortedNothingCommitted(port);
  });

  it('aborts when the signal fires while the upload is being created', async () => {
    const port = new FakePort();
    const controller = new AbortController();
    const create = port.create.bind(port);
    port.create = async (input) => {
      const id = await create(input);
      controller.abort(new InterruptedError());
      return id;
    };
    await expect(
      uploadStream(options(port, chunked(randomBytes(25), [5]), { signal: controller.signal })),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(port.attempts.size).toBe(0);
    expectAbortedNothingCommitted(port);
  });

  it('refuses zero bytes: aborts and throws the original message with exit code 1', async () => {
    const port = new FakePort();
    const err = await uploadStream(options(port, chunked(Buffer.alloc(0), [1]))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EmptyUploadError);
    expect(err).toBeInstanceOf(InternalError);
    expect((err as Error).message).toBe("Error: Can't upload zero bytes!");
    expect((err as InternalError).exitCode).toBe(1);
    expectAbortedNothingCommitted(port);
  });

  it('stops before the part limit: part N+1 aborts, N parts succeed', async () => {
    const limits = { maxParts: 3, maxObjectSize: 1000 };
    const ok = new FakePort();
    await uploadStream(options(ok, chunked(randomBytes(30), [4]), { limits }));
    expect(ok.objects.has('k')).toBe(true);

    const port = new FakePort();
    const err = await uploadStream(options(port, chunked(randomBytes(31), [4]), { limits })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/more than 3 parts/);
    expect((err as UsageError).hint).toMatch(/--estimated/);
    expect(port.attempts.has(4)).toBe(false);
    expectAbortedNothingCommitted(port);
  });

  it('stops before the object size limit', async () => {
    const port = new FakePort();
    const limits = { maxParts: 10_000, maxObjectSize: 50 };
    await expect(
      uploadStream(options(port, chunked(randomBytes(51), [7]), { limits })),
    ).rejects.toThrow(/S3 object size limit/);
    expectAbortedNothingCommitted(port);
  });

  it('deletes the object and fails when the server ETag differs', async () => {
    const port = new FakePort();
    port.headEtag = () => '"00000000000000000000000000000000-2"';
    const err = await uploadStream(options(port, chunked(randomBytes(15), [15]))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).exitCode).toBe(3);
    expect(port.calls).toContain('delete k');
    expect(port.objects.size).toBe(0);
  });

  it('keeps the object when part ETags are not MD5s (SSE-KMS): only the size is compared', async () => {
    const port = new FakePort();
    port.opaquePartEtags = true;
    port.headEtag = () => '"6b1d3c0e4a9f00000000000000000000-1"';
    const data = randomBytes(15);
    await uploadStream(options(port, chunked(data, [15])));
    expect(port.calls).not.toContain('delete k');
    expect(port.objects.get('k')?.data).toEqual(data);
  });

  it('still deletes the object when the size differs, whatever the ETags', async () => {
    const port = new FakePort();
    port.opaquePartEtags = true;
    port.head = (key) => Promise.resolve({ key, size: 14, etag: '"x-1"', metadata: {} });
    const err = await uploadStream(options(port, chunked(randomBytes(15), [15]))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IntegrityError);
    expect(port.calls).toContain('delete k');
  });

  it('says so when aborting fails too, keeping the exit code', async () => {
    const port = new FakePort();
    port.failAbort = true;
    port.onPart = () => {
      throw new StorageError('uploading part 1: AccessDenied');
    };
    const err = await uploadStream(options(port, chunked(randomBytes(15), [15]))).catch(
      (e: unknown) => e,
    );
    expect((err as StorageError).message).toMatch(/AccessDenied; aborting the upload failed too/);
    expect((err as StorageError).exitCode).toBe(5);
    expect((err as StorageError).hint).toMatch(/left pending/);
  });
});

describe('memory bound', () => {
  it('allocates at most max(concurrency, 2) part buffers, however long the input', async () => {
    const port = new FakePort();
    const result = await uploadStream(
      options(port, chunked(randomBytes(10_000), [3, 17, 64]), { concurrency: 4 }),
    );
    expect(result.parts).toBe(1000);
    expect(result.buffersAllocated).toBeLessThanOrEqual(4);

    const single = await uploadStream(
      options(new FakePort(), chunked(randomBytes(100), [7]), { concurrency: 1 }),
    );
    expect(single.buffersAllocated).toBe(2);
  });

  it('stops reading while every worker is busy (backpressure)', async () => {
    const port = new FakePort();
    const release: (() => void)[] = [];
    port.onPart = () => new Promise<void>((resolve) => release.push(resolve));
    let bytesRead = 0;
    async function* counting(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1000; i++) {
        bytesRead += 4;
        yield randomBytes(4, i);
        await Promise.resolve();
      }
    }
    const done = uploadStream(options(port, counting(), { concurrency: 4 }));
    await new Promise((r) => setTimeout(r, 50));
    // 4 parts held by the workers, none filled ahead; at most one more chunk read into nothing.
    expect(release.length).toBe(4);
    expect(bytesRead).toBeLessThanOrEqual(4 * 10 + 4);
    // One part done → exactly one more part is read.
    release.shift()?.();
    await new Promise((r) => setTimeout(r, 20));
    expect(bytesRead).toBeLessThanOrEqual(5 * 10 + 4);
    expect(release.length).toBe(4);
    port.onPart = () => undefined;
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
