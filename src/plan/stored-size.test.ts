import { describe, expect, it } from 'vitest';
import { isImplausiblyShort, MIN_CHECKED_ESTIMATE } from './stored-size.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('isImplausiblyShort', () => {
  it.each([
    // [stored, estimate, isCompressed, expected]
    [100, GiB, false, true],
    [GiB / 2 - 1, GiB, false, true],
    [GiB / 2, GiB, false, false],
    [GiB, GiB, false, false],
    [2 * GiB, GiB, false, false],
    [100, GiB, true, true],
    [GiB / 1000 - 1, GiB, true, true],
    [GiB / 1000 + 1, GiB, true, false],
    [GiB / 50, GiB, true, false],
    [0, MIN_CHECKED_ESTIMATE - 1, false, false],
    [0, MIN_CHECKED_ESTIMATE, false, true],
  ])('stored %d of estimate %d (compressed %s) → %s', (stored, estimate, isCompressed, want) => {
    expect(isImplausiblyShort({ stored, estimate, isCompressed })).toBe(want);
  });
});
