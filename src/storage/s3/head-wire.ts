/**
 * HeadObject on the wire: the pure parts of the lean HEAD path (lean-head.ts), i.e. how a key
 * becomes a request path and how the response headers become an ObjectInfo, exactly as the AWS
 * SDK does both, so that the two paths are interchangeable.
 */
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { ObjectInfo } from '../backend.js';

/** SHA-256 of the empty payload: what a HEAD signs as `x-amz-content-sha256` (SigV4). */
export const EMPTY_PAYLOAD_SHA256 =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** User metadata arrives as `x-amz-meta-<name>` headers. */
const META_PREFIX = 'x-amz-meta-';

/**
 * The object part of a request path: each `/`-separated segment percent-encoded as the SDK's
 * `{Key+}` label does (RFC 3986 unreserved characters kept, `!'()*` encoded too), slashes kept.
 * S3 signs the path as sent (no double encoding), so this must match the SDK byte for byte:
 * `pool/my data@snap:1` → `pool/my%20data%40snap%3A1`.
 */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(escapeUri).join('/');
}

/**
 * A path segment or query value percent-encoded as SigV4 canonicalizes it (and the SDK sends
 * it): RFC 3986 unreserved characters kept, `!'()*` encoded too.
 */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The ObjectInfo of a successful HEAD, read as the SDK reads HeadObject: Content-Length (0 when
 * absent), ETag with its quotes ('' when absent), every `x-amz-meta-*` header without the prefix.
 * Node has lower-cased the header names and joined repeated headers with ", " already.
 */
export function objectInfoFromHeaders(key: string, headers: IncomingHttpHeaders): ObjectInfo {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(META_PREFIX) || value === undefined) continue;
    metadata[name.slice(META_PREFIX.length)] = Array.isArray(value) ? value.join(', ') : value;
  }
  const length = Number(headers['content-length']);
  return {
    key,
    size: Number.isSafeInteger(length) && length >= 0 ? length : 0,
    etag: headers.etag ?? '',
    metadata,
  };
}

/**
 * The error name of a failed HEAD. A HEAD response has no body, so the status is all there is
 * (S3 documents this for HeadObject): 403 → `Forbidden`, 503 → `ServiceUnavailable`.
 */
export function headErrorName(status: number): string {
  const text = STATUS_CODES[status];
  return text !== undefined ? text.replace(/[^A-Za-z]/g, '') : `HTTP${status}`;
}
