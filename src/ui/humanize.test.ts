import { describe, expect, it } from 'vitest';
import { humanizeSize } from './humanize.js';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

describe('humanizeSize (spec 5)', () => {
  it.each([
    [0, '0 M'],
    [1.5 * MIB, '1.5 M'],
    [43 * MIB, '43 M'],
    [GIB, '1024 M'], // exactly 1024 is not above 1024
    [1025 * MIB, '1 G'],
    [Math.round(50.51 * GIB), '50.51 G'],
    [50 * GIB, '50 G'],
    [Math.round(2.72 * TIB), '2.72 T'],
    [2000 * TIB, '2000 T'], // T is the largest unit
    [1234, '0 M'],
    [5000, '0 M'],
    [10 * 1024, '0.01 M'],
    [1.1 * MIB, '1.1 M'],
    [1024 * GIB, '1024 G'],
    [Number.MAX_SAFE_INTEGER, '8192 T'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(humanizeSize(bytes)).toBe(text);
  });

  // Values Python's '%.2f' rounds half to even where toFixed(2) would round up.
  it.each([
    [1.125 * MIB, '1.12 M'],
    [1.375 * MIB, '1.38 M'],
    [0.625 * MIB, '0.62 M'],
    [1.125 * GIB, '1.12 G'],
    [(0.005 * MIB) | 0, '0 M'],
  ])('exact ties round to even like Python: %d → %s', (bytes, text) => {
    expect(humanizeSize(bytes)).toBe(text);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d', (bytes) => {
    expect(() => humanizeSize(bytes)).toThrow(RangeError);
  });
});
