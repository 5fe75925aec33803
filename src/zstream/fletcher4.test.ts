import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Fletcher4 } from './fletcher4.js';
import { ReferenceFletcher4 } from './testing/reference-fletcher4.js';

function fast(bytes: Uint8Array, splits: number[] = []): [bigint, bigint, bigint, bigint] {
  const sum = new Fletcher4();
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  let start = 0;
  for (const end of [...splits, words.length]) {
    sum.updateWords(words, start, end);
    start = end;
  }
  return sum.words();
}

function reference(bytes: Uint8Array): [bigint, bigint, bigint, bigint] {
  const sum = new ReferenceFletcher4();
  sum.update(bytes, true);
  return [sum.a, sum.b, sum.c, sum.d];
}

describe('Fletcher4', () => {
  it('is zero for no input', () => {
    expect(fast(new Uint8Array(0))).toEqual([0n, 0n, 0n, 0n]);
  });

  it('matches the word-by-word BigInt definition on random data of many lengths', () => {
    for (const words of [1, 2, 63, 64, 65, 70, 127, 128, 129, 1000, 4099]) {
      const bytes = new Uint8Array(randomBytes(words * 4));
      expect(fast(bytes), `${words} words`).toEqual(reference(bytes));
    }
  });

  it('gives the same sums however the input is split', () => {
    const bytes = new Uint8Array(randomBytes(4 * 3000));
    const whole = fast(bytes);
    expect(fast(bytes, [1, 2, 3, 70, 78, 1000, 2999])).toEqual(whole);
    expect(fast(bytes, [64, 128, 192])).toEqual(whole);
  });

  it('wraps modulo 2^64 like the C code (all-ones words, long enough to overflow d)', () => {
    // d grows like n^4/24 · 2^32: 2^18 words overflow 2^64 many times over
    const bytes = new Uint8Array(4 * 2 ** 18).fill(0xff);
    const sums = fast(bytes);
    expect(sums).toEqual(reference(bytes));
    expect(sums[3]).not.toBe(0n);
  });

  it('compares with a stored checksum in either byte order', () => {
    const bytes = new Uint8Array(randomBytes(4 * 100));
    const sum = new Fletcher4();
    sum.updateWords(new Uint32Array(bytes.buffer), 0, 100);
    const ref = new ReferenceFletcher4();
    ref.update(bytes, true);
    for (const le of [true, false]) {
      const stored = ref.bytes(le);
      expect(sum.matches(new DataView(stored.buffer), 0, le)).toBe(true);
      stored[31] = (stored[31] as number) ^ 1;
      expect(sum.matches(new DataView(stored.buffer), 0, le)).toBe(false);
    }
  });
});
