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
import type { IncomingHttpHeaders } from 'node:http';
import { StorageError } from '../../errors.js';
import type { ObjectInfo } from '../backend.js';
import { toStorageError } from './errors.js';
import { objectInfoFromHeaders } from './head-wire.js';
import {
  leanOrFallback,
  sendLean,
  serverError,
  type LeanPathOptions,
  type LeanTarget,
} from './lean-request.js';
import { signKeyRequest } from './signed-endpoint.js';

/** HEAD of one key; undefined when it does not exist. */
export type HeadFn = (key: string) => Promise<ObjectInfo | undefined>;

/**
 * The HEAD of `bucket` through the lean path, or through `fallback` (the SDK) when the lean path
 * cannot serve this endpoint. Resolves the endpoint on first use; safe to call concurrently.
 */
export function createLeanHead(options: LeanPathOptions<HeadFn>): HeadFn {
  const { bucket } = options;
  return leanOrFallback(options, (target, key: string, idleMs) =>
    headOnce({ target, bucket, key, idleMs }),
  );
}

/** One signed HEAD; classified errors, no retry. */
async function headOnce(input: {
  target: LeanTarget;
  bucket: string;
  key: string;
  idleMs: number;
}): Promise<ObjectInfo | undefined> {
  const { target: t, bucket, key } = input;
  const what = `reading metadata of ${bucket}/${key}`;
  try {
    const signed = await signKeyRequest(t, { method: 'HEAD', key });
    const res = await sendLean(t, { method: 'HEAD', ...signed, idleMs: input.idleMs });
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
  return serverError(status, '');
}
