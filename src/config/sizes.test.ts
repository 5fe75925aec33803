import { describe, expect, it } from 'vitest';
import { formatMiB, parseSize, SizeSyntaxError } from './sizes.js';

const K = 1024;
const M = K * K;
const G = M * K;

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['12345', 12345],
    ['256M', 256 * M],
    [' 256m ', 256 * M],
    ['5K', 5 * K],
    ['1G', G],
    ['2T', 2 * G * K],
    ['256 M', 256 * M],
    ['10MB', 10 * M],
    ['10MiB', 10 * M],
    ['10mib', 10 * M],
    ['1.5G', 1.5 * G],
    ['0.3K', 307],
  ])('%j → %d', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'M', '256X', '-5M', '1.5', '1e3', '5 MB extra', '256B', '1,5G', '99999999999T'])(
    'rejects %j',
    (text) => {
      expect(() => parseSize(text)).toThrow(SizeSyntaxError);
    },
  );
});

describe('formatMiB', () => {
  it('prints like Python repr(float)', () => {
    expect(formatMiB(5 * M)).toBe('5.0');
    expect(formatMiB(256 * M)).toBe('256.0');
    // spec 8.2 part sizes for estimated 500 GiB and 2 TiB; expected strings from Python 3
    expect(formatMiB(Math.floor((500 * G * 1.05) / 9999))).toBe('53.76537609100342');
    expect(formatMiB(Math.floor((2048 * G * 1.05) / 9999))).toBe('220.2229814529419');
    expect(formatMiB(1.5 * M)).toBe('1.5');
  });
});
