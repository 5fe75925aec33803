/**
 * The S3Backend fixture of one describe block, on the test S3 server (test/s3-env.ts): a unique
 * key prefix; before all, the bucket exists; after all, every object and pending write under the
 * prefix is removed and the client closed.
 */
import { afterAll, beforeAll } from 'vitest';
import { createS3Backend, type S3Backend } from '../../src/storage/s3/backend.js';
import { ensureBucket, testS3, uniquePrefix, type TestS3 } from '../s3-env.js';

export interface TestBackend {
  s3: TestS3;
  /** Unique to this describe block; keys go under `<prefix>/`. */
  prefix: string;
  backend: S3Backend;
}

/** Call it inside `describe`. */
export function useS3Backend(label: string, options: { pageSize?: number } = {}): TestBackend {
  const s3 = testS3();
  const fixture: TestBackend = {
    s3,
    prefix: uniquePrefix(label),
    backend: createS3Backend(s3.connection, s3.bucket, options),
  };
  beforeAll(async () => {
    await ensureBucket(fixture.backend.client, s3.bucket);
  });
  afterAll(async () => {
    await removeAllUnder(fixture.backend, `${fixture.prefix}/`);
    fixture.backend.client.destroy();
  });
  return fixture;
}

/** Delete every object and abort every pending write under `prefix`. */
export async function removeAllUnder(backend: S3Backend, prefix: string): Promise<void> {
  for await (const o of backend.list(prefix)) await backend.remove(o.key);
  for (const p of await backend.listPending(prefix)) await backend.abortPending(p);
}
