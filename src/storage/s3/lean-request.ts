/**
 * One request of a lean path (lean-head.ts, lean-put.ts) on a keep-alive `node:http(s)` agent,
 * signed as the SDK signs (signed-endpoint.ts), with the SDK client's timeouts: a connect slower
 * than CONNECT_TIMEOUT_MS or a socket idle for `idleMs` fails with a retryable TimeoutError. An
 * error answer becomes an error shaped like the SDK's (its XML `Code` as the name, `Message`,
 * `$metadata.httpStatusCode`), so errors.ts classifies both paths alike.
 */
import {
  request as httpRequest,
  type Agent as HttpAgent,
  type ClientRequest,
  type IncomingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { S3Client } from '@aws-sdk/client-s3';
import { createAgent } from './agents.js';
import { CONNECT_TIMEOUT_MS, SOCKET_IDLE_TIMEOUT_MS } from './client.js';
import { timeoutError } from './errors.js';
import { headErrorName } from './head-wire.js';
import { resolveSignedEndpoint, type SignedEndpoint } from './signed-endpoint.js';

/** Everything a lean request needs that is the same for every key of the bucket. */
export interface LeanTarget extends SignedEndpoint {
  agent: HttpAgent;
}

/**
 * Ask the SDK where requests for `bucket`'s objects go and how they are signed (no request is
 * sent); undefined when the lean paths cannot serve it.
 */
export async function resolveLeanTarget(
  client: S3Client,
  bucket: string,
  tls: LeanTls = {},
): Promise<LeanTarget | undefined> {
  const endpoint = await resolveSignedEndpoint(client, bucket);
  if (endpoint === undefined) return undefined;
  return { ...endpoint, agent: createAgent(endpoint.isHttps, tls) };
}

/** What a lean path of one bucket is built from. */
export interface LeanPathOptions<Fallback> {
  /** Its endpoint, region and credentials are the lean path's too. */
  client: S3Client;
  bucket: string;
  /** The same call through the SDK, for what the lean path does not serve. */
  fallback: Fallback;
  /** Idle time after which a request fails as a retryable TimeoutError (tests shorten it). */
  socketTimeoutMs?: number | undefined;
  /** Extra TLS options, e.g. the CA of a test server; the default trust store otherwise. */
  tls?: LeanTls | undefined;
}

/** The TLS options a lean path takes. */
export type LeanTls = Pick<ConnectionOptions, 'ca'>;

/**
 * A lean call on `bucket` (`send`, given the bucket's LeanTarget and the idle timeout), or
 * `options.fallback` (the SDK's) where the lean path cannot serve the endpoint or resolving it
 * failed. The target is resolved on the first call and shared by every later one; safe to call
 * concurrently.
 */
export function leanOrFallback<Input, Output>(
  options: LeanPathOptions<(input: Input) => Promise<Output>>,
  send: (target: LeanTarget, input: Input, idleMs: number) => Promise<Output>,
): (input: Input) => Promise<Output> {
  const { client, bucket, tls, fallback } = options;
  const idleMs = options.socketTimeoutMs ?? SOCKET_IDLE_TIMEOUT_MS;
  let target: Promise<LeanTarget | undefined> | undefined;
  return async (input) => {
    target ??= resolveLeanTarget(client, bucket, tls).catch(() => undefined);
    const t = await target;
    return t === undefined ? fallback(input) : send(t, input, idleMs);
  };
}

/** A request as signed, and its body (bytes, or a stream such as a paced body). */
export interface LeanRequest {
  method: 'HEAD' | 'PUT';
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | Readable | undefined;
  idleMs: number;
  signal?: AbortSignal | undefined;
}

/** An answer: its status, headers and (error answers only) the start of its body. */
export interface LeanAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first ERROR_BODY_BYTES of a non-2xx answer's body; '' for a 2xx answer. */
  errorBody: string;
}

/** How much of an error answer's body is kept (S3's XML error is well under 1 KiB). */
const ERROR_BODY_BYTES = 16 * 1024;

/**
 * Send `request` and wait for the whole answer. Rejects on a broken connection or a timeout.
 *
 * An error answer may come before the body is all sent (S3 refuses a bad signature at once):
 * the request is then ended, so the rest of the body is not sent for nothing (nor paced,
 * spending the bandwidth budget), and a reset or a broken pipe that follows the answer is not
 * reported instead of it: the server's answer is what the caller classifies.
 */
export function sendLean(t: LeanTarget, request: LeanRequest): Promise<LeanAnswer> {
  return new Promise((resolve, reject) => {
    /** The answer so far, from its head on. */
    let answer: LeanAnswer | undefined;
    const fail = (error: unknown): void => {
      if (answer !== undefined && !isSuccess(answer.status)) resolve(answer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a socket's error or the caller's abort reason, as thrown
      else reject(error);
    };
    const send = t.isHttps ? httpsRequest : httpRequest;
    const req = send(
      {
        method: request.method,
        hostname: t.hostname,
        ...(t.port !== undefined ? { port: t.port } : {}),
        path: request.path,
        headers: request.headers,
        agent: t.agent,
      },
      (res) => {
        const got: LeanAnswer = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          errorBody: '',
        };
        answer = got;
        const isError = !isSuccess(got.status);
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          if (isError && got.errorBody.length < ERROR_BODY_BYTES) got.errorBody += text;
        });
        res.on('error', fail);
        res.on('end', () => {
          resolve(got);
          // the rest of the body of a refused request goes nowhere
          if (isError && !req.writableFinished) req.destroy();
        });
      },
    );
    watchTimeouts(req, request.idleMs);
    const { signal } = request;
    if (signal !== undefined) {
      const onAbort = (): void => void req.destroy(signal.reason as Error);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    req.on('error', fail);
    const { body } = request;
    if (body === undefined || body instanceof Uint8Array) {
      req.end(body);
    } else {
      pipeline(body, req, (error) => {
        if (error) req.destroy(error);
      });
    }
  });
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Fail `req` with a TimeoutError after a slow connect or `idleMs` without progress. */
function watchTimeouts(req: ClientRequest, idleMs: number): void {
  const fail = (ms: number): void => void req.destroy(timeoutError(ms));
  req.setTimeout(idleMs, () => fail(idleMs));
  req.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => fail(CONNECT_TIMEOUT_MS), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}

/** An error answer of the server's, shaped like the SDK's errors so errors.ts classifies it. */
export class ServerError extends Error {
  constructor(
    name: string,
    message: string,
    readonly $metadata: { httpStatusCode: number },
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * The error of a non-2xx answer: the code and message of S3's XML error body where there is
 * one, else the status's name (a HEAD's answer has no body).
 */
export function serverError(status: number, body: string): ServerError {
  const code = xmlField(body, 'Code') ?? headErrorName(status);
  const message = xmlField(body, 'Message') ?? code;
  return new ServerError(code, message, { httpStatusCode: status });
}

function xmlField(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]?.trim() || undefined;
}
