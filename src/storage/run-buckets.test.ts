import { describe, expect, it } from 'vitest';
import { runBucket } from './run-buckets.js';

describe('runBucket', () => {
  it('is one bucket per direction and rate for the whole process', () => {
    expect(runBucket('upload', 20 * 1024 * 1024)).toBe(runBucket('upload', 20 * 1024 * 1024));
    expect(runBucket('upload', 20 * 1024 * 1024)).not.toBe(runBucket('download', 20 * 1024 * 1024));
    expect(runBucket('upload', 20 * 1024 * 1024)).not.toBe(runBucket('upload', 10 * 1024 * 1024));
    expect(runBucket('download', 1024).rate).toBe(1024);
  });
});
