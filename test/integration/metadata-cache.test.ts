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
import { storageOf, type Storage } from '../../src/storage/open.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { FaultyBackend } from '../../src/storage/wrappers/faulty.js';
import { ensureBucket, testClient, testS3, uniquePrefix } from '../s3-env.js';

const SNAP = 'zfs-auto-snap:daily';

/**
 * The backend with its cache, counting the keys of backups it stats (either path); the stat of
 * the dataset index (none here: src/commands/dataset-index.ts) is not one.
 */
function countingStorage(backend: FaultyBackend, cache: Parameters<typeof storageOf>[2]) {
  backend.calls.length = 0;
  const storage: Storage = storageOf(backend, 'bucket', cache);
  const heads = (): string[] =>
    backend.calls
      .filter((c) => (c.op === 'stat' || c.op === 'statBulk') && !c.key.includes('/.z3/'))
      .map((c) => c.key);
  return { storage, heads };
}

describe('metadata cache (real S3)', () => {
  const s3 = testS3();
  const prefix = uniquePrefix('metadata-cache');
  const client: S3Client = testClient(s3);
  const s3Backend = createS3Backend(s3.connection, s3.bucket);
  const backend = new FaultyBackend(s3Backend);
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
    for await (const o of s3Backend.list(`${prefix}/`)) await s3Backend.remove(o.key);
    client.destroy();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const cache = { dir: cacheDir, endpoint: s3.connection.endpoint, bucket: s3.bucket, warn: fail };
  const fetch = (storage: Storage) =>
    fetchRemoteSnapshots(storage, {
      prefix: `${prefix}/`,
      filesystem: 'tank/fs',
      snapshotPrefix: SNAP,
      warn: fail,
    });

  it('skips HEADs of unchanged objects and re-HEADs a replaced one', async () => {
    const cold = countingStorage(backend, cache);
    const first = await fetch(cold.storage);
    expect(cold.heads().sort()).toEqual([key(1), key(2), key(3)]);
    expect(first.map((s) => [s.name, s.isFull])).toEqual([
      [`tank/fs@${SNAP}-1`, true],
      [`tank/fs@${SNAP}-2`, false],
      [`tank/fs@${SNAP}-3`, false],
    ]);

    const warm = countingStorage(backend, cache);
    expect(await fetch(warm.storage)).toEqual(first);
    expect(warm.heads()).toEqual([]);

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
    await s3Backend.remove(key(3));
    const changed = countingStorage(backend, cache);
    const third = await fetch(changed.storage);
    expect(changed.heads()).toEqual([key(2)]);
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
