import { describe, expect, it } from 'vitest';
import { S3_LIMITS } from '../storage/limits.js';
import { choosePartSize, partSizeFor } from './part-size.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const TIB = 1024 * GIB;
const { minPartSize: MIN_PART_SIZE, maxObjectSize: MAX_OBJECT_SIZE } = S3_LIMITS;

describe('partSizeFor (spec 8.2)', () => {
  it.each([
    // floor(N * 1.05 / 9999), and the values in MiB as the spec prints them
    [50 * GIB, 5_637_708, '5.38'],
    [500 * GIB, 56_377_083, '53.77'],
    [1 * TIB, 115_460_266, '110.1'],
    [2 * TIB, 230_920_533, '220.2'],
  ])('%d bytes → %d (%s MiB)', (estimated, expected, mib) => {
    const size = partSizeFor(estimated);
    expect(size).toBe(expected);
    const decimals = mib.split('.')[1]?.length ?? 0;
    expect((size / MIB).toFixed(decimals)).toBe(mib);
  });

  it('never goes below 5 MiB', () => {
    expect(partSizeFor(0)).toBe(MIN_PART_SIZE);
    expect(partSizeFor(10 * GIB)).toBe(MIN_PART_SIZE);
  });

  it('never goes above the 5 GiB part limit', () => {
    expect(partSizeFor(100 * TIB)).toBe(S3_LIMITS.maxPartSize);
  });

  it('fits the estimate plus 5 % in 9,999 parts', () => {
    for (const n of [50 * GIB, 3 * TIB, MAX_OBJECT_SIZE]) {
      expect(partSizeFor(n) * 9999).toBeGreaterThanOrEqual(n);
    }
  });
});

describe('choosePartSize', () => {
  it('uses the chunk size without an estimate, the formula with one', () => {
    expect(choosePartSize({ chunkSize: 256 * MIB })).toBe(256 * MIB);
    expect(choosePartSize({ chunkSize: 256 * MIB, estimated: 500 * GIB })).toBe(56_377_083);
  });

  it('refuses an estimate above 5 TiB up front', () => {
    expect(choosePartSize({ chunkSize: 5 * MIB, estimated: MAX_OBJECT_SIZE })).toBeGreaterThan(0);
    expect(() => choosePartSize({ chunkSize: 5 * MIB, estimated: MAX_OBJECT_SIZE + 1 })).toThrow(
      /--estimated .*5 TiB/,
    );
  });
});
