/**
 * S3Store against a real S3 server: every ObjectStore method, its not-found behaviour and its
 * error classification. Needs the test S3 server (test/s3-env.ts).
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { createS3Store } from '../../src/storage/s3/store.js';
import { useTestBucket } from '../s3-env.js';

const MiB = 1024 * 1024;

function md5Base64(b: Uint8Array): string {
  return createHash('md5').update(b).digest('base64');
}

describe('S3Store (real S3)', () => {
  const { s3, prefix, client, store } = useTestBucket('s3-store');

  it('runs a multipart upload: create, parts, complete, head with metadata', async () => {
    const key = `${prefix}/mp`;
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.from('tail')];
    const uploadId = await store.create({
      key,
      metadata: { isfull: 'true', parent: 'tank/a@s1' },
      storageClass: 'STANDARD',
    });
    expect(await store.listMultipartUploads(key)).toEqual([{ key, uploadId }]);
    const etags = [];
    for (const [i, body] of parts.entries()) {
      etags.push(
        await store.uploadPart({
          key,
          uploadId,
          partNumber: i + 1,
          body,
          md5Base64: md5Base64(body),
        }),
      );
    }
    // Completed out of order on purpose: the store sorts.
    await store.complete({
      key,
      uploadId,
      parts: [
        { partNumber: 2, etag: etags[1] ?? '' },
        { partNumber: 1, etag: etags[0] ?? '' },
      ],
    });
    const info = await store.head(key);
    expect(info).toMatchObject({
      key,
      size: 5 * MiB + 4,
      metadata: { isfull: 'true', parent: 'tank/a@s1' },
    });
    expect(info?.etag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(await store.listMultipartUploads(key)).toEqual([]);
    expect(
      Buffer.from(await store.getRange(key, 5 * MiB - 1, 5 * MiB + 3)).toString('latin1'),
    ).toBe('\x01tail');
  });

  it('aborts an upload; aborting again is not an error', async () => {
    const key = `${prefix}/aborted`;
    const uploadId = await store.create({ key, metadata: {}, storageClass: undefined });
    await store.abort({ key, uploadId });
    await store.abort({ key, uploadId });
    expect(await store.listMultipartUploads(key)).toEqual([]);
  });

  it('lists keys under a prefix in lexical order, with sizes', async () => {
    for (const name of ['b', 'a', 'c/d']) {
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/list/${name}`, Body: name }),
      );
    }
    const listed = [];
    for await (const o of store.list(`${prefix}/list/`)) listed.push(o);
    expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([
      { key: `${prefix}/list/a`, size: 1 },
      { key: `${prefix}/list/b`, size: 1 },
      { key: `${prefix}/list/c/d`, size: 3 },
    ]);
    for (const o of listed) {
      const head = await store.head(o.key);
      expect(o.etag).toBe(head?.etag);
      expect(o.etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(Number.isNaN(Date.parse(o.lastModified))).toBe(false);
    }
  });

  it('treats missing keys as documented', async () => {
    const key = `${prefix}/missing`;
    expect(await store.head(key)).toBeUndefined();
    await store.delete(key);
    const err = await store.getRange(key, 0, 9).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isNotFound).toBe(true);
    expect((err as StorageError).isRetryable).toBe(false);
  });

  it('refuses a part whose Content-MD5 does not match, permanently', async () => {
    const key = `${prefix}/bad-md5`;
    const uploadId = await store.create({ key, metadata: {}, storageClass: undefined });
    const err = await store
      .uploadPart({
        key,
        uploadId,
        partNumber: 1,
        body: Buffer.from('x'),
        md5Base64: md5Base64(Buffer.from('y')),
      })
      .catch((e: unknown) => e);
    await store.abort({ key, uploadId });
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isRetryable).toBe(false);
    expect((err as StorageError).message).toMatch(
      /^uploading part 1 of .*\/bad-md5: \w+ \(HTTP 400\)/,
    );
  });

  it('reports bad credentials as a permanent error with a hint, without the secret', async () => {
    const bad = createS3Store({ ...s3.connection, s3Secret: 'not-the-secret-0123' }, s3.bucket);
    const err = await bad.head(`${prefix}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isRetryable).toBe(false);
    expect((err as StorageError).exitCode).toBe(5);
    expect((err as StorageError).hint).toMatch(/S3_KEY_ID/);
    expect((err as StorageError).message).not.toContain('not-the-secret');
  });

  it('names a refused storage class in the hint', async () => {
    const err = await store
      .create({ key: `${prefix}/sc`, metadata: {}, storageClass: 'NO_SUCH_CLASS' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).hint).toMatch(/storage class NO_SUCH_CLASS/);
  });
});
