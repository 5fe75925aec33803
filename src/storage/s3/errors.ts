/**
 * Map whatever the AWS SDK (or the socket under it) throws into one StorageError, classified
 * here, where the error arises: retryable (5xx, throttling, timeouts, reset connections) or
 * permanent (every other 4xx: auth, missing bucket, bad request). The retry policy itself lives
 * in src/storage/retry.ts and only looks at `isRetryable`.
 *
 * Messages are one line built from the error code, HTTP status and the server's first message
 * line; request headers and signatures are never included, so no secret can leak.
 */
import { StorageError, Z3Error } from '../../errors.js';

/** Error names (S3 codes) that mean "slow down and try again". */
const THROTTLING_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  // AWS: a conditional write raced with another request on the key; it asks for a retry.
  'ConditionalRequestConflict',
]);
/** Error names that mean the request or the connection timed out. */
const TIMEOUT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'TimeoutError']);
/** Node socket error codes of a connection that broke under us. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN']);
/** Error names that mean the key (or upload) does not exist. */
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** What the SDK error says, read defensively (anything may be thrown). */
function describe(err: unknown): {
  name: string;
  code: string;
  status: number | undefined;
  text: string;
} {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const rawText = typeof e.message === 'string' ? e.message : String(err);
  return {
    name: typeof e.name === 'string' ? e.name : '',
    code: typeof e.code === 'string' ? e.code : '',
    status: typeof status === 'number' ? status : undefined,
    text: rawText.split('\n', 1)[0]?.trim() ?? '',
  };
}

/** True when the error (or its cause chain) is a broken connection or a timeout. */
function isNetworkFailure(err: unknown, depth = 0): boolean {
  const d = describe(err);
  if (d.name === 'AbortError') return false;
  if (NETWORK_CODES.has(d.code) || TIMEOUT_CODES.has(d.name)) return true;
  if (/socket hang up/i.test(d.text)) return true;
  const cause = (err as SdkErrorShape | null)?.cause;
  return cause !== undefined && depth < 5 && isNetworkFailure(cause, depth + 1);
}

/**
 * The error of a request that got no answer (or no connection) within `ms`: named
 * `TimeoutError`, so it is retryable as the SDK's own timeouts are. For the lean paths.
 */
export function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms / 1000} s`), { name: 'TimeoutError' });
}

/** Classify an SDK error; exported for unit tests and for callers that need to peek. */
export function classifyS3Error(err: unknown): { isRetryable: boolean; isNotFound: boolean } {
  const d = describe(err);
  if (d.name === 'AbortError') return { isRetryable: false, isNotFound: false };
  // A missing bucket is a configuration error, not a missing key: `stat` must not answer
  // "no such object" and `remove` must not succeed on it.
  const isNotFound = d.name !== 'NoSuchBucket' && (NOT_FOUND_CODES.has(d.name) || d.status === 404);
  const isRetryable =
    !isNotFound &&
    ((d.status !== undefined && (d.status >= 500 || d.status === 429)) ||
      THROTTLING_CODES.has(d.name) ||
      TIMEOUT_CODES.has(d.name) ||
      isNetworkFailure(err));
  return { isRetryable, isNotFound };
}

/**
 * True for the answer to a request whose condition (`If-Match`, `If-None-Match`) did not hold:
 * 412 PreconditionFailed. The callers say what it means for their request.
 */
export function isPreconditionFailed(err: unknown): boolean {
  const d = describe(err);
  return d.name === 'PreconditionFailed' || d.status === 412;
}

/**
 * 501 NotImplemented: the server does not support a header the request carried (S3's answer to
 * a conditional header it does not know, e.g. `If-None-Match` on an older S3-compatible server).
 */
export function isNotImplemented(err: unknown): boolean {
  const d = describe(err);
  return d.name === 'NotImplemented' || d.status === 501;
}

/**
 * 400 or 403: the server refused the request itself, e.g. a payload hash it found wrong
 * (XAmzContentSHA256Mismatch, or a signature that does not match the hash it computed). For
 * the SDK's error, or the StorageError `toStorageError` made of one.
 */
export function isRefusal(err: unknown): boolean {
  const { status } = describe(err instanceof StorageError ? err.cause : err);
  return status === 400 || status === 403;
}

/** A hint for the permanent errors users can fix themselves. */
function hintFor(name: string, status: number | undefined): string | undefined {
  if (name === 'NoSuchBucket') return 'check BUCKET in the config file or the environment';
  if (
    status === 403 ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'AccessDenied'
  ) {
    return 'check S3_KEY_ID / S3_SECRET and the bucket policy';
  }
  return undefined;
}

/**
 * Wrap `err` as a StorageError whose message is `<what>: <why>`, e.g.
 * `uploading part 3 of backups/x: SlowDown (HTTP 503): Please reduce your request rate`.
 * A Z3Error passes through unchanged (it was classified already). `hints.onBadArgument` is the
 * hint for an InvalidArgument / InvalidStorageClass answer, which names no argument itself.
 */
export function toStorageError(
  err: unknown,
  what: string,
  hints: { onBadArgument?: string } = {},
): Z3Error {
  if (err instanceof Z3Error) return err;
  const d = describe(err);
  const label = d.name !== '' && d.name !== 'Error' ? d.name : d.code;
  const status = d.status !== undefined ? ` (HTTP ${d.status})` : '';
  const text = d.text !== '' && d.text !== label && d.text !== 'UnknownError' ? `: ${d.text}` : '';
  const why = `${label}${status}${text}`.replace(/^: /, '') || 'unknown error';
  const isBadArgument = d.name === 'InvalidArgument' || d.name === 'InvalidStorageClass';
  const hint = (isBadArgument ? hints.onBadArgument : undefined) ?? hintFor(d.name, d.status);
  return new StorageError(`${what}: ${why}`, {
    ...classifyS3Error(err),
    cause: err,
    ...(hint !== undefined ? { hint } : {}),
  });
}

/**
 * What a call that failed with `err` rejects with: the caller's abort reason when `signal` was
 * aborted (the SDK reports that as an AbortError, or as a reset socket while a body streams), so
 * a cancelled call is never mistaken for a retryable failure; `toStorageError` otherwise.
 */
export function callError(err: unknown, what: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    return reason instanceof Error ? reason : new Error(String(reason));
  }
  return toStorageError(err, what);
}

/** The hint for a write the server refused as a bad argument: the storage class, or the metadata. */
export function writeArgumentHint(storageClass: string | undefined): string {
  return storageClass === undefined
    ? 'check the metadata'
    : `the server may not support storage class ${storageClass}: ` +
        'set --storage-class / S3_STORAGE_CLASS, e.g. STANDARD, or leave it unset';
}
