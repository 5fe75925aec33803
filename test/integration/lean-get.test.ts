/**
 * The lean ranged GET (src/storage/s3/lean-get.ts) against a real S3 server: every range of
 * objects written as a single PUT and as a multipart upload, under keys that need encoding,
 * answers the bytes the SDK path answers; conditions, missing keys and wrong credentials fail as
 * on the SDK path; many ranges at once share the keep-alive connections. Needs the test S3
 * server (test/s3-env.ts). The wire details (cut bodies, aborts, TLS): the unit test next to it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { ensureBucket, removeAllUnder, testS3, uniquePrefix } from '../s3-env.js';
import { storageFailure as failure } from '../../src/testing/failures.js';

const MiB = 1024 * 1024;

describe('lean ranged GET (real S3)', () => {
  const s3 = testS3();
  const prefix = uniquePrefix('lean-get');
  const backend = createS3Backend(s3.connection, s3.bucket);
  const small = { key: `${prefix}/pool/my data@snap:1 ünï`, body: randomBytes(100_000) };
  const large = { key: `${prefix}/odd !'()*+=&?#%~/x`, body: randomBytes(11 * MiB + 17) };

  beforeAll(async () => {
    await ensureBucket(backend.client, s3.bucket);
    await backend.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: small.key, Body: small.body }),
    );
    const writer = await backend.openWriter({ key: large.key, metadata: {}, chunkSize: 5 * MiB });
    const chunks = [];
    for (let number = 1, at = 0; at < large.body.byteLength; number++, at += 5 * MiB) {
      const body = large.body.subarray(at, at + 5 * MiB);
      const md5 = createHash('md5').update(body).digest();
      chunks.push(await writer.writeChunk({ number, body, md5 }));
    }
    await writer.complete(chunks);
  });

  afterAll(async () => {
    await removeAllUnder(backend, `${prefix}/`);
    backend.client.destroy();
  });

  it('answers the bytes the SDK answers, across part boundaries, without the SDK', async () => {
    const sdk = vi.spyOn(backend, 'readRangeViaSdk');
    for (const o of [small, large]) {
      const size = o.body.byteLength;
      for (const [start, end] of [
        [0, 0],
        [0, size - 1],
        [size - 1, size - 1],
        [Math.floor(size / 3), Math.floor((2 * size) / 3)],
        [5 * MiB - 3, 5 * MiB + 3],
      ] as const) {
        if (end >= size) continue;
        const lean = await backend.readRange({ key: o.key, start, end });
        expect(Buffer.from(lean).equals(o.body.subarray(start, end + 1))).toBe(true);
      }
    }
    expect(sdk).not.toHaveBeenCalled();
    const [lean, viaSdk] = await Promise.all([
      backend.readRange({ key: large.key, start: 7, end: 6 * MiB }),
      backend.readRangeViaSdk({ key: large.key, start: 7, end: 6 * MiB }),
    ]);
    expect(Buffer.from(lean).equals(viaSdk)).toBe(true);
    sdk.mockRestore();
  });

  it('reads many ranges at once into their own buffers', async () => {
    const chunk = 256 * 1024;
    const starts = Array.from({ length: 40 }, (_, i) => i * chunk);
    const parts = await Promise.all(
      starts.map((start) =>
        backend.readRange({
          key: large.key,
          start,
          end: start + chunk - 1,
          target: Buffer.alloc(chunk),
        }),
      ),
    );
    expect(Buffer.concat(parts).equals(large.body.subarray(0, 40 * chunk))).toBe(true);
  });

  it(
    'fails as the SDK path does: missing key, range past the end, another ETag',
    { tags: ['faults'] },
    async () => {
      const missing = await failure(backend.readRange({ key: `${prefix}/none`, start: 0, end: 9 }));
      expect(missing.isNotFound).toBe(true);
      const size = small.body.byteLength;
      const past = await failure(backend.readRange({ key: small.key, start: size, end: size + 9 }));
      expect(past.isRetryable).toBe(false);
      const changed = await failure(
        backend.readRange({
          key: small.key,
          start: 0,
          end: 9,
          ifMatch: '"0123456789abcdef0123456789abcdef"',
        }),
      );
      expect(changed.message).toBe(
        `${small.key} changed while it was being read (ETag was "0123456789abcdef0123456789abcdef")`,
      );
      injected('concurrent writer', 1);
    },
  );

  it(
    'reports bad credentials as a permanent error with a hint, without the secret',
    { tags: ['faults'] },
    async () => {
      const bad = createS3Backend({ ...s3.connection, s3Secret: 'not-the-secret-0123' }, s3.bucket);
      const error = await failure(bad.readRange({ key: small.key, start: 0, end: 9 }));
      bad.client.destroy();
      expect(error.isRetryable).toBe(false);
      expect(error.message).toMatch(/^reading bytes 0-9 of .*: SignatureDoesNotMatch \(HTTP 403\)/);
      expect(error.hint).toMatch(/S3_KEY_ID/);
      expect(error.message).not.toContain('not-the-secret');
      injected('bad input');
    },
  );
});
