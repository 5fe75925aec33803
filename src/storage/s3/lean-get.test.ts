/**
 * The lean ranged GET (lean-get.ts) on the wire, against scripted local servers: the bytes land
 * in the caller's buffer, connections are reused and dropped as HTTP/1.1 says, every error
 * answer and broken connection is classified as the SDK path classifies it, and an answer the
 * lean path cannot read goes through the SDK instead. Against a real S3 server:
 * test/integration/lean-get.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../../errors.js';
import { injected } from '../../testing/faults.js';
import type { ReadRangeInput } from '../backend.js';
import { createS3Backend, type S3Backend } from './backend.js';
import { createS3Client } from './client.js';
import { createLeanRangeReader } from './lean-get.js';
import { scriptedConnection, selfSignedCert } from './testing.js';
import { storageFailure as failure } from '../../testing/failures.js';

const OBJECT = randomBytes(256 * 1024);

/** One parsed request as the server saw it. */
interface Seen {
  path: string;
  headers: Record<string, string>;
}

/** What the server does with one request: write to the socket (or not). */
type Script = (socket: Socket, request: Seen) => void;

/** A raw TCP server answering each request with `script`; counts connections and requests. */
async function scriptedServer(script: Script): Promise<{
  port: number;
  connections: Socket[];
  requests: Seen[];
  close: () => Promise<void>;
}> {
  const connections: Socket[] = [];
  const requests: Seen[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const request = parseRequest(pending.slice(0, end));
        pending = pending.slice(end + 4);
        requests.push(request);
        script(socket, request);
      }
    });
    socket.on('error', () => undefined);
  });
  return listening(server, connections, requests);
}

async function listening(
  server: Server,
  connections: Socket[],
  requests: Seen[],
): Promise<{ port: number; connections: Socket[]; requests: Seen[]; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const close = async (): Promise<void> => {
    for (const s of connections) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return { port, connections, requests, close };
}

function parseRequest(text: string): Seen {
  const [first = '', ...lines] = text.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { path: first.split(' ')[1] ?? '', headers };
}

/** The bytes a `Range: bytes=a-b` header asks for, and the header values of a 206. */
function ranged(request: Seen): { body: Buffer; contentRange: string } {
  const match = /bytes=(\d+)-(\d+)/.exec(request.headers['range'] ?? '');
  const start = Number(match?.[1]);
  const end = Math.min(Number(match?.[2]), OBJECT.byteLength - 1);
  return {
    body: OBJECT.subarray(start, end + 1),
    contentRange: `bytes ${start}-${end}/${OBJECT.byteLength}`,
  };
}

function head(status: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status}\r\n${lines.join('')}\r\n`;
}

/** A correct 206, its body written in `pieces` writes (the first one with the head). */
function answerRange(pieces = 3, extra: Record<string, string> = {}): Script {
  return (socket, request) => {
    const { body, contentRange } = ranged(request);
    const h = head('206 Partial Content', {
      'Content-Length': body.byteLength,
      'Content-Range': contentRange,
      ETag: '"e1"',
      ...extra,
    });
    const step = Math.ceil(body.byteLength / pieces);
    socket.write(Buffer.concat([Buffer.from(h, 'latin1'), body.subarray(0, step)]));
    for (let at = step; at < body.byteLength; at += step) {
      setTimeout(() => socket.write(body.subarray(at, at + step)), 2 * (at / step));
    }
  };
}

function errorAnswer(status: string, code: string, message: string): Script {
  return (socket) => {
    const xml = `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    socket.write(head(status, { 'Content-Length': Buffer.byteLength(xml) }) + xml);
  };
}

const servers: { close: () => Promise<void> }[] = [];
const backends: S3Backend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) b.client.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function setUp(
  script: Script,
  socketTimeoutMs?: number,
): Promise<{
  backend: S3Backend;
  server: Awaited<ReturnType<typeof scriptedServer>>;
  fallback: ReturnType<typeof vi.fn>;
}> {
  const server = await scriptedServer(script);
  servers.push(server);
  const backend = createS3Backend(
    scriptedConnection(server.port),
    'b',
    socketTimeoutMs !== undefined ? { socketTimeoutMs } : {},
  );
  backends.push(backend);
  const fallback = vi.fn((input: ReadRangeInput) =>
    Promise.resolve(Buffer.from(`sdk ${input.start}-${input.end}`)),
  );
  backend.readRangeViaSdk = fallback;
  return { backend, server, fallback };
}

describe('lean ranged GET', () => {
  it('reads the range into the target, signed, whether the body comes with the head or later', async () => {
    for (const pieces of [1, 7]) {
      const { backend, server, fallback } = await setUp(answerRange(pieces));
      const target = Buffer.alloc(200_000);
      const got = await backend.readRange({
        key: 'pool/my data@s 1',
        start: 1000,
        end: 150_999,
        target,
        ifMatch: '"e1"',
      });
      expect(got.buffer).toBe(target.buffer);
      expect(Buffer.from(got).equals(OBJECT.subarray(1000, 151_000))).toBe(true);
      expect(fallback).not.toHaveBeenCalled();
      const [request] = server.requests;
      expect(request?.path).toBe('/b/pool/my%20data%40s%201');
      expect(request?.headers).toMatchObject({ range: 'bytes=1000-150999', 'if-match': '"e1"' });
      expect(request?.headers['authorization']).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=host;if-match;range;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    }
  });

  it('reuses one keep-alive connection; an answer with Connection: close is not reused', async () => {
    const { backend, server } = await setUp(answerRange());
    for (let i = 0; i < 3; i++) await backend.readRange({ key: 'k', start: i, end: i + 9 });
    expect(server.connections).toHaveLength(1);

    const closing = await setUp(answerRange(1, { Connection: 'close' }));
    for (let i = 0; i < 2; i++) await closing.backend.readRange({ key: 'k', start: 0, end: 9 });
    expect(closing.server.connections).toHaveLength(2);
  });

  it('drops a connection the server closed while idle and reads over a new one', async () => {
    const { backend, server } = await setUp((socket, request) => {
      answerRange(1)(socket, request);
      setTimeout(() => socket.end(), 10);
    });
    await backend.readRange({ key: 'k', start: 0, end: 9 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await backend.readRange({ key: 'k', start: 10, end: 19 });
    expect(Buffer.from(second).equals(OBJECT.subarray(10, 20))).toBe(true);
    expect(server.connections).toHaveLength(2);
  });

  it('classifies error answers as the SDK path does', { tags: ['faults'] }, async () => {
    const cases = [
      { script: errorAnswer('403 Forbidden', 'AccessDenied', 'Access Denied'), retry: false },
      { script: errorAnswer('503 Slow Down', 'SlowDown', 'Reduce your rate'), retry: true },
      { script: errorAnswer('404 Not Found', 'NoSuchKey', 'no key'), retry: false },
      { script: errorAnswer('500 Internal', 'InternalError', 'oops'), retry: true },
    ];
    const errors: StorageError[] = [];
    for (const c of cases) {
      const { backend } = await setUp(c.script);
      const error = await failure(backend.readRange({ key: 'k', start: 0, end: 9 }));
      expect(error.isRetryable).toBe(c.retry);
      errors.push(error);
    }
    expect(errors[0]?.message).toBe(
      'reading bytes 0-9 of b/k: AccessDenied (HTTP 403): Access Denied',
    );
    expect(errors[0]?.hint).toMatch(/S3_KEY_ID/);
    expect(errors[1]?.message).toMatch(/SlowDown \(HTTP 503\)/);
    expect(errors[2]?.isNotFound).toBe(true);
    injected('S3 error', cases.length);
  });

  it(
    'fails a read whose ETag no longer matches as a changed object',
    { tags: ['faults'] },
    async () => {
      const { backend } = await setUp(
        errorAnswer('412 Precondition Failed', 'PreconditionFailed', 'x'),
      );
      const error = await failure(
        backend.readRange({ key: 'k', start: 0, end: 9, ifMatch: '"e1"' }),
      );
      expect(error.message).toBe('k changed while it was being read (ETag was "e1")');
      expect(error.isRetryable).toBe(false);
      injected('concurrent writer', 1);
    },
  );

  it(
    'fails a cut body or a wrong length as retryable, on a fresh connection next time',
    { tags: ['faults'] },
    async () => {
      const cut = await setUp((socket, request) => {
        const { body, contentRange } = ranged(request);
        const h = head('206 Partial Content', {
          'Content-Length': body.byteLength,
          'Content-Range': contentRange,
        });
        socket.end(Buffer.concat([Buffer.from(h), body.subarray(0, 100)]));
      });
      const error = await failure(cut.backend.readRange({ key: 'k', start: 0, end: 999 }));
      expect(error.isRetryable).toBe(true);
      expect(error.message).toMatch(/the server sent 100 of 1000 bytes/);

      const wrong = await setUp((socket) => {
        socket.write(
          head('206 Partial Content', { 'Content-Length': 5, 'Content-Range': 'bytes 0-4/9' }) +
            '12345',
        );
      });
      const short = await failure(wrong.backend.readRange({ key: 'k', start: 0, end: 8 }));
      expect(short.isRetryable).toBe(true);
      expect(short.message).toMatch(/answered with 5 bytes, expected 9/);
      injected('S3 reset/timeout', 2);
    },
  );

  it('refuses a range past the end of the object as permanent', async () => {
    const { backend } = await setUp(answerRange());
    const error = await failure(
      backend.readRange({ key: 'k', start: OBJECT.byteLength - 5, end: OBJECT.byteLength + 5 }),
    );
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/outside the object \(262144 bytes\)/);
  });

  it(
    'stops at once when aborted mid-body, with the reason, and closes the connection',
    { tags: ['faults'] },
    async () => {
      const { backend, server } = await setUp((socket, request) => {
        const { body, contentRange } = ranged(request);
        const h = head('206 Partial Content', {
          'Content-Length': body.byteLength,
          'Content-Range': contentRange,
        });
        socket.write(Buffer.concat([Buffer.from(h), body.subarray(0, 10)]));
      });
      const controller = new AbortController();
      const reason = new Error('stop here');
      setTimeout(() => controller.abort(reason), 50);
      const started = Date.now();
      const error = await backend
        .readRange({ key: 'k', start: 0, end: 999, signal: controller.signal })
        .catch((e: unknown) => e);
      expect(error).toBe(reason);
      expect(Date.now() - started).toBeLessThan(5_000);
      await vi.waitFor(() => expect(server.connections[0]?.destroyed).toBe(true));
      injected('signal', 1);
    },
  );

  it('goes through the SDK for answers it cannot read, and for paced reads', async () => {
    const { backend, fallback } = await setUp((socket) => {
      socket.write(
        head('206 Partial Content', { 'Transfer-Encoding': 'chunked' }) + '5\r\n12345\r\n0\r\n\r\n',
      );
    });
    const first = await backend.readRange({ key: 'k', start: 0, end: 4 });
    expect(Buffer.from(first).toString()).toBe('sdk 0-4');
    await backend.readRange({ key: 'k', start: 5, end: 9 });
    expect(fallback).toHaveBeenCalledTimes(2);

    const paced = await setUp(answerRange());
    const pace = vi.fn(() => Promise.resolve());
    await paced.backend.readRange({ key: 'k', start: 0, end: 9, pace });
    expect(paced.fallback).toHaveBeenCalledTimes(1);
    expect(paced.server.requests).toHaveLength(0);
  });

  it('reads over TLS, checking the server certificate', async () => {
    const { key, cert } = selfSignedCert();
    const connections: Socket[] = [];
    const requests: Seen[] = [];
    const tlsServer = createTlsServer({ key, cert }, (socket) => {
      connections.push(socket);
      socket.on('data', (data: Buffer) => {
        const request = parseRequest(data.toString('latin1').split('\r\n\r\n')[0] ?? '');
        requests.push(request);
        answerRange(4)(socket, request);
      });
    });
    const server = await listening(tlsServer, connections, requests);
    servers.push(server);
    const client = createS3Client(
      scriptedConnection(server.port, { scheme: 'https', host: 'localhost' }),
    );
    const fallback = vi.fn(() => Promise.reject(new Error('not the lean path')));
    const read = createLeanRangeReader({ client, bucket: 'b', fallback, tls: { ca: cert } });
    const got = await read({ key: 'k', start: 100, end: 100_099 });
    expect(Buffer.from(got).equals(OBJECT.subarray(100, 100_100))).toBe(true);
    const untrusted = createLeanRangeReader({ client, bucket: 'b', fallback });
    const error = await failure(untrusted({ key: 'k', start: 0, end: 9 }));
    expect(error.message).toMatch(/self[- ]signed certificate/i);
    client.destroy();
  });
});
