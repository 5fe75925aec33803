import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListedObject, ObjectInfo, ObjectReader } from '../storage/types.js';
import { fetchRemoteSnapshots, type RemoteCacheOptions } from './remote-snapshots.js';

interface StoredObject {
  etag: string;
  lastModified: string;
  metadata: Record<string, string>;
}

/** An in-memory bucket that counts HEADs. */
class MemoryReader implements ObjectReader {
  readonly objects = new Map<string, StoredObject>();
  heads: string[] = [];

  head(key: string): Promise<ObjectInfo | undefined> {
    this.heads.push(key);
    const o = this.objects.get(key);
    return Promise.resolve(o && { key, size: 4, etag: o.etag, metadata: { ...o.metadata } });
  }

  getRange(): Promise<Uint8Array> {
    return Promise.reject(new Error('not used'));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    await Promise.resolve(); // a page arrives later, as from a server
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const o = this.objects.get(key) as StoredObject;
      yield { key, size: 4, etag: o.etag, lastModified: o.lastModified };
    }
  }
}

const T0 = '2026-01-01T00:00:00.000Z';

describe('fetchRemoteSnapshots with the metadata cache', () => {
  let dir: string;
  let reader: MemoryReader;
  let warnings: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-remote-'));
    reader = new MemoryReader();
    warnings = [];
    reader.objects.set('p/tank@snap-1', {
      etag: '"1"',
      lastModified: T0,
      metadata: { isfull: 'true' },
    });
    reader.objects.set('p/tank@snap-2', {
      etag: '"2"',
      lastModified: T0,
      metadata: { parent: 'tank@snap-1' },
    });
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const cache = (over: Partial<RemoteCacheOptions> = {}): RemoteCacheOptions => ({
    dir: join(dir, 'cache'),
    endpoint: undefined,
    bucket: 'b',
    warn: (m) => warnings.push(m),
    ...over,
  });
  const fetch = (c: RemoteCacheOptions | 'none' = cache()) =>
    fetchRemoteSnapshots(reader, {
      prefix: 'p/',
      filesystem: 'tank',
      snapshotPrefix: 'snap',
      cache: c === 'none' ? undefined : c,
    });

  it('HEADs only what the listing shows changed, and the new metadata wins', async () => {
    const first = await fetch();
    expect(reader.heads).toHaveLength(2);
    reader.heads = [];
    expect(await fetch()).toEqual(first);
    expect(reader.heads).toEqual([]);
    reader.objects.set('p/tank@snap-2', {
      etag: '"2"',
      lastModified: '2026-01-02T00:00:00.000Z',
      metadata: { isfull: 'true' },
    });
    const third = await fetch();
    expect(reader.heads).toEqual(['p/tank@snap-2']);
    expect(third.find((s) => s.name === 'tank@snap-2')?.isFull).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('always HEADs without a cache', async () => {
    await fetch('none');
    await fetch('none');
    expect(reader.heads).toHaveLength(4);
  });

  it('warns, and still answers, when the cache cannot be written', async () => {
    const blocked = join(dir, 'file');
    writeFileSync(blocked, '');
    const snapshots = await fetch(cache({ dir: join(blocked, 'cache') }));
    expect(snapshots.map((s) => s.name)).toEqual(['tank@snap-1', 'tank@snap-2']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^cannot write the metadata cache .*\/file\/cache\/metadata-/);
  });
});
