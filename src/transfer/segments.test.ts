import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { computeHealth } from '../plan/health.js';
import { parseRemoteSnapshots } from '../plan/remote.js';
import { markerKey, segmentKey, SEGMENT_DIR_KEY } from '../plan/segments.js';
import type { Backend, BackendLimits, ChunkWriter } from '../storage/backend.js';
import { listWithMetadata } from '../storage/listing.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBackend } from '../storage/local/backend.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { StorageError } from '../errors.js';
import { injected } from '../testing/faults.js';
import { findOrphanSegments } from './segment-orphans.js';
import { segmentCapacity, uploadSegmented, type SegmentedUploadOptions } from './segments.js';
import {
  keysStream,
  removeBackup,
  resolveSegments,
  snapshotKeys,
  streamAt,
} from './segments-read.js';

const LIMITS: BackendLimits = {
  minPartSize: 1,
  maxPartSize: 64,
  maxParts: 100,
  maxObjectSize: 1e6,
};
const PREFIX = 'z3-backup/';
const NAME = 'tank/data@snap1';
const KEY = `${PREFIX}${NAME}`;

function bytes(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));
}

/** The backend with every chunk size written, per key, recorded. */
function recording(backend: Backend): { backend: Backend; chunks: Map<string, number[]> } {
  const chunks = new Map<string, number[]>();
  const openWriter = async (input: Parameters<Backend['openWriter']>[0]): Promise<ChunkWriter> => {
    const writer = await backend.openWriter(input);
    const sizes: number[] = [];
    chunks.set(input.key, sizes);
    return {
      key: writer.key,
      id: writer.id,
      digest: writer.digest,
      writeChunk: (chunk) => (sizes.push(chunk.body.length), writer.writeChunk(chunk)),
      complete: (c) => writer.complete(c),
      abort: () => writer.abort(),
    };
  };
  const wrapped: Backend = Object.assign(Object.create(backend) as Backend, { openWriter });
  return { backend: wrapped, chunks };
}

function upload(backend: Backend, data: Buffer, extra: Partial<SegmentedUploadOptions> = {}) {
  return uploadSegmented({
    source: Readable.from([data.subarray(0, 5), data.subarray(5)].filter((b) => b.length > 0)),
    backend,
    key: KEY,
    metadata: { size: String(data.length), isfull: 'true' },
    storageClass: undefined,
    partSize: 4,
    concurrency: 2,
    prefix: PREFIX,
    snapshotName: NAME,
    segmentSize: 12,
    ...extra,
  });
}

async function remote(backend: Backend) {
  const infos = await listWithMetadata(backend, `${PREFIX}tank/data@`);
  return resolveSegments(backend, parseRemoteSnapshots(PREFIX, infos));
}

async function readBack(backend: Backend): Promise<Buffer> {
  const [snapshot] = await remote(backend);
  const options = { backend, key: KEY, chunkSize: 5, concurrency: 2 };
  return buffer(keysStream(options, snapshotKeys(snapshot!)));
}

describe('segmentCapacity', () => {
  it('is the smallest of SEGMENT_SIZE, parts × part size and the object limit, in whole parts', () => {
    const limits = { maxParts: 10, maxObjectSize: 1000 };
    expect(segmentCapacity({ segmentSize: 14, partSize: 4, limits })).toBe(12);
    expect(segmentCapacity({ segmentSize: undefined, partSize: 4, limits })).toBe(40);
    expect(segmentCapacity({ segmentSize: undefined, partSize: 300, limits })).toBe(900);
    expect(() => segmentCapacity({ segmentSize: 3, partSize: 4, limits })).toThrow(UsageError);
  });
});

describe('uploadSegmented on the memory backend', () => {
  it('rolls over at the capacity: 30 bytes in segments of 12, 12 and 6, equal parts per upload', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    const { backend, chunks } = recording(mem);
    const data = bytes(30);
    const result = await upload(backend, data);
    expect(result).toMatchObject({ size: 30, segments: 3 });
    const dir = mem.objects.get(KEY)!.metadata[SEGMENT_DIR_KEY]!;
    expect(dir).toMatch(/^z3-backup\/\.z3\/segments\/tank\/data@snap1\/[0-9a-f]{12}\/$/);
    expect(mem.objects.get(KEY)!.data.length).toBe(12);
    expect(mem.objects.get(segmentKey(dir, 2))!.data.length).toBe(12);
    expect(mem.objects.get(segmentKey(dir, 3))!.data.length).toBe(6);
    expect(mem.objects.has(markerKey(dir, 3))).toBe(true);
    expect(chunks.get(KEY)).toEqual([4, 4, 4]);
    expect(chunks.get(segmentKey(dir, 3))).toEqual([4, 2]);
    expect(await readBack(mem)).toEqual(data);
    const [snapshot] = await remote(mem);
    expect(snapshot!.objectSize).toBe(30);
    expect(snapshot!.segmentProblem).toBeUndefined();
    expect(snapshot!.segments?.map((s) => s.size)).toEqual([12, 12, 6]);
    expect(computeHealth([snapshot!]).get(NAME)).toBe('ok');
  });

  it('rolls over at the part-count limit when SEGMENT_SIZE is unset', async () => {
    const mem = new MemBackend({ limits: { ...LIMITS, maxParts: 2 } });
    const data = bytes(19);
    expect(await upload(mem, data, { segmentSize: undefined })).toMatchObject({ segments: 3 });
    expect(await readBack(mem)).toEqual(data);
  });

  it('ends exactly at a boundary: two full segments and a marker naming 2, no empty segment', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    const data = bytes(24);
    expect(await upload(mem, data)).toMatchObject({ size: 24, segments: 2 });
    const dir = mem.objects.get(KEY)!.metadata[SEGMENT_DIR_KEY]!;
    expect([...mem.objects.keys()].filter((k) => k.startsWith(dir)).sort()).toEqual([
      segmentKey(dir, 2),
      markerKey(dir, 2),
    ]);
    expect(await readBack(mem)).toEqual(data);
  });

  it('a stream of exactly one segment gets a marker naming 1; a shorter one needs none', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    await upload(mem, bytes(12));
    const dir = mem.objects.get(KEY)!.metadata[SEGMENT_DIR_KEY]!;
    expect([...mem.objects.keys()].filter((k) => k.startsWith(dir))).toEqual([markerKey(dir, 1)]);
    expect(await readBack(mem)).toEqual(bytes(12));
    const short = new MemBackend({ limits: LIMITS });
    await upload(short, bytes(11));
    expect([...short.objects.keys()]).toEqual([KEY]);
    expect(await readBack(short)).toEqual(bytes(11));
  });

  it.each([
    ['a middle segment', 2, 'missing segment 2'],
    ['the last segment', 3, 'missing segment 3'],
  ])(
    '%s missing: the backup is broken, its child too, and reading it is refused',
    async (_c, n, why) => {
      const mem = new MemBackend({ limits: LIMITS });
      await upload(mem, bytes(30));
      const dir = mem.objects.get(KEY)!.metadata[SEGMENT_DIR_KEY]!;
      mem.objects.delete(segmentKey(dir, n));
      mem.seed(`${PREFIX}tank/data@snap2`, bytes(40), { size: '40', parent: NAME });
      const snapshots = await remote(mem);
      const health = computeHealth(snapshots);
      expect(health.get(NAME)).toBe(why);
      expect(health.get('tank/data@snap2')).toBe('parent broken');
      expect(() => snapshotKeys(snapshots[0]!)).toThrow(why);
      await expect(streamAt(mem, KEY)).rejects.toThrow(why);
    },
  );

  it('every segment and the marker missing: broken (the full first object says more follow)', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    await upload(mem, bytes(12));
    for (const key of [...mem.objects.keys()]) if (key !== KEY) mem.objects.delete(key);
    expect(computeHealth(await remote(mem)).get(NAME)).toBe('missing segment 2');
  });

  it('a failing commit gate commits nothing and removes the segments already written', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    const gate = () => Promise.reject(new Error('zfs send exited 1'));
    await expect(upload(mem, bytes(30), { beforeComplete: gate })).rejects.toThrow('exited 1');
    expect([...mem.objects.keys()]).toEqual([]);
    expect(mem.pending.size).toBe(0);
  });

  it(
    'an S3 error in segment 3 commits no backup, aborts every upload and removes segment 2',
    { tags: ['faults'] },
    async () => {
      const mem = new MemBackend({ limits: LIMITS });
      const faulty = new FaultyBackend(mem, (call) => {
        if (call.op === 'writeChunk' && call.key.endsWith('/00003') && call.chunk === 1) {
          injected('S3 error', 1);
          throw new StorageError('InternalError (HTTP 500)');
        }
      });
      await expect(upload(faulty, bytes(30))).rejects.toThrow('HTTP 500');
      expect([...mem.objects.keys()]).toEqual([]);
      expect(mem.pending.size).toBe(0);
    },
  );

  it('removeBackup deletes the segments and the marker, then the backup object', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    await upload(mem, bytes(30));
    const [snapshot] = await remote(mem);
    await removeBackup(mem, snapshot!);
    expect([...mem.objects.keys()]).toEqual([]);
  });

  it('findOrphanSegments: segments whose backup object is gone or names another run', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    await upload(mem, bytes(30));
    expect(await findOrphanSegments(mem, PREFIX)).toEqual([]);
    const dir = mem.objects.get(KEY)!.metadata[SEGMENT_DIR_KEY]!;
    mem.objects.delete(KEY);
    const orphans = await findOrphanSegments(mem, PREFIX);
    expect(orphans).toMatchObject([{ dir, snapshotName: NAME, bytes: 18 + markerBytes(mem, dir) }]);
    expect(orphans[0]!.keys.sort()).toEqual([
      segmentKey(dir, 2),
      segmentKey(dir, 3),
      markerKey(dir, 3),
    ]);
  });

  it('a local directory (BACKUP_DIR) holds and lists the segments under .z3/ too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'z3-segments-'));
    try {
      const local = createLocalBackend(root);
      const data = bytes(30);
      expect(await upload(local, data)).toMatchObject({ segments: 3 });
      const [snapshot] = await remote(local);
      expect(snapshot!.segments?.length).toBe(3);
      expect(await readBack(local)).toEqual(data);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keys under an empty prefix: segments live under .z3/, outside every dataset listing', async () => {
    const mem = new MemBackend({ limits: LIMITS });
    const data = bytes(30);
    await upload(mem, data, { prefix: '', key: NAME });
    const dir = mem.objects.get(NAME)!.metadata[SEGMENT_DIR_KEY]!;
    expect(dir.startsWith('.z3/segments/tank/data@snap1/')).toBe(true);
    const listed = [];
    for await (const o of mem.list('tank/data@')) listed.push(o.key);
    expect(listed).toEqual([NAME]);
    const stream = await streamAt(mem, NAME);
    const options = { backend: mem, key: NAME, chunkSize: 7, concurrency: 1 };
    expect(await buffer(keysStream(options, stream.keys))).toEqual(data);
    expect(stream.size).toBe(30);
  });
});

function markerBytes(mem: MemBackend, dir: string): number {
  return mem.objects.get(markerKey(dir, 3))!.data.length;
}
