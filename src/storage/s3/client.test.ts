import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import { injected } from '../../testing/faults.js';
import { md5 } from '../etag.js';
import type { ChunkWriter } from '../backend.js';
import { createS3Backend, type S3Backend } from './backend.js';
import { scriptedConnection, useScriptedS3 } from './testing.js';
import { S3ChunkWriter } from './writer.js';

describe('S3 client timeouts', () => {
  // A server that accepts connections and never answers: a wedged S3 server, or a NAT that
  // dropped the flow mid-request.
  let server: Server;
  const sockets: Socket[] = [];
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it(
    'ends a request on a silent connection as a retryable storage error',
    { tags: ['faults'] },
    async () => {
      const backend = createS3Backend(scriptedConnection(port), 'b', { socketTimeoutMs: 300 });
      const statBulk = backend.features.statBulk;
      expect(statBulk).toBeDefined();
      let silent = 0;
      for (const call of [
        () => backend.readRange({ key: 'k', start: 0, end: 9 }),
        () => backend.stat('k'),
        () => (statBulk ?? backend.stat.bind(backend))('k'),
        async () => {
          const writer = await backend.resumeWriter({
            key: 'k',
            id: 'u',
            metadata: {},
            chunkSize: 0,
          });
          const body = Buffer.from('part');
          return writer.writeChunk({ number: 1, body, md5: md5(body) });
        },
      ]) {
        const connections = sockets.length;
        const started = Date.now();
        const err = await call().catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(err).toBeInstanceOf(StorageError);
        expect((err as StorageError).isRetryable).toBe(true);
        // One attempt per call: the retry policy is the wrapper's, never the SDK's too.
        expect(sockets.length - connections).toBe(1);
        silent += sockets.length - connections;
      }
      injected('S3 reset/timeout', silent);
      backend.client.destroy();
    },
  );
});

describe('S3 client connections for part uploads', () => {
  // A scripted S3 server that answers every UploadPart with the part's ETag, counting the TCP
  // connections it accepts and the requests that asked for `100 Continue`.
  let connections = 0;
  let expectContinue = 0;
  /** Each request's payload hash as signed and its Content-MD5, by method and query. */
  const signed: { request: string; payload: string; md5: string }[] = [];
  const { server, backend: scripted } = useScriptedS3((req, res) => {
    if (req.headers.expect !== undefined) expectContinue += 1;
    signed.push({
      request: `${req.method} ${req.url?.replace(/^[^?]*\??/, '')}`,
      payload: String(req.headers['x-amz-content-sha256']),
      md5: String(req.headers['content-md5']),
    });
    const hash = createHash('md5');
    req.on('data', (data: Buffer) => hash.update(data));
    req.on('end', () => {
      res.writeHead(200, { etag: `"${hash.digest('hex')}"` });
      res.end();
    });
  });
  // What Node does without this listener, made explicit: answer `100 Continue`, then the request.
  server.on('checkContinue', (req, res) => {
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('connection', () => (connections += 1));

  // The SDK sends parts of 2 MiB and more with `Expect: 100-continue`, and sends such a request
  // on a new connection that is closed after it: a TCP (and on https a TLS) handshake per part.
  // The backend sends parts on its lean path; the SDK's is its fallback (lean-put.ts).
  const writers = {
    lean: (backend: S3Backend): Promise<ChunkWriter> =>
      backend.resumeWriter({ key: 'k', id: 'u', metadata: {}, chunkSize: 0 }),
    sdk: (backend: S3Backend): Promise<ChunkWriter> =>
      Promise.resolve(
        new S3ChunkWriter({
          client: backend.client,
          bucket: 'b',
          key: 'k',
          id: 'u',
          store: backend,
        }),
      ),
  };

  it.each(['lean', 'sdk'] as const)(
    'sends parts one after another on one keep-alive connection, without Expect (%s)',
    async (path) => {
      const backend = scripted();
      const writer = await writers[path](backend);
      connections = 0;
      expectContinue = 0;
      for (let number = 1; number <= 4; number++) {
        const body = Buffer.alloc(5 * 1024 * 1024, number);
        const written = await writer.writeChunk({ number, body, md5: md5(body) });
        expect(written.etag).toBe(`"${md5(body).toString('hex')}"`);
      }
      expect({ connections, expectContinue }).toEqual({ connections: 1, expectContinue: 0 });
      backend.client.destroy();
    },
  );

  // Content-MD5 makes the server verify the bytes; a SHA-256 of them as well (the signer's
  // default for a body over http) would cost about 0.6 CPU-s per GiB on the main thread.
  it('signs the bodies of parts and single PUTs as UNSIGNED-PAYLOAD, with Content-MD5', async () => {
    const backend = scripted();
    signed.length = 0;
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    await (await writers.lean(backend)).writeChunk({ number: 1, body, md5: md5(body) });
    await (await writers.sdk(backend)).writeChunk({ number: 2, body, md5: md5(body) });
    await backend.put({ key: 'small', body, md5: md5(body), metadata: {} });
    const md5Header = md5(body).toString('base64');
    expect(signed.slice(0, 3)).toEqual([
      { request: 'PUT partNumber=1&uploadId=u', payload: 'UNSIGNED-PAYLOAD', md5: md5Header },
      {
        request: 'PUT partNumber=2&uploadId=u&x-id=UploadPart',
        payload: 'UNSIGNED-PAYLOAD',
        md5: md5Header,
      },
      { request: 'PUT x-id=PutObject', payload: 'UNSIGNED-PAYLOAD', md5: md5Header },
    ]);
    backend.client.destroy();
  });
});
