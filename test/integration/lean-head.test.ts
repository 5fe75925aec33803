/**
 * The lean HEAD path (src/storage/s3/lean-head.ts) against a real S3 server: it must answer
 * exactly what the SDK's HeadObject answers (keys and metadata that need encoding, legacy
 * metadata names, missing keys), sign as the server expects with static keys or with the SDK's
 * default credential chain, and classify errors like the SDK path; and, against a scripted local
 * server, make exactly one attempt per HEAD (the retry policy is the wrapper's). Needs the test
 * S3 server (test/s3-env.ts).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import type { ObjectInfo } from '../../src/storage/backend.js';
import { createS3Backend, type S3Backend } from '../../src/storage/s3/backend.js';
import { useScriptedS3 } from '../../src/storage/s3/testing.js';
import { ensureBucket, testS3, uniquePrefix } from '../s3-env.js';
import { removeAllUnder } from '../s3-env.js';
import { injected } from '../../src/testing/faults.js';

/** The backend's lean HEAD (features.statBulk), which every S3Backend has. */
function leanHead(backend: S3Backend, key: string): Promise<ObjectInfo | undefined> {
  const statBulk = backend.features.statBulk;
  if (statBulk === undefined) throw new Error('S3Backend without statBulk');
  return statBulk(key);
}

describe('lean HEAD (real S3)', () => {
  const s3 = testS3();
  const prefix = uniquePrefix('lean-head');
  const backend = createS3Backend(s3.connection, s3.bucket);
  const client = backend.client;
  const objects: { key: string; metadata: Record<string, string> }[] = [
    {
      key: `${prefix}/pool/my data@snap:1`,
      metadata: { parent: 'pool/my data@snap:0', size: '1048576', compressor: 'pigz1' },
    },
    { key: `${prefix}/pool/fs@zfs-auto-snap:daily-1`, metadata: { is_full: 'true' } },
    { key: `${prefix}/ünï côdé/ds@s 1`, metadata: { isfull: 'true', note: 'a=b+c d&e/f' } },
    { key: `${prefix}/odd !'()*+=&?#%~/x`, metadata: { parent: 'x@a+b=c', estimated: '12 34' } },
    { key: `${prefix}/no-metadata`, metadata: {} },
  ];

  beforeAll(async () => {
    await ensureBucket(client, s3.bucket);
    for (const o of objects) {
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: o.key, Body: o.key, Metadata: o.metadata }),
      );
    }
  });

  afterAll(async () => {
    await removeAllUnder(backend, `${prefix}/`);
    client.destroy();
  });

  it('answers what the SDK answers, for keys and metadata that need encoding', async () => {
    for (const o of objects) {
      const lean = await leanHead(backend, o.key);
      expect(lean).toEqual(await backend.stat(o.key));
      expect(lean).toMatchObject({ key: o.key, size: Buffer.byteLength(o.key) });
      // Ceph RGW hands legacy `is_full` back as `is-full` (src/plan/remote.ts reads both).
      expect(lean?.metadata).toEqual(rgwNames(o.metadata, lean?.metadata ?? {}));
      expect(lean?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    }
  });

  it('answers many concurrent HEADs over the shared keep-alive sockets', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => objects[i % objects.length]?.key ?? '');
    const infos = await Promise.all(keys.map((k) => leanHead(backend, k)));
    expect(infos.map((i) => i?.key)).toEqual(keys);
  });

  it('returns undefined for a missing key', async () => {
    expect(await leanHead(backend, `${prefix}/missing`)).toBeUndefined();
  });

  it('signs with credentials from the SDK default chain when S3_KEY_ID is unset', async () => {
    const saved = {
      id: process.env['AWS_ACCESS_KEY_ID'],
      secret: process.env['AWS_SECRET_ACCESS_KEY'],
    };
    process.env['AWS_ACCESS_KEY_ID'] = s3.connection.s3KeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = s3.connection.s3Secret;
    try {
      const chained = createS3Backend(
        { ...s3.connection, s3KeyId: undefined, s3Secret: undefined },
        s3.bucket,
      );
      expect((await leanHead(chained, objects[0]?.key ?? ''))?.metadata).toEqual(
        objects[0]?.metadata,
      );
      chained.client.destroy();
    } finally {
      restoreEnv('AWS_ACCESS_KEY_ID', saved.id);
      restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret);
    }
  });

  it(
    'reports bad credentials as a permanent error with a hint, without the secret',
    { tags: ['faults'] },
    async () => {
      const bad = createS3Backend({ ...s3.connection, s3Secret: 'not-the-secret-0123' }, s3.bucket);
      const err = await leanHead(bad, objects[0]?.key ?? '').catch((e: unknown) => e);
      bad.client.destroy();
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).isRetryable).toBe(false);
      expect((err as StorageError).message).toMatch(
        /^reading metadata of .*: Forbidden \(HTTP 403\)$/,
      );
      expect((err as StorageError).hint).toMatch(/S3_KEY_ID/);
      expect((err as StorageError).message).not.toContain('not-the-secret');
      injected('bad input'); // a wrong S3_SECRET
    },
  );
});

describe('lean HEAD (scripted server)', () => {
  let answers: number[];
  let seen = 0;
  const { backend: scripted } = useScriptedS3((req, res) => {
    seen += 1;
    const status = answers.shift() ?? 200;
    res.writeHead(status, status === 200 ? { etag: '"e"', 'x-amz-meta-isfull': 'true' } : {});
    res.end();
  });

  it('answers a 200 with the object, in one request', async () => {
    answers = [];
    seen = 0;
    expect(await leanHead(scripted(), 'a/b')).toEqual({
      key: 'a/b',
      size: 0,
      etag: '"e"',
      metadata: { isfull: 'true' },
    });
    expect(seen).toBe(1);
  });

  it(
    'makes one attempt: a 503 is a retryable StorageError for the retry wrapper',
    { tags: ['faults'] },
    async () => {
      answers = [503, 200];
      seen = 0;
      const err = await leanHead(scripted(), 'a/b').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).isRetryable).toBe(true);
      expect((err as StorageError).message).toBe(
        'reading metadata of b/a/b: ServiceUnavailable (HTTP 503)',
      );
      expect(seen).toBe(1);
      injected('S3 error', seen);
    },
  );
});

/** `expected`, with `_` in names as `-` where the server answered so (Ceph RGW). */
function rgwNames(
  expected: Record<string, string>,
  got: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(expected).map(([k, v]) => {
      const dashed = k.replaceAll('_', '-');
      return [k in got || !(dashed in got) ? k : dashed, v];
    }),
  );
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
