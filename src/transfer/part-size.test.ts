import { describe, expect, it } from 'vitest';
import { S3_LIMITS } from '../storage/limits.js';
import { UsageError } from '../errors.js';
import {
  backupPartSize,
  choosePartSize,
  largestPartSize,
  MAX_PART_SIZE as LARGEST_PART,
  partSizeFor,
} from './part-size.js';
import { injected } from '../testing/faults.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const TIB = 1024 * GIB;
const {
  minPartSize: MIN_PART_SIZE,
  maxPartSize: MAX_PART_SIZE,
  maxParts: MAX_PARTS,
  maxObjectSize: MAX_OBJECT_SIZE,
} = S3_LIMITS;

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

  it('refuses an estimate above 5 TiB up front', { tags: ['faults'] }, () => {
    expect(choosePartSize({ chunkSize: 5 * MIB, estimated: MAX_OBJECT_SIZE })).toBeGreaterThan(0);
    expect(() => choosePartSize({ chunkSize: 5 * MIB, estimated: MAX_OBJECT_SIZE + 1 })).toThrow(
      /--estimated .*5 TiB/,
    );
    injected('bad input');
  });
});

describe('backupPartSize', () => {
  it.each([
    // [estimate, chunk size, is it set, expected part size]
    [500 * GIB, 256 * MIB, false, 56_377_083], // the default CHUNK_SIZE does not count
    [10 * GIB, 256 * MIB, false, MIN_PART_SIZE],
    [10 * GIB, 256 * MIB, true, 256 * MIB], // set and larger: used
    [500 * GIB, 64 * MIB, true, 64 * MIB],
    [500 * GIB, 16 * MIB, true, 56_377_083], // set but too small for the estimate: the formula
    [1 * TIB, 5 * MIB, true, 115_460_266],
    [0, 5 * GIB, true, MAX_PART_SIZE],
  ])('estimate %d, chunk size %d (set: %s) → %d', (estimate, chunkSize, isSet, expected) => {
    expect(backupPartSize({ estimate, chunkSize, isChunkSizeSet: isSet })).toBe(expected);
  });

  it('always fits the estimate in 10,000 parts and stays within the part limits', () => {
    for (const estimate of [0, 1, 50 * GIB, 3 * TIB, MAX_OBJECT_SIZE]) {
      for (const chunkSize of [MIN_PART_SIZE, 100 * MIB, MAX_PART_SIZE]) {
        for (const isChunkSizeSet of [false, true]) {
          const size = backupPartSize({ estimate, chunkSize, isChunkSizeSet });
          expect(size * MAX_PARTS).toBeGreaterThanOrEqual(estimate);
          expect(size).toBeGreaterThanOrEqual(MIN_PART_SIZE);
          expect(size).toBeLessThanOrEqual(MAX_PART_SIZE);
        }
      }
    }
  });
});

describe('the largest part a Node.js Buffer holds', () => {
  it('is 4 GiB on Node 20 (MAX_LENGTH 2^32), 5 GiB where buffers are larger', () => {
    expect(largestPartSize(2 ** 32)).toBe(4 * GIB);
    expect(largestPartSize(2 ** 53 - 1)).toBe(5 * GIB);
    expect(LARGEST_PART).toBeLessThanOrEqual(5 * GIB);
  });

  it(
    'refuses a backup whose estimate needs a larger part, before it starts (exit 2)',
    { tags: ['faults'] },
    () => {
      const input = { chunkSize: 256 * MIB, isChunkSizeSet: false, maxPartSize: 4 * GIB };
      expect(backupPartSize({ ...input, estimate: 37 * TIB })).toBe(partSizeFor(37 * TIB));
      let error: unknown;
      try {
        backupPartSize({ ...input, estimate: 38 * TIB });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(
        `a stream of about ${38 * TIB} bytes is too large for one object: it needs parts of ` +
          `${partSizeFor(38 * TIB)} bytes, above the ${4 * GIB} bytes this Node.js can hold in one buffer`,
      );
      expect((error as UsageError).exitCode).toBe(2);
      injected('bad input');
    },
  );
});
