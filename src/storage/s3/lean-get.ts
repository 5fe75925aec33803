/**
 * A lean ranged GET that reads the socket straight into the range buffer (z3_get, z3 restore,
 * verify --read-data). Why: through the SDK (node:http), every socket read lands in a fresh
 * 64 KiB Buffer that the HTTP parser hands to a stream, which range.ts then copies into the
 * range buffer; for a 1 GiB download that is 16,000 short-lived buffers, a copy of every byte
 * and the garbage collection behind them, measured at about 1 CPU-s per GiB on the machine
 * where the restore races the S3 server for two cores. Here the socket is opened with Node's
 * `onread` (net and tls alike): the response head is read into a small per-connection buffer,
 * and once the head says how long the body is, every later read of the socket goes straight
 * into the free end of the range buffer: no allocation, no copy in JavaScript, no parser.
 *
 * The wire protocol is the narrow part of HTTP/1.1 that a ranged GetObject needs: one request
 * at a time per keep-alive connection, a 200/206 answer with a Content-Length exactly as long
 * as the range. Everything else ends the connection: an error answer (its XML code and message
 * become the error, classified as the SDK's would be), a cut or overlong body (retryable), a
 * timeout (retryable). An answer the lean path does not understand (chunked, no length, a head
 * larger than its buffer) makes the reader go through the SDK (`fallback`) from then on.
 *
 * Signing and endpoints are the SDK's (signed-endpoint.ts); a paced read (the bandwidth limit)
 * also goes through the SDK, which reads in slices the pacer can hold back.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { StorageError } from '../../errors.js';
import type { ReadRangeInput } from '../backend.js';
import { changedWhileReading } from '../rules.js';
import { CONNECT_TIMEOUT_MS, SOCKET_IDLE_TIMEOUT_MS } from './client.js';
import { callError, isPreconditionFailed, timeoutError } from './errors.js';
import { ServerError, serverError, type LeanPathOptions } from './lean-request.js';
import { outsideObject, rangeTarget } from './range.js';
import { resolveSignedEndpoint, signKeyRequest, type SignedEndpoint } from './signed-endpoint.js';

/** A ranged read, as Backend.readRange. */
export type ReadRangeFn = (input: ReadRangeInput) => Promise<Uint8Array>;

export type LeanGetOptions = LeanPathOptions<ReadRangeFn>;

/** Bytes of the per-connection buffer that holds a response head (and an error's body). */
const HEAD_BUFFER_BYTES = 16 * 1024;
/** A keep-alive connection unused this long is closed (servers close theirs after 5–60 s). */
const IDLE_CONNECTION_MS = 4_000;
/** Idle connections kept for reuse. */
const MAX_IDLE_CONNECTIONS = 64;

/**
 * The ranged read of `bucket` through the lean path, or through `fallback` when the lean path
 * cannot serve the endpoint, the read is paced, or the server answered in a way it does not
 * understand. Safe to call concurrently; connections close themselves when idle.
 */
export function createLeanRangeReader(options: LeanGetOptions): ReadRangeFn {
  const { client, bucket, fallback } = options;
  const idleMs = options.socketTimeoutMs ?? SOCKET_IDLE_TIMEOUT_MS;
  let pool: Promise<ConnectionPool | undefined> | undefined;
  let understood = true;
  return async (input) => {
    if (input.pace !== undefined || !understood) return fallback(input);
    pool ??= resolveSignedEndpoint(client, bucket).then(
      (endpoint) =>
        endpoint === undefined ? undefined : new ConnectionPool(endpoint, options.tls ?? {}),
      () => undefined,
    );
    const p = await pool;
    if (p === undefined) return fallback(input);
    try {
      return await getRange(p, { bucket, idleMs }, input);
    } catch (err) {
      if (!(err instanceof UnsupportedAnswer)) throw err;
      understood = false;
      return fallback(input);
    }
  };
}

/** An answer the lean path cannot read (not an error of the server's). */
class UnsupportedAnswer extends Error {}

async function getRange(
  pool: ConnectionPool,
  context: { bucket: string; idleMs: number },
  input: ReadRangeInput,
): Promise<Uint8Array> {
  const { key, start, end, signal, ifMatch } = input;
  const what = `reading bytes ${start}-${end} of ${context.bucket}/${key}`;
  const target = rangeTarget(input, what);
  try {
    signal?.throwIfAborted();
    const headers: Record<string, string> = { range: `bytes=${start}-${end}` };
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    const signed = await signKeyRequest(pool.endpoint, { method: 'GET', key, headers });
    const connection = await pool.acquire();
    if (signal?.aborted === true) {
      pool.release(connection);
      throw signal.reason;
    }
    const body = await connection.get({
      ...signed,
      idleMs: context.idleMs,
      signal,
      bodyFor: (answer) => {
        const outside = outsideObject(answer.headers['content-range'], end, what);
        if (outside !== undefined) throw outside;
        if (answer.contentLength !== target.byteLength) {
          throw new StorageError(
            `${what}: the server answered with ${answer.contentLength} bytes, expected ${target.byteLength}`,
            { isRetryable: true },
          );
        }
        return target;
      },
    });
    pool.release(connection);
    return body;
  } catch (err) {
    if (err instanceof UnsupportedAnswer) throw err;
    if (ifMatch !== undefined && signal?.aborted !== true && isPreconditionFailed(err)) {
      throw changedWhileReading(key, ifMatch);
    }
    throw callError(err, what, signal);
  }
}

/** A response head: status, lower-cased header names (repeated ones joined with ", "). */
interface Answer {
  status: number;
  headers: Record<string, string>;
  /** Content-Length, or undefined when absent. */
  contentLength: number | undefined;
}

/** Keep-alive connections to one endpoint, most recently used first. */
class ConnectionPool {
  private readonly idle: Connection[] = [];
  constructor(
    readonly endpoint: SignedEndpoint,
    private readonly tls: Pick<ConnectionOptions, 'ca'>,
  ) {}

  /** An idle connection, or a new one once connected. */
  async acquire(): Promise<Connection> {
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) {
      if (c.take()) return c;
    }
    return Connection.open(this.endpoint, this.tls);
  }

  /** Give back a connection after a complete answer; a closing one is dropped. */
  release(connection: Connection): void {
    if (
      this.idle.length >= MAX_IDLE_CONNECTIONS ||
      !connection.park(() => this.forget(connection))
    ) {
      connection.close();
      return;
    }
    this.idle.push(connection);
  }

  private forget(connection: Connection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }
}

/** Node's `onread` socket option: where each read goes, and what to do once it arrived. */
interface OnRead {
  buffer: () => Uint8Array;
  callback: (bytes: number) => boolean;
}

/** One request on the wire: what to send and where its body goes. */
interface Exchange {
  path: string;
  headers: Record<string, string>;
  idleMs: number;
  signal: AbortSignal | undefined;
  /** The buffer for a 2xx body of `answer.contentLength` bytes; throws to refuse the answer. */
  bodyFor: (answer: Answer) => Uint8Array;
}

/**
 * One keep-alive HTTP/1.1 connection reading into caller buffers. States: `head` (reading the
 * response head into `head`), `body` (reading into the caller's buffer), `error` (reading an
 * error answer's body into `head`), `idle` (parked in the pool; any byte or close ends it).
 */
class Connection {
  private readonly head = Buffer.allocUnsafe(HEAD_BUFFER_BYTES);
  private headBytes = 0;
  private state: 'head' | 'body' | 'error' | 'idle' = 'head';
  private body: Uint8Array | undefined;
  private filled = 0;
  private answer: Answer | undefined;
  private keepAlive = true;
  private pending:
    | { resolve: (body: Uint8Array) => void; reject: (error: unknown) => void; exchange: Exchange }
    | undefined;
  private onIdleEnd: (() => void) | undefined;
  private closed = false;

  readonly socket: Socket;

  /** `connect` opens the socket with the `onread` it is given (asked for a buffer at once). */
  private constructor(connect: (onread: OnRead) => Socket) {
    this.socket = connect({
      buffer: () => this.nextBuffer(),
      callback: (bytes) => {
        this.onBytes(bytes);
        return true;
      },
    });
  }

  /** Connect; fails with a retryable TimeoutError after CONNECT_TIMEOUT_MS. */
  static open(endpoint: SignedEndpoint, tls: Pick<ConnectionOptions, 'ca'>): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const { hostname: host, isHttps } = endpoint;
      const port = endpoint.port ?? (isHttps ? 443 : 80);
      const connection = new Connection((onread) =>
        isHttps
          ? // tls takes `onread` as net does since Node 15.1; @types/node does not declare it.
            tlsConnect({
              ...tls,
              host,
              port,
              ...(isIP(host) === 0 ? { servername: host } : {}),
              onread,
            } as ConnectionOptions)
          : netConnect({ host, port, onread }),
      );
      const socket = connection.socket;
      const timer = setTimeout(
        () => socket.destroy(timeoutError(CONNECT_TIMEOUT_MS)),
        CONNECT_TIMEOUT_MS,
      );
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', fail);
      socket.once(isHttps ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setNoDelay(true);
        connection.watch();
        resolve(connection);
      });
    });
  }

  /** Send one GET; resolves the body buffer once it is filled exactly. */
  get(exchange: Exchange): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(hangUp());
        return;
      }
      this.state = 'head';
      this.headBytes = 0;
      this.filled = 0;
      this.body = undefined;
      this.answer = undefined;
      const { signal } = exchange;
      const onAbort = (): void => this.fail(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending = {
        exchange,
        resolve: (body) => (settle(), resolve(body)),
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's reason, as thrown elsewhere
        reject: (error) => (settle(), reject(error)),
      };
      this.socket.setTimeout(exchange.idleMs);
      let request = `GET ${exchange.path} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(exchange.headers)) {
        request += `${name}: ${value}\r\n`;
      }
      this.socket.write(`${request}\r\n`);
    });
  }

  /** Back from the pool: false when it closed or was told to close while idle. */
  take(): boolean {
    if (this.closed) return false;
    this.onIdleEnd = undefined;
    this.socket.ref();
    return true;
  }

  /** Into the pool; `onEnd` runs if it closes while idle. False when it must not be reused. */
  park(onEnd: () => void): boolean {
    if (this.closed || !this.keepAlive) return false;
    this.state = 'idle';
    this.onIdleEnd = onEnd;
    this.socket.setTimeout(IDLE_CONNECTION_MS);
    this.socket.unref();
    return true;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Socket events that end the connection in any state. */
  private watch(): void {
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('end', () => this.fail(hangUp()));
    this.socket.on('close', () => this.fail(hangUp()));
    this.socket.on('timeout', () => {
      if (this.state === 'idle') this.fail(hangUp());
      else this.fail(timeoutError(this.pending?.exchange.idleMs ?? 0));
    });
  }

  /** Where the next socket read goes: the free end of the body, else of the head buffer. */
  private nextBuffer(): Uint8Array {
    if (this.state === 'body' && this.body !== undefined) return this.body.subarray(this.filled);
    return this.head.subarray(this.headBytes);
  }

  private onBytes(bytes: number): void {
    if (this.state === 'body') {
      this.filled += bytes;
      this.checkBody();
      return;
    }
    if (this.state === 'idle' || this.pending === undefined) {
      this.fail(new Error('the server sent bytes nobody asked for'));
      return;
    }
    this.headBytes += bytes;
    if (this.state === 'error') this.checkErrorBody();
    else this.checkHead();
  }

  /** Parse the head once it is complete; move any body bytes that came with it. */
  private checkHead(): void {
    const end = this.head.subarray(0, this.headBytes).indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.headBytes === this.head.byteLength) {
        this.fail(new UnsupportedAnswer('response head too large'));
      }
      return;
    }
    const answer = parseHead(this.head.toString('latin1', 0, end));
    if (answer === undefined) {
      this.fail(new UnsupportedAnswer('not an HTTP/1.1 response'));
      return;
    }
    this.answer = answer;
    this.keepAlive = !/\bclose\b/i.test(answer.headers['connection'] ?? '');
    const extra = this.head.subarray(end + 4, this.headBytes);
    const exchange = this.pending?.exchange;
    if (exchange === undefined) return;
    if (answer.status < 200 || answer.status >= 300) {
      // The error's body (S3's XML) is read into the head buffer, from its start.
      this.state = 'error';
      this.head.copy(this.head, 0, end + 4, this.headBytes);
      this.headBytes = extra.byteLength;
      this.checkErrorBody();
      return;
    }
    if (answer.contentLength === undefined || answer.headers['transfer-encoding'] !== undefined) {
      this.fail(new UnsupportedAnswer('a body without Content-Length'));
      return;
    }
    let body: Uint8Array;
    try {
      body = exchange.bodyFor(answer);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (extra.byteLength > body.byteLength) {
      this.fail(overlong(body.byteLength));
      return;
    }
    body.set(extra, 0);
    this.body = body;
    this.filled = extra.byteLength;
    this.headBytes = 0;
    this.state = 'body';
    this.checkBody();
  }

  private checkBody(): void {
    const body = this.body;
    if (body === undefined || this.filled < body.byteLength) return;
    const pending = this.pending;
    this.pending = undefined;
    this.state = 'idle';
    pending?.resolve(body);
  }

  /** An error answer: done once its Content-Length (or all the buffer holds) has arrived. */
  private checkErrorBody(): void {
    const answer = this.answer;
    if (answer === undefined) return;
    const expected = answer.contentLength;
    const complete =
      (expected !== undefined && this.headBytes >= expected) ||
      this.headBytes === this.head.byteLength ||
      (answer.headers['transfer-encoding'] !== undefined &&
        this.head.subarray(0, this.headBytes).includes('\r\n0\r\n\r\n'));
    if (complete) this.fail(this.serverError(answer));
  }

  /** The error of `answer`, with as much of its body as came. */
  private serverError(answer: Answer): ServerError {
    return serverError(answer.status, this.head.toString('utf8', 0, this.headBytes));
  }

  /** End the connection; the request in flight (if any) fails with `error`. */
  private fail(error: unknown): void {
    if (this.state === 'error' && this.pending !== undefined && this.answer !== undefined) {
      // The connection ended before the whole error body: report the answer with what came.
      if (!(error instanceof ServerError)) {
        error = this.serverError(this.answer);
      }
    }
    const pending = this.pending;
    this.pending = undefined;
    const wasIdle = this.state === 'idle';
    this.state = 'idle';
    if (!this.closed) this.close();
    if (pending !== undefined) {
      if (this.body !== undefined && this.filled < this.body.byteLength && isHangUp(error)) {
        error = new StorageError(
          `the server sent ${this.filled} of ${this.body.byteLength} bytes`,
          { isRetryable: true },
        );
      }
      pending.reject(error);
    } else if (wasIdle) {
      this.onIdleEnd?.();
      this.onIdleEnd = undefined;
    }
  }
}

/** `HTTP/1.1 206 Partial Content` and its headers; undefined when it is not that. */
function parseHead(text: string): Answer | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (status?.[1] === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const length = headers['content-length'];
  const contentLength = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
  return { status: Number(status[1]), headers, contentLength };
}

function overlong(bytes: number): StorageError {
  return new StorageError(`the server sent more than ${bytes} bytes`, { isRetryable: true });
}

function hangUp(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

function isHangUp(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ECONNRESET';
}
