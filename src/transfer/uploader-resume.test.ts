import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../errors.js';
import type { BackendLimits } from '../storage/backend.js';
import { S3_LIMITS } from '../storage/limits.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { uploadStream, type UploadStreamOptions } from './uploader.js';

/** S3's limits but parts of any size, so tests use 10-byte parts. */
const SMALL_PARTS: BackendLimits = { ...S3_LIMITS, minPartSize: 1 };
const KEY = 'z3-backup/tank@snap';
const PART = 10;

function bytes(n: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) % 256));
}

async function* source(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += 7) {
    yield data.subarray(at, at + 7);
    await Promise.resolve();
  }
}

function options(
  backend: FaultyBackend,
  data: Uint8Array,
  more: Partial<UploadStreamOptions> = {},
): UploadStreamOptions {
  return {
    source: source(data),
    backend,
    key: KEY,
    metadata: { isfull: 'true' },
    storageClass: undefined,
    partSize: PART,
    concurrency: 3,
    ...more,
  };
}

/**
 * A first run interrupted once `parts` parts are on the server, its write kept pending (as a
 * killed run leaves it). Returns the pending write's id.
 */
async function interruptedRun(
  backend: FaultyBackend,
  data: Uint8Array,
  parts: number,
): Promise<string> {
  const controller = new AbortController();
  let id = '';
  let written = 0;
  const run = uploadStream(
    options(backend, data, {
      concurrency: 1,
      signal: controller.signal,
      onOpened: (w) => Promise.resolve(void (id = w.id)),
      keepPending: () => true,
      onPart: () => {
        written += 1;
        if (written === parts) controller.abort(new InterruptedError('interrupted by SIGTERM'));
      },
    }),
  );
  await expect(run).rejects.toThrow(InterruptedError);
  injected('signal', 1);
  return id;
}

/** Resume the pending write `id` with `data` regenerated; the chunk writes this run made. */
async function resumedRun(backend: FaultyBackend, data: Uint8Array, id: string) {
  const chunks = await backend.listChunks({ key: KEY, id });
  const writer = await backend.resumeWriter({
    key: KEY,
    id,
    metadata: { isfull: 'true' },
    chunkSize: PART,
  });
  const before = backend.ops('writeChunk').length;
  const result = await uploadStream(options(backend, data, { resume: { writer, chunks } }));
  const sent = backend
    .ops('writeChunk')
    .slice(before)
    .map((c) => c.chunk);
  return { result, sent: sent.sort((a, b) => (a ?? 0) - (b ?? 0)) };
}

describe('uploadStream resume (verified part skip)', () => {
  it(
    "parts equal to the server's are not sent again; the object is the whole stream",
    { tags: ['faults'] },
    async () => {
      const mem = new MemBackend({ limits: SMALL_PARTS });
      const backend = new FaultyBackend(mem);
      const data = bytes(95, 1); // 10 parts, the last of 5 bytes
      const id = await interruptedRun(backend, data, 4);
      expect(mem.pending.get(id)?.chunks.size).toBe(4);
      const { result, sent } = await resumedRun(backend, data, id);
      expect(sent).toEqual([5, 6, 7, 8, 9, 10]);
      expect(result.resumed).toEqual({
        listedParts: 4,
        parts: 4,
        bytes: 40,
        firstMismatch: undefined,
      });
      expect(mem.objects.get(KEY)?.data.equals(data)).toBe(true);
      expect(mem.pending.size).toBe(0);
    },
  );

  it(
    "from the first part that differs on, every part is sent again; the object is exactly the second run's bytes",
    { tags: ['faults'] },
    async () => {
      const mem = new MemBackend({ limits: SMALL_PARTS });
      const backend = new FaultyBackend(mem);
      const first = bytes(95, 2);
      const id = await interruptedRun(backend, first, 6);
      // The second run's stream differs in part 3 only (a byte injected there).
      const second = Buffer.concat([
        first.subarray(0, 25),
        Buffer.from([0xaa]),
        first.subarray(25, 94),
      ]);
      expect(second.length).toBe(95);
      const { result, sent } = await resumedRun(backend, second, id);
      expect(sent).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(result.resumed).toEqual({ listedParts: 6, parts: 2, bytes: 20, firstMismatch: 3 });
      expect(mem.objects.get(KEY)?.data.equals(second)).toBe(true);
    },
  );

  it('a last part of another size is sent again, even with equal leading bytes', async () => {
    const mem = new MemBackend({ limits: SMALL_PARTS });
    const backend = new FaultyBackend(mem);
    const first = bytes(35, 3); // parts 1-3 full, 4 of 5 bytes
    const writer = await backend.openWriter({
      key: KEY,
      metadata: { isfull: 'true' },
      chunkSize: PART,
    });
    const written = await uploadStream(
      options(backend, first, {
        resume: { writer, chunks: [] },
        beforeComplete: () => Promise.reject(new Error('gate')),
        keepPending: () => true,
      }),
    ).catch((e: unknown) => e);
    expect(written).toBeInstanceOf(Error);
    const longer = Buffer.concat([first, bytes(3, 4)]); // part 4 is now 8 bytes
    const { result, sent } = await resumedRun(backend, longer, writer.id);
    expect(sent).toEqual([4]);
    expect(result.resumed?.firstMismatch).toBe(4);
    expect(mem.objects.get(KEY)?.data.equals(longer)).toBe(true);
  });

  it('without keepPending an interrupted upload is aborted, as before', async () => {
    const mem = new MemBackend({ limits: SMALL_PARTS });
    const controller = new AbortController();
    controller.abort(new InterruptedError('interrupted by SIGINT'));
    const run = uploadStream(
      options(new FaultyBackend(mem), bytes(95, 5), { signal: controller.signal }),
    );
    await expect(run).rejects.toThrow(InterruptedError);
    expect(mem.pending.size).toBe(0);
  });
});
