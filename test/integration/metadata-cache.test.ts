/**
 * The metadata cache (src/storage/metadata-cache.ts) against a real S3 server: a repeated
 * status-like fetch makes no HEAD for unchanged objects; an object whose metadata was replaced
 * (CopyObject with MetadataDirective REPLACE: same ETag and size, new LastModified) is HEADed
 * again and its new metadata wins; a deleted object drops out of the cache file. Needs the test
 * S3 server (test/s3-env.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRemoteSnapshots } from '../../src/commands/remote-snapshots.js';
import { createS3Store, type S3Store } from '../../src/storage/s3/store.js';
import type { ObjectInfo, ObjectReader } from '../../src/storage/types.js';
import { ensureBucket, testClient, testS3, uniquePrefix } from '../s3-env.js';

const SNAP = 'zfs-auto-snap:daily';

/** The store, counting the keys it HEADs (either path). */
function countingReader(store: S3Store): { reader: ObjectReader; heads: string[] } {
  const heads: string[] = [];
  const head = (key: string): Promise<ObjectInfo | undefined> => {
    heads.push(key);
    return store.head(key);
  };
  const reader: ObjectReader = {
    head,
    headBulk: head,
    getRange: (key, start, end, signal) => store.getRange(key, start, end, signal),
    list: (prefix) => store.list(prefix),
  };
  return { reader, heads };
}

describe('metadata cache (real S3)', () => {
  const s3 = testS3();
  const prefix = uniquePrefix('metadata-cache');
  const client: S3Client = testClient(s3);
  const store = createS3Store(s3.connection, s3.bucket);
  const cacheDir = mkdtempSync(join(tmpdir(), 'z3-cache-it-'));
  const key = (i: number): string => `${prefix}/tank/fs@${SNAP}-${i}`;

  beforeAll(async () => {
    await ensureBucket(client, s3.bucket);
    for (const i of [1, 2, 3]) {
      const metadata = i === 1 ? { isfull: 'true' } : { parent: `tank/fs@${SNAP}-${i - 1}` };
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: key(i),
          Body: `body ${i}`,
          Metadata: metadata,
        }),
      );
    }
  });

  afterAll(async () => {
    for await (const o of store.list(`${prefix}/`)) await store.delete(o.key);
    client.destroy();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const fetch = (reader: ObjectReader) =>
    fetchRemoteSnapshots(reader, {
      prefix: `${prefix}/`,
      filesystem: 'tank/fs',
      snapshotPrefix: SNAP,
      cache: { dir: cacheDir, endpoint: s3.connection.endpoint, bucket: s3.bucket, warn: fail },
    });

  it('skips HEADs of unchanged objects and re-HEADs a replaced one', async () => {
    const cold = countingReader(store);
    const first = await fetch(cold.reader);
    expect(cold.heads.sort()).toEqual([key(1), key(2), key(3)]);
    expect(first.map((s) => [s.name, s.isFull])).toEqual([
      [`tank/fs@${SNAP}-1`, true],
      [`tank/fs@${SNAP}-2`, false],
      [`tank/fs@${SNAP}-3`, false],
    ]);

    const warm = countingReader(store);
    expect(await fetch(warm.reader)).toEqual(first);
    expect(warm.heads).toEqual([]);

    // Into the next second, so that LastModified differs on servers with 1 s resolution.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await client.send(
      new CopyObjectCommand({
        Bucket: s3.bucket,
        Key: key(2),
        CopySource: `${s3.bucket}/${encodeURIComponent(key(2))}`,
        MetadataDirective: 'REPLACE',
        Metadata: { isfull: 'true', compressor: 'zstd' },
      }),
    );
    await store.delete(key(3));
    const changed = countingReader(store);
    const third = await fetch(changed.reader);
    expect(changed.heads).toEqual([key(2)]);
    expect(third.map((s) => [s.name, s.isFull, s.compressor])).toEqual([
      [`tank/fs@${SNAP}-1`, true, undefined],
      [`tank/fs@${SNAP}-2`, true, 'zstd'],
    ]);

    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    const cached = JSON.parse(readFileSync(join(cacheDir, files[0] ?? ''), 'utf8')) as {
      entries: Record<string, unknown>;
    };
    expect(Object.keys(cached.entries).sort()).toEqual([key(1), key(2)]);
  });
});

function fail(message: string): never {
  throw new Error(`unexpected cache warning: ${message}`);
}
