import { describe, expect, it } from 'vitest';
import { md5, multipartEtag, normalizeEtag } from './etag.js';

/** Spec 8: six 1 MiB blocks, block k = 2048 × the 512 bytes `k,0,k,1,…,k,255`. */
function referenceData(): Buffer {
  const out = Buffer.alloc(6 * 1024 * 1024);
  for (let k = 0; k < 6; k++) {
    for (let i = 0; i < 1024 * 1024; i += 2) {
      out[k * 1024 * 1024 + i] = k;
      out[k * 1024 * 1024 + i + 1] = (i / 2) % 256;
    }
  }
  return out;
}

describe('multipartEtag', () => {
  it('gives the spec reference ETag for 6 MiB in 5 MiB parts', () => {
    const data = referenceData();
    const parts = [data.subarray(0, 5 * 1024 * 1024), data.subarray(5 * 1024 * 1024)];
    expect(multipartEtag(parts.map(md5))).toBe('"d229c1fc0e509475afe56426c89d2724-2"');
  });

  it('is md5 of the binary md5s even for one part', () => {
    const one = md5(Buffer.from('x'));
    expect(multipartEtag([one])).toBe(`"${md5(one).toString('hex')}-1"`);
  });
});

describe('normalizeEtag', () => {
  it('ignores quotes and case', () => {
    expect(normalizeEtag('"ABC-2"')).toBe('abc-2');
    expect(normalizeEtag('abc-2')).toBe('abc-2');
  });
});
