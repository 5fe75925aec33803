/**
 * The lean UploadPart against a scripted S3 server that checks what S3 checks: the SigV4
 * signature (recomputed from the request as received, with the test's secret), the payload
 * hash or Content-MD5 against the bytes, and the bytes themselves. Errors, timeouts, aborts,
 * pacing and the fallback to the SDK are scripted too; test/integration/s3-backend.test.ts
 * sends real parts to Ceph RGW.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../../errors.js';
import { injected } from '../../testing/faults.js';
import type { ChunkWriter, Pacer } from '../backend.js';
import { md5 } from '../etag.js';

import { createLeanPartUploader, type PartUpload, type UploadPartFn } from './lean-put.js';
import { sdkPartUploader } from './writer.js';
import { createS3Backend, type S3Backend } from './backend.js';
import { createS3Client } from './client.js';
import { scriptedConnection, selfSignedCert, useScriptedS3 } from './testing.js';

/** The secret of scriptedConnection, which only this scripted server knows besides the client. */
const verifier = new SignatureV4({
  service: 's3',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' },
  sha256: Sha256,
  uriEscapePath: false,
});

/** The Authorization header a server computes for `req` as received; '' when it has none. */
async function expectedAuthorization(req: IncomingMessage): Promise<string> {
  const auth = String(req.headers.authorization ?? '');
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    if (name !== 'x-amz-date') headers[name] = String(req.headers[name]);
  }
  const [path = '', search = ''] = (req.url ?? '').split('?');
  const query: Record<string, string> = {};
  for (const pair of search.split('&').filter((p) => p !== '')) {
    const [name = '', value = ''] = pair.split('=');
    query[decodeURIComponent(name)] = decodeURIComponent(value);
  }
  const date = String(req.headers['x-amz-date']).replace(
    /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
    '$1-$2-$3T$4:$5:$6Z',
  );
  const signed = await verifier.sign(
    { method: req.method ?? '', protocol: 'http:', hostname: '127.0.0.1', path, query, headers },
    { signingDate: new Date(date) },
  );
  return String(signed.headers['authorization']);
}

interface Received {
  url: string;
  size: number;
  payload: string;
  md5: string | undefined;
  signatureOk: boolean;
}

type Script = (req: IncomingMessage, body: Buffer) => { status: number; body?: string } | 'hang';

describe('the lean UploadPart', () => {
  const received: Received[] = [];
  let script: Script = () => ({ status: 200 });
  let connections = 0;
  const { server, backend: scripted } = useScriptedS3((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void expectedAuthorization(req).then((authorization) => {
        const payload = String(req.headers['x-amz-content-sha256']);
        const md5Header = req.headers['content-md5'] as string | undefined;
        received.push({
          url: req.url ?? '',
          size: body.length,
          payload,
          md5: md5Header,
          signatureOk: authorization === req.headers.authorization,
        });
        const answer = script(req, body);
        if (answer === 'hang') return;
        const digestOk =
          (payload === 'UNSIGNED-PAYLOAD' ||
            payload === createHash('sha256').update(body).digest('hex')) &&
          (md5Header === undefined || md5Header === md5(body).toString('base64'));
        if (answer.status === 200 && !digestOk) {
          res.writeHead(400).end('<Error><Code>BadDigest</Code></Error>');
          return;
        }
        if (answer.status !== 200) {
          res.writeHead(answer.status, { 'content-type': 'application/xml' });
          res.end(answer.body ?? '');
          return;
        }
        res.writeHead(200, { etag: `"${md5(body).toString('hex')}"` }).end();
      });
    });
  });
  /** The server's end of each connection, and the bytes of request bodies received so far. */
  const serverSockets: Socket[] = [];
  let bodyBytes = 0;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    serverSockets.push(socket);
  });
  server.on('request', (req: IncomingMessage) =>
    req.on('data', (c: Buffer) => (bodyBytes += c.length)),
  );

  /** A writer of an upload with an id that needs encoding, on the backend's lean path. */
  async function setUp(
    options: Parameters<typeof scripted>[0] = {},
    next: Script = () => ({ status: 200 }),
  ): Promise<{ backend: S3Backend; writer: ChunkWriter }> {
    received.length = 0;
    script = next;
    const backend = scripted({ partDigest: 'md5', ...options });
    const writer = await backend.resumeWriter({
      key: 'pool/my data@snap:1',
      id: '2~a+b/c=d!',
      metadata: {},
      chunkSize: 0,
    });
    return { backend, writer };
  }

  const body = Buffer.alloc(5 * 1024 * 1024 + 3, 5);

  it('sends parts signed as S3 checks them, with Content-MD5 or the signed SHA-256', async () => {
    const { backend, writer } = await setUp();
    const before = connections;
    const written = await writer.writeChunk({ number: 7, body, md5: md5(body) });
    expect(written).toEqual({ number: 7, size: body.length, md5: md5(body), etag: written.etag });
    expect(written.etag).toBe(`"${md5(body).toString('hex')}"`);
    const sha256 = createHash('sha256').update(body).digest();
    await writer.writeChunk({ number: 8, body, sha256 });
    expect(received).toEqual([
      {
        url: '/b/pool/my%20data%40snap%3A1?partNumber=7&uploadId=2~a%2Bb%2Fc%3Dd%21',
        size: body.length,
        payload: 'UNSIGNED-PAYLOAD',
        md5: md5(body).toString('base64'),
        signatureOk: true,
      },
      expect.objectContaining({ payload: sha256.toString('hex'), md5: undefined }),
    ]);
    expect(received[1]?.signatureOk).toBe(true);
    // both parts on one keep-alive connection
    expect(connections - before).toBe(1);
    backend.client.destroy();
  });

  it('fails a part whose digest the server finds wrong as permanent, with its code', async () => {
    const { backend, writer } = await setUp();
    const wrong = createHash('sha256').update('other bytes').digest();
    const error = await writer
      .writeChunk({ number: 1, body, sha256: wrong })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ isRetryable: false, isNotFound: false });
    expect((error as Error).message).toMatch(
      /^uploading part 1 of b\/pool\/my data@snap:1: BadDigest \(HTTP 400\)/,
    );
    backend.client.destroy();
  });

  it(
    'classifies error answers as the SDK path does: 503 retryable, NoSuchUpload not found',
    { tags: ['faults'] },
    async () => {
      const answers = [
        {
          status: 503,
          body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        },
        { status: 404, body: '<Error><Code>NoSuchUpload</Code></Error>' },
        { status: 500, body: '' },
      ];
      const { backend, writer } = await setUp({}, () => answers.shift() ?? { status: 200 });
      const errors = [];
      for (let i = 0; i < 3; i++) {
        errors.push(
          await writer.writeChunk({ number: 1, body, md5: md5(body) }).catch((e: unknown) => e),
        );
      }
      expect(
        errors.map((e) => (e as StorageError).message.replace(/^.*: (?=\w+ \(HTTP)/, '')),
      ).toEqual([
        'SlowDown (HTTP 503): Please reduce your request rate.',
        'NoSuchUpload (HTTP 404)',
        'InternalServerError (HTTP 500)',
      ]);
      expect(errors.map((e) => (e as StorageError).isRetryable)).toEqual([true, false, true]);
      expect((errors[1] as StorageError).isNotFound).toBe(true);
      injected('S3 error', 3);
      backend.client.destroy();
    },
  );

  it(
    'ends a part the server never answers as a retryable timeout',
    { tags: ['faults'] },
    async () => {
      const { backend, writer } = await setUp({ socketTimeoutMs: 300 }, () => 'hang');
      const started = Date.now();
      const error = await writer
        .writeChunk({ number: 1, body, md5: md5(body) })
        .catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error).toMatchObject({ isRetryable: true });
      expect((error as Error).message).toMatch(/TimeoutError: no answer within 0.3 s/);
      injected('S3 reset/timeout');
      backend.client.destroy();
    },
  );

  it(
    'stops when aborted, with the reason, and closes the connection',
    { tags: ['faults'] },
    async () => {
      const { backend, writer } = await setUp({}, () => 'hang');
      const controller = new AbortController();
      const reason = new Error('stop here');
      setTimeout(() => controller.abort(reason), 50);
      const started = Date.now();
      const error = await writer
        .writeChunk({ number: 1, body, md5: md5(body), signal: controller.signal })
        .catch((e: unknown) => e);
      expect(error).toBe(reason);
      expect(Date.now() - started).toBeLessThan(2_000);
      await vi.waitFor(() => expect(serverSockets.at(-1)?.destroyed).toBe(true));
      injected('signal');
      backend.client.destroy();
    },
  );

  it('streams a paced part slice by slice, each paid for before it is sent', async () => {
    const { backend, writer } = await setUp();
    let paid = 0;
    /** At each payment: the bytes paid before it, and the bytes the server had by then. */
    const seen: { paidBefore: number; arrived: number }[] = [];
    const start = bodyBytes;
    const pace = async (bytes: number): Promise<void> => {
      await sleep(2); // time for whatever was sent to arrive
      seen.push({ paidBefore: paid, arrived: bodyBytes - start });
      paid += bytes;
    };
    await writer.writeChunk({ number: 1, body, md5: md5(body), pace });
    expect(paid).toBe(body.length);
    expect(seen.length).toBe(Math.ceil(body.length / (64 * 1024)));
    for (const { paidBefore, arrived } of seen) expect(arrived).toBeLessThanOrEqual(paidBefore);
    // and the bytes did flow while the part was paced, not all at the end
    expect(seen.at(-1)?.arrived).toBeGreaterThan(0);
    expect(received).toMatchObject([{ size: body.length, signatureOk: true }]);
    backend.client.destroy();
  });
});

describe('createLeanPartUploader', () => {
  it('leaves buckets of another auth scheme to the SDK (S3 Express: sigv4-s3express)', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    const fallback = vi.fn(() => Promise.resolve('"sdk"'));
    const upload = createLeanPartUploader({ client, bucket: 'bucket--use1-az4--x-s3', fallback });
    const part = {
      key: 'k',
      id: 'u',
      number: 1,
      body: Buffer.from('x'),
      md5: md5(Buffer.from('x')),
    };
    expect(await upload(part)).toBe('"sdk"');
    expect(fallback).toHaveBeenCalledWith(part);
    client.destroy();
  });
});

describe('the lean UploadPart over TLS', () => {
  const body = Buffer.alloc(3 * 1024 * 1024, 4);

  it('sends a part to a server whose certificate it checks', async () => {
    const { key, cert } = selfSignedCert();
    const server = createHttpsServer({ key, cert }, (req, res) => {
      const hash = createHash('md5');
      req.on('data', (data: Buffer) => hash.update(data));
      req.on('end', () => res.writeHead(200, { etag: `"${hash.digest('hex')}"` }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createS3Client(scriptedConnection(port, { scheme: 'https', host: 'localhost' }));
    const fallback = vi.fn(() => Promise.reject(new Error('not the lean path')));
    const part = { key: 'k', id: 'u', number: 1, body, md5: md5(body) };
    try {
      const upload = createLeanPartUploader({ client, bucket: 'b', fallback, tls: { ca: cert } });
      expect(await upload(part)).toBe(`"${md5(body).toString('hex')}"`);
      const untrusted = createLeanPartUploader({ client, bucket: 'b', fallback });
      await expect(untrusted(part)).rejects.toThrow(/self[- ]signed certificate/i);
      expect(fallback).not.toHaveBeenCalled();
    } finally {
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the lean UploadPart answered before its body is sent', () => {
  /** A server that answers 403 as soon as a request's head is in, then keeps or resets it. */
  const sockets: Socket[] = [];
  let afterAnswer: 'keep' | 'reset' = 'keep';
  const raw = createNetServer((socket) => {
    sockets.push(socket);
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('data', () => {
      if (answered) return;
      answered = true;
      const xml = '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
      socket.write(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\n` +
          `Content-Length: ${xml.length}\r\n\r\n${xml}`,
      );
      if (afterAnswer === 'reset') socket.resetAndDestroy();
    });
  });
  beforeAll(() => new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => raw.close(resolve));
  });

  function uploader(): { upload: UploadPartFn; client: S3Client } {
    const client = createS3Client(scriptedConnection((raw.address() as AddressInfo).port));
    const fallback = vi.fn(() => Promise.reject(new Error('not the lean path')));
    return { upload: createLeanPartUploader({ client, bucket: 'b', fallback }), client };
  }

  const body = Buffer.alloc(4 * 1024 * 1024, 3);
  /** Part 1 of upload `u` of `k`, with `bytes` and their MD5. */
  const partOf = (bytes: Buffer): PartUpload => ({
    key: 'k',
    id: 'u',
    number: 1,
    body: bytes,
    md5: md5(bytes),
  });
  /** A pacer that lets a slice out every 5 ms, counting its calls. */
  function slowPacer(): { pace: Pacer; calls: () => number } {
    let calls = 0;
    const pace: Pacer = () => {
      calls += 1;
      return sleep(5);
    };
    return { pace, calls: () => calls };
  }

  it(
    "stops sending the part at the server's error answer, and reports that answer",
    { tags: ['faults'] },
    async () => {
      afterAnswer = 'keep';
      const { upload, client } = uploader();
      const { pace, calls } = slowPacer();
      const error = await upload({ ...partOf(body), pace }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      await sleep(50);
      const paced = calls();
      await sleep(200);
      // nothing more is paced (the bandwidth budget is not spent on a dead part), nor sent
      expect(calls()).toBe(paced);
      expect(paced).toBeLessThan(body.length / (64 * 1024));
      await vi.waitFor(() => expect(sockets.at(-1)?.destroyed).toBe(true));
      injected('S3 error');
      client.destroy();
    },
  );

  it(
    'reports the error answer, not the reset that follows it, while the part is still sent',
    { tags: ['faults'] },
    async () => {
      afterAnswer = 'reset';
      const { upload, client } = uploader();
      const big = Buffer.alloc(32 * 1024 * 1024, 1);
      for (let i = 0; i < 5; i++) {
        const error = await upload(partOf(big)).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      }
      injected('S3 error', 5);
      client.destroy();
    },
  );

  it(
    'through the SDK too (single PUTs, and parts where the lean path cannot go): the answer, no stray socket error',
    { tags: ['faults'] },
    async () => {
      afterAnswer = 'reset';
      const backend = createS3Backend(scriptedConnection((raw.address() as AddressInfo).port), 'b');
      const viaSdk = sdkPartUploader(backend.client, 'b');
      const big = Buffer.alloc(16 * 1024 * 1024, 2);
      for (let i = 0; i < 4; i++) {
        const put = backend.put({ key: 'k', body: big, md5: md5(big), metadata: {} });
        await expect(put).rejects.toThrow(/AccessDenied \(HTTP 403\)/);
        await expect(viaSdk(partOf(big))).rejects.toMatchObject({ name: 'AccessDenied' });
      }
      // a socket error that nobody listens to would surface here, as vitest's unhandled error
      await sleep(100);
      injected('S3 error', 8);
      backend.client.destroy();
    },
  );
});
