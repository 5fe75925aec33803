/**
 * Where the integration and end-to-end tiers find their S3 server. `scripts/s3-server.sh start`
 * (Ceph RGW on 127.0.0.1) prints these variables; any S3 endpoint works (MinIO, real AWS):
 *
 *   Z3_TEST_S3_ENDPOINT  e.g. http://127.0.0.1:7480 (unset = AWS itself)
 *   Z3_TEST_S3_KEY_ID / Z3_TEST_S3_SECRET   credentials
 *   Z3_TEST_S3_REGION    optional
 *   Z3_TEST_BUCKET       optional; default z3-test, created if missing
 *
 * A test that needs the server and cannot find it fails: it never skips.
 */
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { createS3Client, type ConnectionSettings } from '../src/storage/s3/client.js';
import { createS3Backend, type S3Backend } from '../src/storage/s3/backend.js';
import type { PartDigestMode } from '../src/storage/s3/part-digest.js';

export interface TestS3 {
  connection: ConnectionSettings;
  bucket: string;
  /** Environment for spawning the built CLI against this server (no config file is read). */
  cliEnv: Record<string, string>;
}

export function testS3(): TestS3 {
  const keyId = process.env['Z3_TEST_S3_KEY_ID'];
  const secret = process.env['Z3_TEST_S3_SECRET'];
  const endpoint = process.env['Z3_TEST_S3_ENDPOINT'];
  if (keyId === undefined || secret === undefined) {
    throw new Error(
      'no test S3 server: set Z3_TEST_S3_KEY_ID, Z3_TEST_S3_SECRET (and Z3_TEST_S3_ENDPOINT), ' +
        'e.g. eval "$(bash scripts/s3-server.sh start)"',
    );
  }
  const region = process.env['Z3_TEST_S3_REGION'];
  const bucket = process.env['Z3_TEST_BUCKET'] ?? 'z3-test';
  const connection: ConnectionSettings = {
    endpoint,
    s3Region: region,
    s3ForcePathStyle: endpoint !== undefined,
    s3KeyId: keyId,
    s3Secret: secret,
  };
  const cliEnv: Record<string, string> = {
    Z3_CONFIG: '/dev/null',
    BUCKET: bucket,
    S3_KEY_ID: keyId,
    S3_SECRET: secret,
    // Ceph RGW refuses the default STANDARD_IA with InvalidArgument; AWS accepts both.
    S3_STORAGE_CLASS: process.env['Z3_TEST_STORAGE_CLASS'] ?? 'STANDARD',
    ...(endpoint !== undefined ? { HOST: endpoint } : {}),
    ...(region !== undefined ? { S3_REGION: region } : {}),
  };
  return { connection, bucket, cliEnv };
}

/** Create the test bucket when it does not exist yet. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

export function testClient(s3: TestS3): S3Client {
  return createS3Client(s3.connection);
}

/** A key prefix unique to one test run, so tests never see each other's objects. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestBucket {
  s3: TestS3;
  /** Unique to this describe block; keys go under `<prefix>/`. */
  prefix: string;
  /** For raw SDK calls (the backend's own client). */
  client: S3Client;
  /** The S3 backend of the test bucket (no retries: tests see every failure). */
  backend: S3Backend;
}

/**
 * The bucket fixture of one describe block: a unique prefix; before all, the bucket exists;
 * after all, every object and pending multipart upload under the prefix is removed and the
 * client closed. Call it inside `describe`.
 */
export function useTestBucket(
  label: string,
  options: { pageSize?: number; partDigest?: PartDigestMode } = {},
): TestBucket {
  const s3 = testS3();
  const backend = createS3Backend(s3.connection, s3.bucket, options);
  const fixture: TestBucket = { s3, prefix: uniquePrefix(label), client: backend.client, backend };
  beforeAll(async () => {
    await ensureBucket(fixture.client, s3.bucket);
  });
  afterAll(async () => {
    await removeAllUnder(backend, `${fixture.prefix}/`);
    fixture.client.destroy();
  });
  return fixture;
}

/** Delete every object and abort every pending write under `prefix`. */
export async function removeAllUnder(backend: S3Backend, prefix: string): Promise<void> {
  for await (const o of backend.list(prefix)) await backend.remove(o.key);
  for (const p of await backend.listPending(prefix)) await backend.abortPending(p);
}
