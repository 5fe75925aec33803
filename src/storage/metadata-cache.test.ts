import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  lookupCachedInfo,
  metadataCachePath,
  readMetadataCache,
  writeMetadataCache,
  type CachedMetadata,
} from './metadata-cache.js';
import type { ListedObject } from './backend.js';
import { injected } from '../testing/faults.js';

const LISTED: ListedObject = {
  key: 'z3/tank@s1',
  size: 100,
  etag: '"abc"',
  lastModified: '2026-01-01T00:00:00.000Z',
};
const ENTRY: CachedMetadata = {
  etag: '"abc"',
  size: 100,
  lastModified: '2026-01-01T00:00:00.000Z',
  metadata: { isfull: 'true' },
};

describe('metadata cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-cache-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const scope = (over: Partial<{ endpoint: string; bucket: string; prefix: string }> = {}) => ({
    dir: join(dir, 'z3'),
    endpoint: 'http://s3:9000',
    bucket: 'b',
    prefix: 'z3/tank@',
    ...over,
  });

  it('names one file per endpoint, bucket and prefix', () => {
    const path = metadataCachePath(scope());
    expect(path).toMatch(/\/z3\/metadata-[0-9a-f]{16}\.json$/);
    expect(metadataCachePath(scope())).toBe(path);
    for (const other of [{ endpoint: 'http://x' }, { bucket: 'c' }, { prefix: 'z3/tank@a' }]) {
      expect(metadataCachePath(scope(other))).not.toBe(path);
    }
  });

  it('hits only when ETag, size and LastModified all match the listing', () => {
    const cache = new Map([[LISTED.key, ENTRY]]);
    expect(lookupCachedInfo(cache, LISTED)).toEqual({
      key: LISTED.key,
      size: 100,
      etag: '"abc"',
      metadata: { isfull: 'true' },
    });
    expect(lookupCachedInfo(cache, { ...LISTED, etag: '"def"' })).toBeUndefined();
    expect(lookupCachedInfo(cache, { ...LISTED, size: 101 })).toBeUndefined();
    const copied = { ...LISTED, lastModified: '2026-01-01T00:00:01.000Z' };
    expect(lookupCachedInfo(cache, copied)).toBeUndefined();
    expect(lookupCachedInfo(cache, { ...LISTED, key: 'other' })).toBeUndefined();
  });

  it('never hits when the listing lacks an ETag or LastModified', () => {
    const cache = new Map([[LISTED.key, { ...ENTRY, etag: '', lastModified: '' }]]);
    expect(lookupCachedInfo(cache, { ...LISTED, etag: '', lastModified: '' })).toBeUndefined();
  });

  it('writes and reads back exactly the given entries (deleted objects drop out)', async () => {
    const path = metadataCachePath(scope());
    await writeMetadataCache(
      path,
      new Map([
        [LISTED.key, ENTRY],
        ['z3/tank@gone', ENTRY],
      ]),
    );
    await writeMetadataCache(path, new Map([[LISTED.key, ENTRY]]));
    const read = await readMetadataCache(path);
    expect([...read.entries()]).toEqual([[LISTED.key, ENTRY]]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      entries: { [LISTED.key]: ENTRY },
    });
  });

  it('writes atomically: mode 0600 in a 0700 directory, no temporary file left', async () => {
    const path = metadataCachePath(scope());
    await writeMetadataCache(path, new Map([[LISTED.key, ENTRY]]));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'z3')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'z3'))).toEqual([path.split('/').pop()]);
  });

  it('leaves the old file and no temporary file when the write fails', async () => {
    const path = metadataCachePath(scope());
    await writeMetadataCache(path, new Map([[LISTED.key, ENTRY]]));
    const blocked = join(dir, 'file');
    writeFileSync(blocked, '');
    await expect(writeMetadataCache(join(blocked, 'm.json'), new Map())).rejects.toThrow();
    expect((await readMetadataCache(path)).size).toBe(1);
    expect(readdirSync(join(dir, 'z3'))).toHaveLength(1);
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{"version": 1, "entr'],
    ['another version', JSON.stringify({ version: 2, entries: { k: ENTRY } })],
    ['entries not an object', JSON.stringify({ version: 1, entries: [ENTRY] })],
    ['null', 'null'],
  ])('reads a %s file as empty', async (_name, text) => {
    const path = join(dir, 'metadata.json');
    if (text !== undefined) writeFileSync(path, text);
    expect((await readMetadataCache(path)).size).toBe(0);
  });

  it('drops malformed entries one by one', async () => {
    const path = join(dir, 'metadata.json');
    const entries = {
      good: ENTRY,
      noSize: { ...ENTRY, size: '100' },
      badMeta: { ...ENTRY, metadata: { a: 1 } },
      scalar: 3,
    };
    writeFileSync(path, JSON.stringify({ version: 1, entries }));
    expect([...(await readMetadataCache(path)).keys()]).toEqual(['good']);
  });

  it.each([
    ['owned by another user', (path: string) => chownSync(path, 4242, 4242)],
    ['group-writable', (path: string) => chmodSync(path, 0o660)],
    ['world-writable', (path: string) => chmodSync(path, 0o606)],
  ])('reads a file %s as empty', { tags: ['faults'] }, async (_name, spoil) => {
    const path = metadataCachePath(scope());
    await writeMetadataCache(path, new Map([[LISTED.key, ENTRY]]));
    spoil(path);
    injected('corrupt data');
    expect((await readMetadataCache(path)).size).toBe(0);
  });

  it('reads a symbolic link as empty', async () => {
    const path = metadataCachePath(scope());
    await writeMetadataCache(path, new Map([[LISTED.key, ENTRY]]));
    const link = join(dir, 'z3', 'link.json');
    symlinkSync(path, link);
    expect((await readMetadataCache(link)).size).toBe(0);
  });

  it('refuses to write into a directory others can write', { tags: ['faults'] }, async () => {
    const path = metadataCachePath(scope());
    await writeMetadataCache(path, new Map([[LISTED.key, ENTRY]]));
    chmodSync(join(dir, 'z3'), 0o777);
    injected('bad input');
    await expect(writeMetadataCache(path, new Map())).rejects.toThrow(/world-writable/);
    chmodSync(join(dir, 'z3'), 0o700);
    expect((await readMetadataCache(path)).size).toBe(1);
  });
});
