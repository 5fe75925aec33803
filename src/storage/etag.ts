/**
 * S3 ETags computed locally, so the uploader can check what the server stored. Pure.
 *
 * Why this works: for an unencrypted (or SSE-S3) multipart object, S3 and compatible servers set
 * the ETag to the MD5 of the concatenated binary MD5s of the parts, followed by `-<part count>`.
 */
import { createHash } from 'node:crypto';

/** Binary MD5 of `bytes` (16 bytes). */
export function md5(bytes: Uint8Array): Buffer {
  return createHash('md5').update(bytes).digest();
}

/** The quoted multipart ETag (`"<hex>-<n>"`) of parts whose binary MD5s are `partMd5s`, in order. */
export function multipartEtag(partMd5s: readonly Uint8Array[]): string {
  const hash = createHash('md5');
  for (const digest of partMd5s) hash.update(digest);
  return `"${hash.digest('hex')}-${partMd5s.length}"`;
}

/** Strip the surrounding quotes of an ETag and lower-case it, for comparison. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^"|"$/g, '').toLowerCase();
}
