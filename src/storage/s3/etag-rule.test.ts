import { describe, expect, it } from 'vitest';
import type { WrittenChunk } from '../backend.js';
import { md5, multipartEtag } from '../etag.js';
import { describeCommitMismatch, isMultipartEtagComparable } from './etag-rule.js';

/** A chunk as S3 returns it for an unencrypted part: its ETag is the quoted MD5 hex. */
function chunk(number: number, text: string, etag?: string): WrittenChunk & { md5: Uint8Array } {
  const digest = md5(Buffer.from(text));
  return {
    number,
    size: Buffer.byteLength(text),
    md5: digest,
    etag: etag ?? `"${digest.toString('hex')}"`,
  };
}

const chunks = [chunk(1, 'hello '), chunk(2, 'world')];
const expectedEtag = multipartEtag(chunks.map((c) => c.md5));

describe('isMultipartEtagComparable', () => {
  it('is true when every part ETag is its MD5, whatever the quotes and case', () => {
    const upper = chunk(1, 'x', `"${md5(Buffer.from('x')).toString('hex').toUpperCase()}"`);
    const bare = chunk(2, 'y', md5(Buffer.from('y')).toString('hex'));
    expect(isMultipartEtagComparable([upper, bare])).toBe(true);
  });

  it('is false when one part ETag is opaque (SSE-KMS, MinIO encryption)', () => {
    expect(isMultipartEtagComparable([chunks[0] ?? chunk(1, ''), chunk(2, 'world', '"k"')])).toBe(
      false,
    );
  });
});

describe('describeCommitMismatch', () => {
  it('accepts the multipart ETag and the summed size', () => {
    expect(describeCommitMismatch(chunks, { etag: expectedEtag, size: 11 })).toBeUndefined();
  });

  it('reports another ETag where part ETags are MD5s', () => {
    expect(describeCommitMismatch(chunks, { etag: '"0123-2"', size: 11 })).toBe(
      `the server reports ETag "0123-2" and 11 bytes, expected ${expectedEtag} and 11 bytes`,
    );
  });

  it('reports an empty ETag as (none)', () => {
    expect(describeCommitMismatch(chunks, { etag: '', size: 11 })).toMatch(
      /^the server reports ETag \(none\) and 11 bytes/,
    );
  });

  it('compares only the size where a part has no MD5 (a SHA-256 part, opaque ETag)', () => {
    const unknown = [chunk(1, 'hello '), { ...chunk(2, 'world', '"b"'), md5: undefined }];
    expect(isMultipartEtagComparable(unknown)).toBe(false);
    expect(describeCommitMismatch(unknown, { etag: '"whatever"', size: 11 })).toBeUndefined();
    expect(describeCommitMismatch(unknown, { etag: '"whatever"', size: 10 })).toBe(
      'the server reports ETag "whatever" and 10 bytes, expected 11 bytes',
    );
  });

  it('compares only the size where part ETags are opaque', () => {
    const opaque = [chunk(1, 'hello ', '"a"'), chunk(2, 'world', '"b"')];
    expect(describeCommitMismatch(opaque, { etag: '"whatever"', size: 11 })).toBeUndefined();
    expect(describeCommitMismatch(opaque, { etag: '"whatever"', size: 10 })).toMatch(
      /and 10 bytes, expected "[0-9a-f]{32}-2" and 11 bytes$/,
    );
  });
});
