import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { listWithMetadata, type MetadataCacheOptions } from './listing.js';
import { MemBackend } from './mem/backend.js';
import { FaultyBackend } from './wrappers/faulty.js';

describe('listWithMetadata with the metadata cache', () => {
  let dir: string;
  let mem: MemBackend;
  let backend: FaultyBackend;
  let warnings: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-listing-'));
    mem = new MemBackend({ now: () => Date.parse('2026-01-01T00:00:00Z') });
    backend = new FaultyBackend(mem);
    warnings = [];
    mem.seed('p/tank@snap-1', Buffer.from('one'), { isfull: 'true' });
    mem.seed('p/tank@snap-2', Buffer.from('two'), { parent: 'tank@snap-1' });
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const cache = (over: Partial<MetadataCacheOptions> = {}): MetadataCacheOptions => ({
    dir: join(dir, 'cache'),
    endpoint: undefined,
    bucket: 'b',
    warn: (m) => warnings.push(m),
    ...over,
  });
  const stats = (): string[] => backend.ops('stat').map((c) => c.key);

  it('stats only what the listing shows changed, and the new metadata wins', async () => {
    const first = await listWithMetadata(backend, 'p/', cache());
    expect(stats()).toHaveLength(2);
    backend.calls.length = 0;
    expect(await listWithMetadata(backend, 'p/', cache())).toEqual(first);
    expect(stats()).toEqual([]);
    // A metadata-replacing copy: same bytes and ETag, a new LastModified.
    const two = mem.objects.get('p/tank@snap-2')!;
    mem.objects.set('p/tank@snap-2', {
      ...two,
      metadata: { isfull: 'true' },
      lastModified: '2026-01-02T00:00:00.000Z',
    });
    const third = await listWithMetadata(backend, 'p/', cache());
    expect(stats()).toEqual(['p/tank@snap-2']);
    expect(third.find((o) => o.key === 'p/tank@snap-2')?.metadata).toEqual({ isfull: 'true' });
    expect(warnings).toEqual([]);
  });

  it('always stats without a cache', async () => {
    await listWithMetadata(backend, 'p/');
    await listWithMetadata(backend, 'p/');
    expect(stats()).toHaveLength(4);
  });

  it('never uses the cache for a backend whose listing cannot validate it', async () => {
    const unstable: Backend = Object.assign(Object.create(backend) as FaultyBackend, {
      features: { hasStableListing: false },
    });
    await listWithMetadata(unstable, 'p/', cache());
    await listWithMetadata(unstable, 'p/', cache());
    expect(stats()).toHaveLength(4);
  });

  it('uses the bulk stat where the backend has one', async () => {
    const bulk: string[] = [];
    const bulky: Backend = Object.assign(Object.create(backend) as FaultyBackend, {
      features: {
        hasStableListing: true,
        statBulk: (key: string) => {
          bulk.push(key);
          return mem.stat(key);
        },
      },
    });
    const infos = await listWithMetadata(bulky, 'p/');
    expect(infos.map((i) => i.key)).toEqual(['p/tank@snap-1', 'p/tank@snap-2']);
    expect(bulk).toHaveLength(2);
    expect(stats()).toEqual([]);
  });

  it('leaves out an object removed between the listing and its stat', async () => {
    backend.script = (call) => {
      if (call.op === 'stat' && call.key === 'p/tank@snap-1') mem.objects.delete(call.key);
    };
    const infos = await listWithMetadata(backend, 'p/', cache());
    expect(infos.map((i) => i.key)).toEqual(['p/tank@snap-2']);
  });

  it('warns, and still answers, when the cache cannot be written', async () => {
    const blocked = join(dir, 'file');
    writeFileSync(blocked, '');
    const infos = await listWithMetadata(backend, 'p/', cache({ dir: join(blocked, 'cache') }));
    expect(infos.map((i) => i.key)).toEqual(['p/tank@snap-1', 'p/tank@snap-2']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^cannot write the metadata cache .*\/file\/cache\/metadata-/);
  });
});
