/**
 * The built `z3_get` against a real S3 server: objects put with the SDK come back byte for byte
 * through ranged, parallel GETs; a missing key is an error on stderr, exit 5, and an empty stdout.
 * Needs `npm run build` and the test S3 server (test/s3-env.ts).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket, testClient, testS3, uniquePrefix, type TestS3 } from '../s3-env.js';
import { injected } from '../../src/testing/faults.js';

const MiB = 1024 * 1024;
/** The smallest CHUNK_SIZE the settings accept (the S3 part size minimum). */
const CHUNK = 5 * MiB;
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../dist/bin/z3-get.js');

interface GetResult {
  code: number | null;
  sha256: string;
  bytes: number;
  stderr: string;
}

/** Run `node dist/bin/z3-get.js ARGS`, hashing stdout as it streams. */
function runZ3Get(
  s3: TestS3,
  args: string[],
  env: Record<string, string> = {},
): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...s3.cliEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hash = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.byteLength;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, sha256: hash.digest('hex'), bytes, stderr }));
  });
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('z3_get (built CLI, real S3)', () => {
  const s3 = testS3();
  let client: S3Client;
  const prefix = uniquePrefix('z3-get');
  const keys: string[] = [];

  async function put(name: string, body: Uint8Array): Promise<string> {
    const key = `${prefix}/${name}`;
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
    keys.push(key);
    return key;
  }

  beforeAll(async () => {
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} does not exist: run npm run build first`);
    client = testClient(s3);
    await ensureBucket(client, s3.bucket);
  });

  afterAll(async () => {
    for (const key of keys)
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    client.destroy();
  });

  const sizes: [string, number][] = [
    ['empty', 0],
    ['one byte', 1],
    ['chunk - 1', CHUNK - 1],
    ['chunk', CHUNK],
    ['chunk + 1', CHUNK + 1],
  ];
  for (const [label, size] of sizes) {
    it(`downloads an object of ${label} (${size} bytes) intact`, async () => {
      const body = randomBytes(size);
      const key = await put(`size-${size}`, body);
      const got = await runZ3Get(s3, ['--chunk-size', '5M', '--concurrency', '4', key]);
      expect(got.stderr).not.toMatch(/z3_get:/);
      expect(got.code).toBe(0);
      expect(got.bytes).toBe(size);
      expect(got.sha256).toBe(sha256(body));
    });
  }

  it('downloads a multi-chunk object with parallel ranges, settings from the environment', async () => {
    const body = randomBytes(4 * CHUNK + 12345);
    const key = await put('multi', body);
    // CHUNK_SIZE in any size form: plain bytes here, lower-case suffix below.
    const fromEnv = await runZ3Get(s3, [key], { CHUNK_SIZE: String(CHUNK), CONCURRENCY: '4' });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.sha256).toBe(sha256(body));
    const fromFlags = await runZ3Get(s3, ['--chunk-size', '6m', '--concurrency', '2', key]);
    expect(fromFlags.code).toBe(0);
    expect(fromFlags.sha256).toBe(sha256(body));
  });

  it(
    'fails on a missing key: exit 5, message on stderr, nothing on stdout',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/no-such-key`;
      const got = await runZ3Get(s3, [key]);
      expect(got.code).toBe(5);
      expect(got.bytes).toBe(0);
      // The bucket name may be partly redacted when it contains the test key id; match the rest.
      expect(got.stderr).toMatch(/^z3_get: no such object s3:\/\/.*\/t-z3-get-.*\/no-such-key$/m);
      expect(got.stderr).toMatch(/^hint: /m);
      injected('bad input');
    },
  );

  it(
    'rejects a bad CHUNK_SIZE as a usage error (exit 2) before any download',
    { tags: ['faults'] },
    async () => {
      const got = await runZ3Get(s3, ['--chunk-size', 'lots', `${prefix}/whatever`]);
      expect(got.code).toBe(2);
      expect(got.bytes).toBe(0);
      expect(got.stderr).toMatch(/z3_get: .*CHUNK_SIZE/);
      injected('bad input');
    },
  );
});
