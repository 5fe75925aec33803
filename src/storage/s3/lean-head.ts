/**
 * A lean HeadObject for many HEADs in a row (the metadata of a listing: `z3 status`, backup and
 * restore planning). Why: through the AWS SDK v3 a HEAD costs ~0.7 ms of client CPU (per-call
 * middleware stack, endpoint ruleset, schema serde, retry bookkeeping), which against a nearby
 * server caps 32 concurrent HEADs at ~2x a serial loop. Here the parts that do not change from
 * one HEAD to the next are resolved once by the SDK itself, and each HEAD is one SigV4 signature
 * (`@smithy/signature-v4`, as the SDK signs) plus one keep-alive `node:http(s)` request:
 *
 * - endpoint, signing and credentials: resolved once by the SDK (signed-endpoint.ts);
 * - errors: 404 → undefined; anything else → StorageError via `toStorageError` (403 gets the
 *   credentials hint; 5xx, 429, resets and timeouts are retryable). One attempt per HEAD, like
 *   every backend call: the retry policy is the wrapper's (src/storage/wrappers/retrying.ts).
 *
 * An endpoint the lean path cannot serve falls back to the SDK for every HEAD.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { StorageError } from '../../errors.js';
import type { ObjectInfo } from '../backend.js';
import { CONNECT_TIMEOUT_MS, MAX_SOCKETS, SOCKET_IDLE_TIMEOUT_MS } from './client.js';
import { timeoutError, toStorageError } from './errors.js';
import { headErrorName, objectInfoFromHeaders } from './head-wire.js';
import { resolveSignedEndpoint, signKeyRequest, type SignedEndpoint } from './signed-endpoint.js';

/** HEAD of one key; undefined when it does not exist. */
export type HeadFn = (key: string) => Promise<ObjectInfo | undefined>;

/** Everything a HEAD needs that is the same for every key of the bucket. */
export interface HeadTarget extends SignedEndpoint {
  agent: HttpAgent;
}

export interface LeanHeadOptions {
  /** Its endpoint, region and credentials are the lean path's too. */
  client: S3Client;
  bucket: string;
  /** The SDK's HEAD, for endpoints the lean path cannot serve. */
  fallback: HeadFn;
  /** Idle time after which a HEAD fails as a retryable TimeoutError (tests shorten it). */
  socketTimeoutMs?: number | undefined;
}

/**
 * The HEAD of `bucket` through the lean path, or through `fallback` (the SDK) when the lean path
 * cannot serve this endpoint. Resolves the endpoint on first use; safe to call concurrently.
 */
export function createLeanHead(options: LeanHeadOptions): HeadFn {
  const { client, bucket, fallback } = options;
  const idleMs = options.socketTimeoutMs ?? SOCKET_IDLE_TIMEOUT_MS;
  let target: Promise<HeadTarget | undefined> | undefined;
  return async (key) => {
    target ??= resolveHeadTarget(client, bucket).catch(() => undefined);
    const t = await target;
    if (t === undefined) return fallback(key);
    return headOnce({ target: t, bucket, key, idleMs });
  };
}

/**
 * Ask the SDK where HeadObject of `bucket` goes and how it is signed (no request is sent);
 * undefined when the lean path cannot serve it. Exported for tests.
 */
export async function resolveHeadTarget(
  client: S3Client,
  bucket: string,
): Promise<HeadTarget | undefined> {
  const endpoint = await resolveSignedEndpoint(client, bucket);
  if (endpoint === undefined) return undefined;
  const Agent = endpoint.isHttps ? HttpsAgent : HttpAgent;
  return { ...endpoint, agent: new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }) };
}

/** One signed HEAD; classified errors, no retry. */
async function headOnce(input: {
  target: HeadTarget;
  bucket: string;
  key: string;
  idleMs: number;
}): Promise<ObjectInfo | undefined> {
  const { target: t, bucket, key } = input;
  const what = `reading metadata of ${bucket}/${key}`;
  try {
    const signed = await signKeyRequest(t, { method: 'HEAD', key });
    const res = await send(t, { path: signed.path, headers: signed.headers, idleMs: input.idleMs });
    if (res.status >= 200 && res.status < 300) return objectInfoFromHeaders(key, res.headers);
    if (res.status === 404) return undefined;
    throw statusError(res.status, res.headers, what);
  } catch (err) {
    throw toStorageError(err, what);
  }
}

/** The error of a non-2xx answer; a redirect names the bucket's region when the server tells. */
function statusError(status: number, headers: IncomingHttpHeaders, what: string): Error {
  const region = headers['x-amz-bucket-region'];
  if (status === 301 && typeof region === 'string' && region !== '') {
    return new StorageError(`${what}: PermanentRedirect (HTTP 301): the bucket is in ${region}`, {
      hint: `set S3_REGION=${region}`,
    });
  }
  const name = headErrorName(status);
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/**
 * Send one HEAD and wait for its headers. A connect slower than CONNECT_TIMEOUT_MS or a socket
 * idle for `idleMs` fails with a TimeoutError (retryable), as in the SDK client.
 */
function send(
  t: HeadTarget,
  { path, headers, idleMs }: { path: string; headers: Record<string, string>; idleMs: number },
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = t.isHttps ? httpsRequest : httpRequest;
    const req = request(
      {
        method: 'HEAD',
        hostname: t.hostname,
        ...(t.port !== undefined ? { port: t.port } : {}),
        path,
        headers,
        agent: t.agent,
      },
      (res) => {
        res.resume();
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    const fail = (ms: number): void => void req.destroy(timeoutError(ms));
    req.setTimeout(idleMs, () => fail(idleMs));
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => fail(CONNECT_TIMEOUT_MS), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    req.on('error', reject);
    req.end();
  });
}
