/**
 * uploadStream of a stream that ends within its first part: one `Backend.put` with the body's
 * MD5 (the memory backend verifies it: BadDigest otherwise), no multipart write at all; the commit gate still decides, `ifNoneMatch` still protects
 * another writer's object, and a failed put leaves nothing behind.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CommitConflictError, StorageError } from '../errors.js';
import { S3_LIMITS } from '../storage/limits.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend, type FaultScript } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { EmptyUploadError, uploadStream, type UploadStreamOptions } from './uploader.js';

function setup(script?: FaultScript): { mem: MemBackend; faulty: FaultyBackend } {
  const mem = new MemBackend({ limits: { ...S3_LIMITS, minPartSize: 1 } });
  return { mem, faulty: new FaultyBackend(mem, script) };
}

function options(
  faulty: FaultyBackend,
  data: Uint8Array,
  over: Partial<UploadStreamOptions> = {},
): UploadStreamOptions {
  return {
    source: Readable.from([data.subarray(0, 3), data.subarray(3)]),
    backend: faulty,
    key: 'k',
    metadata: { ana: 'are' },
    storageClass: 'STANDARD',
    partSize: 100,
    concurrency: 4,
    ...over,
  };
}

/** The calls the backend saw, in order, without reads and the checks after a commit. */
const writes = (faulty: FaultyBackend): string[] =>
  faulty.calls
    .filter((c) => c.isAfter !== true && c.op !== 'stat' && c.op !== 'statBulk')
    .map((c) => c.op);

describe('uploadStream: a stream smaller than one part', () => {
  it('goes up in one put with its MD5, no multipart write', async () => {
    const { mem, faulty } = setup();
    const data = Buffer.from('a stream of 99 bytes '.repeat(5).slice(0, 99));
    const result = await uploadStream(options(faulty, data));
    expect(writes(faulty)).toEqual(['put']);
    const stored = mem.objects.get('k');
    expect(result).toEqual({ etag: stored?.etag, size: 99, parts: 1, buffersAllocated: 1 });
    expect(Buffer.from(stored?.data ?? []).equals(data)).toBe(true);
    expect(stored?.metadata).toEqual({ ana: 'are' });
    expect(mem.pending.size).toBe(0);
  });

  it('a stream of exactly one part or more stays a multipart write', async () => {
    const { faulty } = setup();
    const result = await uploadStream(options(faulty, Buffer.alloc(100, 1)));
    expect(result.parts).toBe(1);
    expect(writes(faulty)).toEqual(['openWriter', 'writeChunk', 'complete']);
  });

  it('puts only after the commit gate resolves; a failing gate puts nothing', async () => {
    const { mem, faulty } = setup();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const upload = uploadStream(
      options(faulty, Buffer.from('abc'), { beforeComplete: () => gate }),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(writes(faulty)).toEqual([]);
    open();
    await upload;
    expect(writes(faulty)).toEqual(['put']);

    const failing = uploadStream(
      options(faulty, Buffer.from('xyz'), {
        key: 'k2',
        beforeComplete: () => Promise.reject(new StorageError('zfs send died')),
      }),
    );
    await expect(failing).rejects.toThrow('zfs send died');
    expect(mem.objects.has('k2')).toBe(false);
  });

  it("with ifNoneMatch, leaves another writer's object in place (CommitConflictError)", async () => {
    const { mem, faulty } = setup();
    await uploadStream(options(faulty, Buffer.from('first')));
    const err = await uploadStream(
      options(faulty, Buffer.from('second'), { ifNoneMatch: true }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitConflictError);
    expect(Buffer.from(mem.objects.get('k')?.data ?? []).toString()).toBe('first');
    await uploadStream(options(faulty, Buffer.from('third'))); // pput may replace a key
    expect(Buffer.from(mem.objects.get('k')?.data ?? []).toString()).toBe('third');
  });

  it('a failed put leaves nothing and rejects with its error', { tags: ['faults'] }, async () => {
    const { mem, faulty } = setup((call) => {
      if (call.op === 'put') throw new StorageError('500 from the server', { isRetryable: false });
    });
    await expect(uploadStream(options(faulty, Buffer.from('abc')))).rejects.toThrow('500 from');
    injected('S3 error', faulty.thrown);
    expect(mem.objects.size).toBe(0);
    expect(mem.pending.size).toBe(0);
  });

  it('empty input: opens no write at all', { tags: ['faults'] }, async () => {
    const { mem, faulty } = setup();
    const err = await uploadStream(options(faulty, Buffer.alloc(0))).catch((e: unknown) => e);
    injected('bad input');
    expect(err).toBeInstanceOf(EmptyUploadError);
    expect(writes(faulty)).toEqual([]);
    expect(mem.objects.size + mem.pending.size).toBe(0);
  });
});
