/**
 * Fault injection at the storage port, against a real S3 server: the fault-injecting wrapper
 * around the S3 backend fails chosen calls, inside the one retry policy as `openBackend` builds
 * it, and whatever happens the server must end with either the complete object or nothing — no
 * object and no pending multipart upload. Needs the test S3 server (test/s3-env.ts).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { InterruptedError, StorageError } from '../../src/errors.js';
import type {
  Backend,
  ChunkDigestAlgorithm,
  ChunkWriter,
  CommittedObject,
  OpenWriterInput,
  PutInput,
} from '../../src/storage/backend.js';
import { FaultyBackend, type FaultScript } from '../../src/storage/wrappers/faulty.js';
import { withRetries } from '../../src/storage/wrappers/retrying.js';
import { uploadStream, type UploadStreamOptions } from '../../src/transfer/uploader.js';
import { MiB, expectNothingLeft, randomInput, readBack, referenceData } from './pput-helpers.js';
import { useTestBucket } from '../s3-env.js';

/** MAX_RETRIES as pput's default, with short waits. */
const RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };

/**
 * A FaultyBackend whose writers send a wrong digest with every chunk (MD5 or SHA-256, whichever
 * the chunk carries), and whose puts a wrong MD5 (the server must refuse them).
 */
class WrongDigestBackend extends FaultyBackend {
  /** The digest each chunk carried, in order. */
  readonly digests: ChunkDigestAlgorithm[] = [];

  override put(input: PutInput): Promise<CommittedObject> {
    return super.put({ ...input, md5: new Uint8Array(16) });
  }

  override async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    const writer = await super.openWriter(input);
    return {
      key: writer.key,
      id: writer.id,
      digest: writer.digest,
      writeChunk: (chunk) => {
        this.digests.push(chunk.md5 !== undefined ? 'md5' : 'sha256');
        return writer.writeChunk(
          chunk.md5 !== undefined
            ? { ...chunk, md5: new Uint8Array(16) }
            : { ...chunk, sha256: new Uint8Array(32) },
        );
      },
      complete: (chunks) => writer.complete(chunks),
      abort: () => writer.abort(),
    };
  }
}

/** How many times chunk `n` was sent to the server. */
function sends(faulty: FaultyBackend, n: number): number {
  return faulty.ops('writeChunk').filter((c) => c.chunk === n).length;
}

describe('uploader fault injection (real S3)', () => {
  const { prefix, backend } = useTestBucket('pput-faults');

  /** The S3 backend behind `script`, as the uploader gets it: inside the retry policy. */
  function faultyS3(script?: FaultScript): { faulty: FaultyBackend; retrying: Backend } {
    const faulty = new FaultyBackend(backend, script);
    return { faulty, retrying: withRetries(faulty, RETRY) };
  }

  function options(
    target: Backend,
    key: string,
    source: UploadStreamOptions['source'],
    over: Partial<UploadStreamOptions> = {},
  ): UploadStreamOptions {
    return {
      source,
      backend: target,
      key,
      metadata: { isfull: 'true' },
      storageClass: 'STANDARD',
      partSize: 5 * MiB,
      concurrency: 3,
      ...over,
    };
  }

  it(
    'retries a part that fails twice and commits the right bytes and ETag',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/retried`;
      const { faulty, retrying } = faultyS3(({ op, chunk, attempt }) => {
        if (op === 'writeChunk' && chunk === 2 && attempt <= 2) {
          throw new StorageError('injected: ECONNRESET', { isRetryable: true });
        }
      });
      const result = await uploadStream(options(retrying, key, Readable.from([referenceData()])));
      expect(sends(faulty, 2)).toBe(3);
      expect(result.etag).toBe('"d229c1fc0e509475afe56426c89d2724-2"');
      expect((await backend.stat(key))?.etag).toBe(result.etag);
      expect((await readBack(backend.client, backend.bucket, key)).metadata).toEqual({
        isfull: 'true',
      });
      expect(await backend.listPending(key)).toEqual([]);
      injected('S3 reset/timeout', faulty.thrown);
    },
  );

  it(
    'a permanent part failure aborts: no object, no pending upload',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/permanent`;
      const { faulty, retrying } = faultyS3(({ op, chunk }) => {
        if (op === 'writeChunk' && chunk === 3) {
          throw new StorageError('injected: AccessDenied (HTTP 403)');
        }
      });
      await expect(
        uploadStream(options(retrying, key, randomInput(23 * MiB).source)),
      ).rejects.toThrow('injected: AccessDenied');
      expect(sends(faulty, 3)).toBe(1);
      await expectNothingLeft(backend, key);
      injected('S3 error', faulty.thrown);
    },
  );

  it('a part failing every attempt aborts after MAX_RETRIES', { tags: ['faults'] }, async () => {
    const key = `${prefix}/exhausted`;
    const { faulty, retrying } = faultyS3(({ op, chunk }) => {
      if (op === 'writeChunk' && chunk === 1) {
        throw new StorageError('injected: SlowDown', { isRetryable: true });
      }
    });
    await expect(
      uploadStream(options(retrying, key, randomInput(12 * MiB).source)),
    ).rejects.toThrow('injected: SlowDown');
    expect(sends(faulty, 1)).toBe(3);
    await expectNothingLeft(backend, key);
    injected('S3 error', faulty.thrown);
  });

  it(
    'a failing abort is retried, and the upload still ends aborted',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/abort-retried`;
      const { faulty, retrying } = faultyS3(({ op, chunk, attempt }) => {
        if (op === 'writeChunk' && chunk === 2) throw new StorageError('injected: AccessDenied');
        if (op === 'abort' && attempt === 1) {
          throw new StorageError('injected: 503 on abort', { isRetryable: true });
        }
      });
      await expect(
        uploadStream(options(retrying, key, randomInput(12 * MiB).source)),
      ).rejects.toThrow('injected: AccessDenied');
      expect(faulty.ops('abort')).toHaveLength(2);
      await expectNothingLeft(backend, key);
      injected('S3 error', faulty.thrown);
    },
  );

  it('a source stream error aborts', { tags: ['faults'] }, async () => {
    const key = `${prefix}/source-error`;
    async function* dying(): AsyncGenerator<Uint8Array> {
      yield* randomInput(12 * MiB).source;
      throw new Error('zfs send: broken pipe');
    }
    await expect(uploadStream(options(faultyS3().retrying, key, dying()))).rejects.toThrow(
      'reading the input failed: zfs send: broken pipe',
    );
    await expectNothingLeft(backend, key);
    injected('stage death');
  });

  it(
    'a rejecting commit gate aborts after every part was uploaded',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/gate`;
      const { faulty, retrying } = faultyS3();
      const stageFailed = new Error('pigz exited 1');
      let partsAtGate = 0;
      await expect(
        uploadStream(
          options(retrying, key, randomInput(11 * MiB).source, {
            beforeComplete: () => {
              partsAtGate = faulty.ops('writeChunk').length;
              return Promise.reject(stageFailed);
            },
          }),
        ),
      ).rejects.toBe(stageFailed);
      expect(partsAtGate).toBe(3);
      expect(faulty.ops('complete')).toHaveLength(0);
      await expectNothingLeft(backend, key);
      injected('stage death');
    },
  );

  it(
    'an abort signal mid-upload aborts the upload and rejects with its reason',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/signal`;
      const controller = new AbortController();
      const reason = new InterruptedError('interrupted by SIGTERM');
      const { retrying } = faultyS3(({ op, chunk }) => {
        if (op === 'writeChunk' && chunk === 3) controller.abort(reason);
      });
      await expect(
        uploadStream(
          options(retrying, key, randomInput(40 * MiB).source, { signal: controller.signal }),
        ),
      ).rejects.toBe(reason);
      await expectNothingLeft(backend, key);
      injected('signal');
    },
  );

  const md5Parts = useTestBucket('pput-faults-md5', { partDigest: 'md5' });
  const sha256Parts = useTestBucket('pput-faults-sha256', { partDigest: 'sha256' });

  it.each([
    { check: 'Content-MD5', fixture: md5Parts, digest: 'md5', code: /BadDigest|InvalidDigest/ },
    {
      check: 'signed SHA-256',
      fixture: sha256Parts,
      digest: 'sha256',
      code: /XAmzContentSHA256Mismatch/,
    },
  ] as const)(
    'a wrong $check is refused by the server as a permanent error',
    { tags: ['faults'] },
    async ({ fixture, digest, code }) => {
      const key = `${fixture.prefix}/bad-${digest}`;
      const faulty = new WrongDigestBackend(fixture.backend);
      const err = await uploadStream(
        options(withRetries(faulty, RETRY), key, Readable.from([Buffer.alloc(5 * MiB + 5, 1)])),
      ).catch((e: unknown) => e);
      expect(faulty.digests.length).toBeGreaterThanOrEqual(1);
      expect(new Set(faulty.digests)).toEqual(new Set([digest]));
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).isRetryable).toBe(false);
      expect((err as StorageError).message).toMatch(
        new RegExp(`uploading part \\d of .*: (${code.source})`),
      );
      expect(sends(faulty, 1) + sends(faulty, 2)).toBeGreaterThanOrEqual(1);
      await expectNothingLeft(fixture.backend, key);
      injected('corrupt data', sends(faulty, 1) + sends(faulty, 2));
    },
  );

  it(
    'a stream smaller than a part goes up in one put, whose wrong Content-MD5 the server refuses',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/bad-md5-put`;
      const faulty = new WrongDigestBackend(backend);
      const err = await uploadStream(
        options(withRetries(faulty, RETRY), key, Readable.from([Buffer.from('hello')])),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).isRetryable).toBe(false);
      expect((err as StorageError).message).toMatch(/writing .*: (BadDigest|InvalidDigest)/);
      expect(faulty.ops('put')).toHaveLength(1);
      expect(faulty.ops('openWriter')).toHaveLength(0);
      await expectNothingLeft(backend, key);
      injected('corrupt data', faulty.ops('put').length);
    },
  );
});
