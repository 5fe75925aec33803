/**
 * Fault injection at the port, against a real S3 server: a wrapper around S3Store fails chosen
 * calls, and whatever happens the server must end with either the complete object or nothing —
 * no object and no pending multipart upload. Needs the test S3 server (test/s3-env.ts).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InterruptedError, StorageError } from '../../src/errors.js';
import type { S3Store } from '../../src/storage/s3/store.js';
import type { UploadPartInput } from '../../src/storage/types.js';
import {
  uploadStream,
  type UploadPort,
  type UploadStreamOptions,
} from '../../src/transfer/uploader.js';
import { useTestBucket } from '../s3-env.js';
import { MiB, expectNothingLeft, randomInput, readBack, referenceData } from './pput-helpers.js';

/** S3Store with a hook in front of every part upload: throw to fail that attempt. */
function faultyPort(
  store: S3Store,
  beforePart: (input: UploadPartInput, attempt: number) => Promise<void> | void,
): UploadPort & { attempts: Map<number, number> } {
  const attempts = new Map<number, number>();
  return {
    attempts,
    create: (input) => store.create(input),
    uploadPart: async (input) => {
      const attempt = (attempts.get(input.partNumber) ?? 0) + 1;
      attempts.set(input.partNumber, attempt);
      await beforePart(input, attempt);
      return store.uploadPart(input);
    },
    complete: (input) => store.complete(input),
    abort: (input) => store.abort(input),
    head: (key) => store.head(key),
    delete: (key) => store.delete(key),
  };
}

describe('uploader fault injection (real S3)', () => {
  const { s3, prefix, client, store } = useTestBucket('pput-faults');

  function options(
    port: UploadPort,
    key: string,
    source: UploadStreamOptions['source'],
    over: Partial<UploadStreamOptions> = {},
  ): UploadStreamOptions {
    return {
      source,
      port,
      key,
      metadata: { isfull: 'true' },
      storageClass: 'STANDARD',
      partSize: 5 * MiB,
      concurrency: 3,
      maxRetries: 3,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      ...over,
    };
  }

  it('retries a part that fails twice and commits the right bytes and ETag', async () => {
    const key = `${prefix}/retried`;
    const port = faultyPort(store, (input, attempt) => {
      if (input.partNumber === 2 && attempt <= 2) {
        throw new StorageError('injected: ECONNRESET', { isRetryable: true });
      }
    });
    const result = await uploadStream(options(port, key, Readable.from([referenceData()])));
    expect(port.attempts.get(2)).toBe(3);
    expect(result.etag).toBe('"d229c1fc0e509475afe56426c89d2724-2"');
    expect((await store.head(key))?.etag).toBe(result.etag);
    expect((await readBack(client, s3.bucket, key)).metadata).toEqual({ isfull: 'true' });
    expect(await store.listMultipartUploads(key)).toEqual([]);
  });

  it('a permanent part failure aborts: no object, no pending upload', async () => {
    const key = `${prefix}/permanent`;
    const port = faultyPort(store, (input) => {
      if (input.partNumber === 3) throw new StorageError('injected: AccessDenied (HTTP 403)');
    });
    await expect(uploadStream(options(port, key, randomInput(23 * MiB).source))).rejects.toThrow(
      'injected: AccessDenied',
    );
    expect(port.attempts.get(3)).toBe(1);
    await expectNothingLeft(store, key);
  });

  it('a part failing every attempt aborts after MAX_RETRIES', async () => {
    const key = `${prefix}/exhausted`;
    const port = faultyPort(store, (input) => {
      if (input.partNumber === 1)
        throw new StorageError('injected: SlowDown', { isRetryable: true });
    });
    await expect(uploadStream(options(port, key, randomInput(12 * MiB).source))).rejects.toThrow(
      'injected: SlowDown',
    );
    expect(port.attempts.get(1)).toBe(3);
    await expectNothingLeft(store, key);
  });

  it('a source stream error aborts', async () => {
    const key = `${prefix}/source-error`;
    async function* dying(): AsyncGenerator<Uint8Array> {
      yield* randomInput(12 * MiB).source;
      throw new Error('zfs send: broken pipe');
    }
    await expect(uploadStream(options(store, key, dying()))).rejects.toThrow(
      'reading the input failed: zfs send: broken pipe',
    );
    await expectNothingLeft(store, key);
  });

  it('a rejecting commit gate aborts after every part was uploaded', async () => {
    const key = `${prefix}/gate`;
    const stageFailed = new Error('pigz exited 1');
    await expect(
      uploadStream(
        options(store, key, randomInput(11 * MiB).source, {
          beforeComplete: () => Promise.reject(stageFailed),
        }),
      ),
    ).rejects.toBe(stageFailed);
    await expectNothingLeft(store, key);
  });

  it('an abort signal mid-upload aborts the upload and rejects with its reason', async () => {
    const key = `${prefix}/signal`;
    const controller = new AbortController();
    const reason = new InterruptedError('interrupted by SIGTERM');
    const port = faultyPort(store, (input) => {
      if (input.partNumber === 3) controller.abort(reason);
    });
    await expect(
      uploadStream(options(port, key, randomInput(40 * MiB).source, { signal: controller.signal })),
    ).rejects.toBe(reason);
    await expectNothingLeft(store, key);
  });

  it('a wrong Content-MD5 is refused by the server as a permanent error', async () => {
    const key = `${prefix}/bad-md5`;
    const port = faultyPort(store, (input) => {
      input.md5Base64 = Buffer.alloc(16).toString('base64');
    });
    const err = await uploadStream(options(port, key, Readable.from([Buffer.from('hello')]))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isRetryable).toBe(false);
    expect((err as StorageError).message).toMatch(
      /uploading part 1 of .*: (BadDigest|InvalidDigest)/,
    );
    expect(port.attempts.get(1)).toBe(1);
    await expectNothingLeft(store, key);
  });
});
