import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import { objectSize, readRange } from './range.js';
import { injected } from '../../testing/faults.js';

describe('objectSize (Content-Range)', () => {
  it('reads the total after the slash', () => {
    expect(objectSize('bytes 0-9/100')).toBe(100);
    expect(objectSize('bytes 5242879-5242883/5242884')).toBe(5_242_884);
  });

  it('is undefined when the server does not know or does not say', () => {
    expect(objectSize('bytes 0-9/*')).toBeUndefined();
    expect(objectSize(undefined)).toBeUndefined();
    expect(objectSize('')).toBeUndefined();
  });
});

/** A client whose GET answers with `answer`, recording the commands. */
function scripted(answer: () => unknown): { client: S3Client; sent: GetObjectCommand[] } {
  const sent: GetObjectCommand[] = [];
  const send = (command: GetObjectCommand): Promise<unknown> => {
    sent.push(command);
    return Promise.resolve().then(answer);
  };
  return { client: { send } as unknown as S3Client, sent };
}

describe('readRange with ifMatch', () => {
  const input = { key: 'k', start: 0, end: 2 };

  it('sends If-Match when given, and none otherwise', async () => {
    const { client, sent } = scripted(() => ({
      Body: Readable.from([Buffer.from('abc')]),
      ContentRange: 'bytes 0-2/3',
    }));
    await readRange({ client, bucket: 'b' }, { ...input, ifMatch: '"e1"' });
    await readRange({ client, bucket: 'b' }, input);
    expect(sent.map((c) => c.input.IfMatch)).toEqual(['"e1"', undefined]);
  });

  it('412 is "changed while it was being read", not retryable', { tags: ['faults'] }, async () => {
    const { client } = scripted(() => {
      throw Object.assign(new Error('PreconditionFailed'), {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      });
    });
    const error = await readRange({ client, bucket: 'b' }, { ...input, ifMatch: '"e1"' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({
      message: 'k changed while it was being read (ETag was "e1")',
      isRetryable: false,
      isNotFound: false,
    });
    injected('concurrent writer'); // the object was replaced: 412
  });
});

describe('readRange body (a Node Readable, read in its data events)', () => {
  const input = { key: 'k', start: 0, end: 5 };
  const answer = (...chunks: string[]) =>
    scripted(() => ({ Body: Readable.from(chunks.map((c) => Buffer.from(c))) })).client;

  it('fills the target across socket reads, into the caller buffer', async () => {
    const target = Buffer.alloc(8);
    const got = await readRange(
      { client: answer('ab', 'cd', 'ef'), bucket: 'b' },
      {
        ...input,
        target,
      },
    );
    expect(Buffer.from(got).toString()).toBe('abcdef');
    expect(got.buffer).toBe(target.buffer);
  });

  it.each([
    [['abc'], 'reading bytes 0-5 of b/k: the server sent 3 of 6 bytes'],
    [['abcd', 'efgh'], 'reading bytes 0-5 of b/k: the server sent more than 6 bytes'],
  ])(
    'a body of the wrong length (%j) is a retryable error',
    { tags: ['faults'] },
    async (chunks, message) => {
      injected('corrupt data');
      const error = await readRange({ client: answer(...chunks), bucket: 'b' }, input).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ message, isRetryable: true });
    },
  );

  it(
    'a connection cut mid-body is an error, not a short success',
    { tags: ['faults'] },
    async () => {
      injected('S3 reset/timeout');
      const body = new Readable({
        read() {
          this.push(Buffer.from('abc'));
          this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        },
      });
      const { client } = scripted(() => ({ Body: body }));
      const error = await readRange({ client, bucket: 'b' }, input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toContain('reading bytes 0-5 of b/k');
    },
  );
});
