/**
 * S3's rule for checking a committed multipart object against the chunks that were sent (pure).
 *
 * Why a rule and not a plain comparison: S3 and compatible servers set a multipart object's
 * ETag to the MD5 of its parts' binary MD5s plus `-<count>` only when each part's ETag is the
 * MD5 of its bytes. With SSE-KMS or SSE-C (AWS) or server-side encryption (MinIO) part ETags are
 * opaque, so the object's ETag cannot be predicted; every part was verified on upload already
 * (Content-MD5 or the signed SHA-256), so then the size is all that is left to compare. A part
 * sent with SHA-256 has an MD5 only where the server's part ETags are known to be MD5s
 * (part-digest.ts); without one the size is compared too.
 */
import type { ObjectInfo, WrittenChunk } from '../backend.js';
import { multipartEtag, normalizeEtag } from '../etag.js';

/** True when every chunk's ETag is the MD5 of its bytes, so the object's ETag is predictable. */
export function isMultipartEtagComparable(chunks: readonly WrittenChunk[]): boolean {
  return chunks.every(
    (c) => c.md5 !== undefined && normalizeEtag(c.etag) === Buffer.from(c.md5).toString('hex'),
  );
}

/** The multipart ETag the chunks' MD5s make, or undefined when one of them has none. */
function expectedEtag(chunks: readonly WrittenChunk[]): string | undefined {
  const md5s = chunks.flatMap((c) => (c.md5 === undefined ? [] : [c.md5]));
  return md5s.length === chunks.length ? multipartEtag(md5s) : undefined;
}

/**
 * How the stored object differs from what `chunks` (sorted by number) make, as the second half
 * of a message (`the server reports ETag "…" and 9 bytes, expected "…-2" and 10 bytes`), or
 * undefined when it matches: the size always, the ETag where `isMultipartEtagComparable`.
 */
export function describeCommitMismatch(
  chunks: readonly WrittenChunk[],
  stored: Pick<ObjectInfo, 'etag' | 'size'>,
): string | undefined {
  const etag = expectedEtag(chunks);
  const size = chunks.reduce((sum, c) => sum + c.size, 0);
  const isEtagOk =
    etag === undefined ||
    !isMultipartEtagComparable(chunks) ||
    normalizeEtag(stored.etag) === normalizeEtag(etag);
  if (isEtagOk && stored.size === size) return undefined;
  return (
    `the server reports ETag ${stored.etag || '(none)'} and ${stored.size} bytes, ` +
    `expected ${etag === undefined ? '' : `${etag} and `}${size} bytes`
  );
}
