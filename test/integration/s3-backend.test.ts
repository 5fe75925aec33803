/**
 * S3Backend against a real S3 server (Ceph RGW in CI): the chunk writer's commit and its checks,
 * a complete whose answer was lost, abort and pending writes, storage classes, paging, ranges,
 * and error classification. The contract every backend shares is checked by the conformance
 * suite; this file covers what is S3's own. Needs the test S3 server (test/s3-env.ts).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import {
  connect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import type { ChunkWriter, WriteChunkInput, WrittenChunk } from '../../src/storage/backend.js';
import { md5, multipartEtag } from '../../src/storage/etag.js';
import { createS3Backend, type S3Backend } from '../../src/storage/s3/backend.js';
import { useTestBucket } from '../s3-env.js';
import { injected } from '../../src/testing/faults.js';
import { storageFailure as failure } from '../../src/testing/failures.js';

const MiB = 1024 * 1024;

/** A storage class the server does not have: Ceph RGW knows only STANDARD (AWS: set another). */
const REFUSED_CLASS = process.env['Z3_TEST_REFUSED_STORAGE_CLASS'] ?? 'STANDARD_IA';

/** Write `bodies` as chunks 1..n, last first (the order must not matter). */
async function writeAll(writer: ChunkWriter, bodies: readonly Buffer[]): Promise<WrittenChunk[]> {
  const written: WrittenChunk[] = [];
  for (const [i, body] of [...bodies.entries()].reverse()) {
    written.push(await writer.writeChunk({ number: i + 1, body, md5: md5(body) }));
  }
  return written;
}

/** The server refuses `chunk` for good, and after the abort nothing of the write is left. */
async function expectRefusedChunk(
  backend: S3Backend,
  key: string,
  chunk: WriteChunkInput,
): Promise<void> {
  const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
  const err = await failure(writer.writeChunk(chunk));
  await writer.abort();
  expect(err.isRetryable).toBe(false);
  expect(err.message).toMatch(/^uploading part 1 of .*: \w+ \(HTTP 400\)/);
  expect(err.message).toContain(key);
  expect(await backend.stat(key)).toBeUndefined();
  expect(await backend.listPending(key)).toEqual([]);
  injected('corrupt data');
}

const twoParts = (): Buffer[] => [Buffer.alloc(5 * MiB, 1), Buffer.from('tail')];

describe('S3Backend chunk writer (real S3)', () => {
  const { prefix, backend } = useTestBucket('s3-backend-writer');

  it('commits chunks as one object whose ETag is the locally computed multipart ETag', async () => {
    const key = `${prefix}/mp`;
    const bodies = twoParts();
    const writer = await backend.openWriter({
      key,
      metadata: { IsFull: 'true', parent: 'tank/a@s1' },
      storageClass: undefined,
      chunkSize: 5 * MiB,
    });
    expect(await backend.listPending(key)).toEqual([
      { key, id: writer.id, started: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string },
    ]);
    const chunks = await writeAll(writer, bodies);
    expect(await backend.stat(key)).toBeUndefined();
    const expected = multipartEtag(bodies.map((b) => md5(b)));
    expect(await writer.complete(chunks)).toEqual({ etag: expected, size: 5 * MiB + 4 });
    expect(await backend.stat(key)).toEqual({
      key,
      size: 5 * MiB + 4,
      etag: expected,
      metadata: { isfull: 'true', parent: 'tank/a@s1' },
    });
    expect(await backend.listPending(key)).toEqual([]);
    const range = await backend.readRange({ key, start: 5 * MiB - 1, end: 5 * MiB + 3 });
    expect(Buffer.from(range).toString('latin1')).toBe('\x01tail');
  });

  // A retry after a lost answer: AWS answers NoSuchUpload, Ceph RGW 16 answers 200 again (with
  // the ETag it left empty the first time); either way the object is verified, not re-made.
  it('completes twice and verifies the object both times', async () => {
    const key = `${prefix}/twice`;
    const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
    const chunks = await writeAll(writer, twoParts());
    const first = await writer.complete(chunks);
    expect(await writer.complete(chunks)).toEqual(first);
    expect((await backend.stat(key))?.size).toBe(5 * MiB + 4);
    await writer.abort(); // after a commit: nothing to abort, not an error
    expect(await backend.stat(key)).toBeDefined();
  });

  // Deleted only where the server's Complete answer proves the object is this write's (AWS
  // returns its ETag); Ceph RGW 16 returns none, so there it is left in place and said so.
  it(
    'a committed object whose size is not the sum of the chunks: an IntegrityError',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/short`;
      const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
      const chunks = await writeAll(writer, twoParts());
      const lying = chunks.map((c) => (c.number === 2 ? { ...c, size: c.size + 1 } : c));
      const err = await writer.complete(lying).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      const mismatch =
        'the server reports ETag "[0-9a-f]{32}-2" and 5242884 bytes, expected "[0-9a-f]{32}-2" and 5242885 bytes';
      const message = (err as IntegrityError).message;
      if (message.endsWith('the object was deleted')) {
        expect(message).toMatch(new RegExp(`/short: ${mismatch}; the object was deleted$`));
        expect(await backend.stat(key)).toBeUndefined();
      } else {
        expect(message).toMatch(
          new RegExp(
            `/short: the object at the key is not what this write sent \\(${mismatch}\\); ` +
              "it was left in place: the server's answer to this write's commit carried no ETag",
          ),
        );
        expect((await backend.stat(key))?.size).toBe(5 * MiB + 4);
      }
      injected('corrupt data');
    },
  );

  it('aborts twice without error and leaves nothing', async () => {
    const key = `${prefix}/aborted`;
    const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
    const chunks = await writeAll(writer, [Buffer.from('x')]);
    await writer.abort();
    await writer.abort();
    expect(await backend.listPending(key)).toEqual([]);
    // AWS answers NoSuchUpload (then: isNotFound); Ceph RGW 16 a 500 "This multipart completion
    // is already in progress" (retryable): either way it fails and commits nothing.
    await failure(writer.complete(chunks));
    expect(await backend.stat(key)).toBeUndefined();
  });

  it('lists pending writes under a prefix and aborts them by key and id', async () => {
    const keys = [`${prefix}/pending/a`, `${prefix}/pending/b`];
    const writers = await Promise.all(
      keys.map((key) => backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB })),
    );
    const pending = await backend.listPending(`${prefix}/pending/`);
    expect(pending.map((p) => [p.key, p.id])).toEqual(writers.map((w) => [w.key, w.id]));
    for (const p of pending) {
      await backend.abortPending(p);
      await backend.abortPending(p);
    }
    expect(await backend.listPending(`${prefix}/pending/`)).toEqual([]);
  });

  it('refuses a chunk whose MD5 does not match, permanently', { tags: ['faults'] }, async () => {
    const chunk = { number: 1, body: Buffer.from('x'), md5: md5(Buffer.from('y')) };
    await expectRefusedChunk(backend, `${prefix}/bad-md5`, chunk);
  });

  it('writes with no storage class (the server default) on any server', async () => {
    const key = `${prefix}/default-class`;
    const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
    await writer.complete(await writeAll(writer, [Buffer.from('x')]));
    expect((await backend.stat(key))?.size).toBe(1);
  });

  it(`refuses ${REFUSED_CLASS} with a hint naming the setting`, { tags: ['faults'] }, async () => {
    const open = backend.openWriter({
      key: `${prefix}/sc`,
      metadata: {},
      storageClass: REFUSED_CLASS,
      chunkSize: 5 * MiB,
    });
    const err = await failure(open);
    expect(err.isRetryable).toBe(false);
    expect(err.message).toMatch(/^starting upload to .*\/sc: Invalid(StorageClass|Argument)/);
    expect(err.hint).toMatch(new RegExp(`storage class ${REFUSED_CLASS}: set .*S3_STORAGE_CLASS`));
    injected('bad input');
  });
});

describe('S3Backend parts checked by their signed SHA-256 (real S3)', () => {
  const { prefix, backend } = useTestBucket('s3-backend-sha256', { partDigest: 'sha256' });
  const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

  it('finds that the server verifies it, and commits the object S3 makes of the bytes', async () => {
    const key = `${prefix}/mp`;
    const bodies = twoParts();
    const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
    expect(writer.digest).toBe('sha256');
    const chunks: WrittenChunk[] = [];
    for (const [i, body] of [...bodies.entries()].reverse()) {
      chunks.push(await writer.writeChunk({ number: i + 1, body, sha256: sha256(body) }));
    }
    // the server's part ETags are the MD5s of the bytes it verified: the probe's part 1 is gone
    expect(chunks.map((c) => Buffer.from(c.md5 ?? []).toString('hex')).reverse()).toEqual(
      bodies.map((b) => md5(b).toString('hex')),
    );
    const expected = multipartEtag(bodies.map((b) => md5(b)));
    expect(await writer.complete(chunks)).toEqual({ etag: expected, size: 5 * MiB + 4 });
    const range = await backend.readRange({ key, start: 0, end: 5 * MiB + 3 });
    expect(md5(range)).toEqual(md5(Buffer.concat(bodies)));
  });

  it('refuses a part whose SHA-256 does not match, permanently', { tags: ['faults'] }, async () => {
    const chunk = { number: 1, body: Buffer.from('x'), sha256: sha256(Buffer.from('y')) };
    await expectRefusedChunk(backend, `${prefix}/bad-sha256`, chunk);
  });
});

describe('S3Backend connections (real S3, through a counting TCP relay)', () => {
  const { s3, prefix, backend } = useTestBucket('s3-backend-connections');
  let relay: NetServer;
  let connections = 0;
  const sockets: Socket[] = [];

  // A relay in front of the server that counts the TCP connections the client opens.
  beforeAll(async () => {
    const endpoint = s3.connection.endpoint;
    if (endpoint === undefined) throw new Error('the relay needs Z3_TEST_S3_ENDPOINT (http)');
    const target = new URL(endpoint);
    relay = createNetServer((client) => {
      connections += 1;
      sockets.push(client);
      const upstream = connect(Number(target.port || 80), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy(); // the lean HEAD's keep-alive one, too
    await new Promise((resolve) => relay.close(resolve));
  });

  it('uploads every part of a write on the connections of the keep-alive pool', async () => {
    const { port } = relay.address() as AddressInfo;
    const relayed = createS3Backend(
      { ...s3.connection, endpoint: `http://127.0.0.1:${port}` },
      s3.bucket,
    );
    const key = `${prefix}/four-parts`;
    const bodies = [1, 2, 3, 4].map((n) => Buffer.alloc(5 * MiB, n));
    const writer = await relayed.openWriter({ key, metadata: {}, chunkSize: 5 * MiB });
    const chunks = await writeAll(writer, bodies);
    await writer.complete(chunks);
    // One connection for the SDK's requests (create, 4 parts, complete, one after another)
    // and one for the lean HEAD that checks the commit; a connection per part would make 5+.
    expect(connections).toBeLessThanOrEqual(2);
    expect((await backend.stat(key))?.size).toBe(20 * MiB);
    relayed.client.destroy();
  });
});

describe('S3Backend listing (real S3, 2 keys a page)', () => {
  const { prefix, backend } = useTestBucket('s3-backend-list', { pageSize: 2 });
  const names = ['a', 'b', 'c/d', 'c/e', 'f'];
  let listRequests = 0;
  backend.client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'ListObjectsV2Command') listRequests += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countListRequests' },
  );

  async function keys(under: string, startAfter?: string): Promise<string[]> {
    const listed: string[] = [];
    for await (const o of backend.list(under, { startAfter })) listed.push(o.key);
    return listed;
  }

  it('lists every page, in lexical order, with size, ETag and date', async () => {
    for (const name of [...names].reverse()) {
      await backend.client.send(
        new PutObjectCommand({ Bucket: backend.bucket, Key: `${prefix}/${name}`, Body: name }),
      );
    }
    listRequests = 0;
    const listed = [];
    for await (const o of backend.list(`${prefix}/`)) listed.push(o);
    expect(listRequests).toBe(3);
    expect(listed.map((o) => [o.key, o.size])).toEqual(
      names.map((n) => [`${prefix}/${n}`, n.length]),
    );
    for (const o of listed) {
      expect(o.etag).toBe((await backend.stat(o.key))?.etag);
      expect(Number.isNaN(Date.parse(o.lastModified))).toBe(false);
    }
  });

  it('starts after a key, across pages', async () => {
    expect(await keys(`${prefix}/`, `${prefix}/b`)).toEqual(
      ['c/d', 'c/e', 'f'].map((n) => `${prefix}/${n}`),
    );
    expect(await keys(`${prefix}/`, `${prefix}/c/`)).toEqual(
      ['c/d', 'c/e', 'f'].map((n) => `${prefix}/${n}`),
    );
    expect(await keys(`${prefix}/`, `${prefix}/f`)).toEqual([]);
  });

  it('reads ranges at the first and last byte; a range past the end is permanent', async () => {
    const key = `${prefix}/c/d`;
    const target = Buffer.alloc(8, 0);
    const first = await backend.readRange({ key, start: 0, end: 0, target });
    expect(Buffer.from(first).toString()).toBe('c');
    expect(first.buffer).toBe(target.buffer);
    const last = await backend.readRange({ key, start: 2, end: 2 });
    expect(Buffer.from(last).toString()).toBe('d');
    for (const [start, end] of [
      [1, 3],
      [3, 5],
    ] as const) {
      const err = await failure(backend.readRange({ key, start, end }));
      expect(err.isRetryable).toBe(false);
      expect(err.isNotFound).toBe(false);
    }
  });
});

describe('S3Backend errors (real S3)', () => {
  const { s3, prefix, backend } = useTestBucket('s3-backend-errors');

  it('treats missing keys as documented', async () => {
    const key = `${prefix}/missing`;
    expect(await backend.stat(key)).toBeUndefined();
    expect(await backend.features.statBulk?.(key)).toBeUndefined();
    await backend.remove(key);
    const err = await failure(backend.readRange({ key, start: 0, end: 9 }));
    expect(err.isNotFound).toBe(true);
    expect(err.isRetryable).toBe(false);
  });

  it('does not take a missing bucket for a missing key', { tags: ['faults'] }, async () => {
    const none = createS3Backend(s3.connection, `${s3.bucket}-none-${Date.now().toString(36)}`);
    const err = await failure(none.remove(`${prefix}/x`));
    expect(err.isNotFound).toBe(false);
    expect(err.hint).toMatch(/BUCKET/);
    none.client.destroy();
    injected('bad input');
  });

  it(
    'reports bad credentials as a permanent error with a hint, without the secret',
    { tags: ['faults'] },
    async () => {
      const bad = createS3Backend({ ...s3.connection, s3Secret: 'not-the-secret-0123' }, s3.bucket);
      for (const call of [() => bad.stat(`${prefix}/x`), () => bad.listPending(`${prefix}/`)]) {
        const err = await failure(call());
        expect(err.isRetryable).toBe(false);
        expect(err.exitCode).toBe(5);
        expect(err.hint).toMatch(/S3_KEY_ID/);
        expect(err.message).not.toContain('not-the-secret');
      }
      bad.client.destroy();
      injected('bad input', 2); // a wrong S3_SECRET, two calls
    },
  );

  it('names itself', () => {
    expect(backend.kind).toBe('s3');
    expect(backend.location).toBe(`s3://${s3.bucket}`);
    expect(backend.features.hasStableListing).toBe(true);
    expect(backend.limits.maxParts).toBe(10_000);
  });
});
