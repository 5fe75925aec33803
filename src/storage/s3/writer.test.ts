/**
 * The S3 chunk writer's decisions, with a scripted client at the SDK seam (the `send` call) and
 * the in-memory backend for HEAD (and, scripted, the delete). Why not only the real server:
 * Ceph RGW 16 never answers NoSuchUpload to a complete (it answers 200 to a repeated Complete
 * of a completed upload, 500 to one of an aborted or unknown upload), answers the first
 * Complete with no ETag, and ignores If-Match on DELETE and If-None-Match on Complete, so AWS's
 * paths are scripted here; test/integration/s3-backend.test.ts and conditional-writes.test.ts
 * cover the rest for real.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { CommitConflictError, IntegrityError, StorageError } from '../../errors.js';
import type { WrittenChunk } from '../backend.js';
import { md5, multipartEtag } from '../etag.js';
import { MemBackend } from '../mem/backend.js';
import { S3ChunkWriter } from './writer.js';
import { injected } from '../../testing/faults.js';

type Answer = (command: unknown) => unknown;

/** An SDK-shaped error, as the client throws it. */
function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/** A writer whose client answers every command with `answer` (throwing = rejecting). */
function scripted(
  answer: Answer,
  options: { ifNoneMatch?: boolean } = {},
): { writer: S3ChunkWriter; store: MemBackend; sent: unknown[] } {
  const sent: unknown[] = [];
  const client = {
    send: (command: unknown) => {
      sent.push(command);
      return Promise.resolve().then(() => answer(command));
    },
  } as unknown as S3Client;
  const store = new MemBackend();
  const { ifNoneMatch } = options;
  const writer = new S3ChunkWriter({ client, bucket: 'b', key: 'k', id: 'u1', store, ifNoneMatch });
  return { writer, store, sent };
}

/** AWS's DeleteObject with If-Match on `store`: deletes on a match, 412 otherwise. */
function conditionalDelete(store: MemBackend, command: DeleteObjectCommand): object {
  if (store.objects.get('k')?.etag !== command.input.IfMatch) {
    throw s3Error('PreconditionFailed', 412);
  }
  store.objects.delete('k');
  return {};
}

/** The commands of one type that were sent. */
function sentOf<T>(sent: unknown[], type: new (...args: never[]) => T): T[] {
  return sent.filter((c): c is T => c instanceof type);
}

function chunk(number: number, text: string): WrittenChunk {
  const digest = md5(Buffer.from(text));
  return { number, size: text.length, md5: digest, etag: `"${digest.toString('hex')}"` };
}

const chunks = [chunk(2, 'world'), chunk(1, 'hello ')];
const etag = multipartEtag([md5(Buffer.from('hello ')), md5(Buffer.from('world'))]);

/** Put the object `chunks` make at `k`, with the multipart ETag S3 would give it. */
function putCommitted(store: MemBackend, text = 'hello world', objectEtag = etag): void {
  store.seed('k', Buffer.from(text));
  const o = store.objects.get('k');
  if (o !== undefined) o.etag = objectEtag;
}

describe('S3ChunkWriter.complete', () => {
  it('sends the parts sorted, then answers what HEAD reports (not the Complete answer)', async () => {
    const { writer, store, sent } = scripted((c) => {
      if (c instanceof CompleteMultipartUploadCommand) putCommitted(store);
      return { ETag: '' }; // Ceph RGW's answer
    });
    expect(await writer.complete(chunks)).toEqual({ etag, size: 11 });
    const complete = sent[0] as CompleteMultipartUploadCommand;
    expect(complete.input.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
  });

  it(
    'verifies the object after NoSuchUpload (a retry after a lost answer)',
    { tags: ['faults'] },
    async () => {
      const { writer, store } = scripted(() => {
        throw s3Error('NoSuchUpload', 404);
      });
      putCommitted(store);
      expect(await writer.complete(chunks)).toEqual({ etag, size: 11 });
      injected('S3 error'); // NoSuchUpload
    },
  );

  it(
    'fails as not-found after NoSuchUpload when no object is at the key',
    { tags: ['faults'] },
    async () => {
      const { writer } = scripted(() => {
        throw s3Error('NoSuchUpload', 404);
      });
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ isNotFound: true, isRetryable: false });
      injected('S3 error');
    },
  );

  it("leaves another write's object alone after NoSuchUpload", { tags: ['faults'] }, async () => {
    const { writer, store } = scripted(() => {
      throw s3Error('NoSuchUpload', 404);
    });
    putCommitted(store, 'other bytes', '"0123-1"');
    const err = await writer.complete(chunks).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isNotFound).toBe(true);
    expect((err as StorageError).message).toMatch(/is not this write's: the server reports/);
    expect(store.objects.has('k')).toBe(true);
    injected('S3 error');
    injected('concurrent writer');
  });

  it(
    'deletes a wrong object it provably committed, conditional on its ETag',
    { tags: ['faults'] },
    async () => {
      const { writer, store, sent } = scripted((c) => {
        if (c instanceof DeleteObjectCommand) return conditionalDelete(store, c);
        putCommitted(store, 'hello world', '"0123-2"');
        return { ETag: '"0123-2"' }; // AWS answers the object's ETag
      });
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toBe(
        `k: the server reports ETag "0123-2" and 11 bytes, expected ${etag} and 11 bytes; ` +
          'the object was deleted',
      );
      expect(sentOf(sent, DeleteObjectCommand)[0]?.input).toMatchObject({ IfMatch: '"0123-2"' });
      expect(store.objects.has('k')).toBe(false);
      injected('corrupt data'); // the committed object's ETag is wrong
    },
  );

  it(
    'leaves a wrong object when the Complete answer has no ETag (Ceph RGW): no delete sent',
    { tags: ['faults'] },
    async () => {
      const { writer, store, sent } = scripted(() => {
        putCommitted(store, 'hello world', '"0123-2"');
        return { ETag: '' };
      });
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toBe(
        `k: the object at the key is not what this write sent (the server reports ETag "0123-2" ` +
          `and 11 bytes, expected ${etag} and 11 bytes); it was left in place: the server's ` +
          "answer to this write's commit carried no ETag, so it may be another writer's",
      );
      expect(sentOf(sent, DeleteObjectCommand)).toEqual([]);
      expect(store.objects.get('k')?.etag).toBe('"0123-2"');
      injected('corrupt data');
    },
  );

  it(
    "leaves another writer's object committed between this Complete and its HEAD",
    { tags: ['faults'] },
    async () => {
      const { writer, store, sent } = scripted(() => {
        putCommitted(store); // this write's object, as its Complete reports it…
        putCommitted(store, 'other bytes', '"bbbb-1"'); // …replaced at once by another writer
        return { ETag: etag };
      });
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toMatch(
        /^k: the object at the key is not what this write sent \(the server reports ETag "bbbb-1" and 11 bytes, expected .*\); it was left in place: its ETag is not the ".*-2" this write's commit returned, so it is another writer's$/,
      );
      expect(sentOf(sent, DeleteObjectCommand)).toEqual([]);
      expect(store.objects.get('k')?.data.toString()).toBe('other bytes');
      injected('concurrent writer');
    },
  );

  it(
    'leaves the object when the conditional delete answers 412 (replaced after the HEAD)',
    { tags: ['faults'] },
    async () => {
      const { writer, store } = scripted((c) => {
        if (c instanceof DeleteObjectCommand) {
          putCommitted(store, 'other bytes', '"bbbb-1"');
          return conditionalDelete(store, c);
        }
        putCommitted(store, 'hello world', '"0123-2"');
        return { ETag: '"0123-2"' };
      });
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toMatch(
        /it was left in place: it changed before the delete conditional on its ETag \(412\)$/,
      );
      expect(store.objects.get('k')?.data.toString()).toBe('other bytes');
      injected('corrupt data');
      injected('concurrent writer');
    },
  );

  it(
    'a failed delete of its own wrong object is an IntegrityError that says so, not retried',
    { tags: ['faults'] },
    async () => {
      const { writer, store } = scripted((c) => {
        if (c instanceof DeleteObjectCommand) throw s3Error('ServiceUnavailable', 503);
        putCommitted(store, 'hello world', '"0123-2"');
        return { ETag: '"0123-2"' };
      });
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toMatch(
        /and 11 bytes; deleting it: ServiceUnavailable \(HTTP 503\)$/,
      );
      injected('corrupt data');
      injected('S3 error'); // the 503 on the delete
    },
  );

  it('calls an object missing right after its commit retryable', async () => {
    const { writer } = scripted(() => ({}));
    const err = await writer.complete(chunks).catch((e: unknown) => e);
    expect(err).toMatchObject({ isRetryable: true, isNotFound: false });
  });

  it('classifies a failed Complete and checks nothing', { tags: ['faults'] }, async () => {
    const { writer, store } = scripted(() => {
      throw s3Error('InternalError', 500);
    });
    putCommitted(store, 'other');
    const err = await writer.complete(chunks).catch((e: unknown) => e);
    expect(err).toMatchObject({ isRetryable: true });
    expect((err as Error).message).toBe('completing upload of b/k: InternalError (HTTP 500)');
    expect(store.objects.has('k')).toBe(true);
    injected('S3 error');
  });

  it('refuses a gap in the chunks before sending anything', { tags: ['faults'] }, async () => {
    const { writer, sent } = scripted(() => ({}));
    await expect(writer.complete([chunk(2, 'x')])).rejects.toThrow(/chunk 1 is missing/);
    expect(sent).toEqual([]);
    injected('bad input');
  });
});

describe('S3ChunkWriter.complete with ifNoneMatch', () => {
  const ifNoneMatch = true;

  it('sends If-None-Match: * only when asked', async () => {
    for (const isConditional of [false, true]) {
      const { writer, store, sent } = scripted(
        () => {
          putCommitted(store);
          return {};
        },
        { ifNoneMatch: isConditional },
      );
      await writer.complete(chunks);
      const input = sentOf(sent, CompleteMultipartUploadCommand)[0]?.input;
      expect(input?.IfNoneMatch).toBe(isConditional ? '*' : undefined);
    }
  });

  it(
    'an object already at the key is a CommitConflictError before any Complete',
    { tags: ['faults'] },
    async () => {
      const { writer, store, sent } = scripted(() => ({}), { ifNoneMatch });
      putCommitted(store, 'other bytes', '"bbbb-1"');
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommitConflictError);
      expect(err).toMatchObject({
        exitCode: 3,
        message: 'another writer committed k first; it was left in place',
      });
      expect(sentOf(sent, CompleteMultipartUploadCommand)).toEqual([]);
      expect(store.objects.get('k')?.data.toString()).toBe('other bytes');
      injected('concurrent writer');
    },
  );

  it(
    'a server that refuses the header (501 NotImplemented) gets a plain Complete, after the HEAD check',
    { tags: ['faults'] },
    async () => {
      const { writer, store, sent } = scripted(
        (command) => {
          if ((command as CompleteMultipartUploadCommand).input.IfNoneMatch !== undefined) {
            throw s3Error('NotImplemented', 501);
          }
          putCommitted(store);
          return {};
        },
        { ifNoneMatch },
      );
      expect(await writer.complete(chunks)).toEqual({ etag, size: 11 });
      const completes = sentOf(sent, CompleteMultipartUploadCommand).map((c) => c.input);
      expect(completes.map((i) => i.IfNoneMatch)).toEqual(['*', undefined]);
      injected('S3 error');
    },
  );

  it(
    '412 on the Complete (a writer committed after the HEAD) is a CommitConflictError',
    { tags: ['faults'] },
    async () => {
      const { writer, store } = scripted(
        () => {
          putCommitted(store, 'other bytes', '"bbbb-1"');
          throw s3Error('PreconditionFailed', 412);
        },
        { ifNoneMatch },
      );
      const err = await writer.complete(chunks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommitConflictError);
      expect(store.objects.get('k')?.data.toString()).toBe('other bytes');
      injected('concurrent writer');
    },
  );

  it(
    'a retry after a lost answer finds its own object: 412 then is success',
    { tags: ['faults'] },
    async () => {
      let completes = 0;
      const { writer, store, sent } = scripted(
        () => {
          completes += 1;
          if (completes > 1) throw s3Error('PreconditionFailed', 412);
          putCommitted(store); // committed, but the answer is lost
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        },
        { ifNoneMatch },
      );
      await expect(writer.complete(chunks)).rejects.toMatchObject({ isRetryable: true });
      expect(await writer.complete(chunks)).toEqual({ etag, size: 11 });
      expect(sentOf(sent, CompleteMultipartUploadCommand)).toHaveLength(2);
      injected('S3 reset/timeout'); // the lost answer
    },
  );

  it(
    "a retry that gets 412 and finds another writer's object is a CommitConflictError",
    { tags: ['faults'] },
    async () => {
      let completes = 0;
      const { writer, store } = scripted(
        () => {
          completes += 1;
          if (completes === 1) throw s3Error('InternalError', 500);
          putCommitted(store, 'other bytes', '"bbbb-1"');
          throw s3Error('PreconditionFailed', 412);
        },
        { ifNoneMatch },
      );
      await expect(writer.complete(chunks)).rejects.toMatchObject({ isRetryable: true });
      await expect(writer.complete(chunks)).rejects.toBeInstanceOf(CommitConflictError);
      expect(store.objects.get('k')?.data.toString()).toBe('other bytes');
      injected('S3 error'); // the 500
      injected('concurrent writer');
    },
  );
});

describe('S3ChunkWriter.writeChunk and abort', () => {
  it('sends Content-MD5 in base64 and returns the part ETag', async () => {
    const { writer, sent } = scripted(() => ({ ETag: '"e"' }));
    const body = Buffer.from('hello');
    const written = await writer.writeChunk({ number: 3, body, md5: md5(body) });
    expect(written).toEqual({ number: 3, size: 5, md5: md5(body), etag: '"e"' });
    const input = (sent[0] as UploadPartCommand).input;
    expect(input).toMatchObject({ PartNumber: 3, UploadId: 'u1', ContentLength: 5 });
    expect(input.ContentMD5).toBe(md5(body).toString('base64'));
  });

  it('calls a part without an ETag retryable', async () => {
    const { writer } = scripted(() => ({}));
    const err = await writer
      .writeChunk({ number: 1, body: Buffer.from('x'), md5: md5(Buffer.from('x')) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ isRetryable: true });
  });

  it(
    'aborts idempotently: an upload already gone is fine, a 503 is retryable',
    { tags: ['faults'] },
    async () => {
      await scripted(() => {
        throw s3Error('NoSuchUpload', 404);
      }).writer.abort();
      const { writer, sent } = scripted(() => {
        throw s3Error('ServiceUnavailable', 503);
      });
      await expect(writer.abort()).rejects.toMatchObject({ isRetryable: true });
      expect(sent[0]).toBeInstanceOf(AbortMultipartUploadCommand);
      injected('S3 error', 2);
    },
  );
});
