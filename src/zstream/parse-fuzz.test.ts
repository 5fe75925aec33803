/**
 * Random damage, never an exception: whatever the bytes, the parser answers with a report (a
 * verify run must name the bad object, not crash). Streams without per-record checksums let the
 * damage reach the length and grammar logic instead of stopping at the first checksum.
 */
import { describe, expect, it } from 'vitest';
import { injected } from '../testing/faults.js';
import type { ZStreamReport } from './parse.js';
import { parseInChunks, plainStream, rawStream, replicationStream } from './testing/streams.js';

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.floor((state / 2147483648) * n);
  };
}

/** One random kind of damage: flipped bytes, a cut-out range, a repeated range, inserted junk. */
function damage(bytes: Uint8Array, pick: (n: number) => number): Uint8Array {
  const at = pick(bytes.length);
  const span = 1 + pick(700);
  const junk = Uint8Array.from({ length: span }, () => pick(256));
  switch (pick(4)) {
    case 0: {
      const copy = Uint8Array.from(bytes);
      for (let k = 0; k < 1 + pick(4); k++) {
        const i = pick(copy.length);
        copy[i] = (copy[i] as number) ^ (1 + pick(255));
      }
      return copy;
    }
    case 1:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + span)]);
    case 2:
      return Buffer.concat([bytes.subarray(0, at + span), bytes.subarray(at)]);
    default:
      return Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]);
  }
}

describe('ZStreamParser under random damage', () => {
  it('reports every damaged stream without throwing', { tags: ['faults'] }, () => {
    const pick = random(20261201);
    const streams = [
      plainStream({ recordChecksums: false }),
      replicationStream({ recordChecksums: false }),
      rawStream({ recordChecksums: false }),
      plainStream(),
      replicationStream({ littleEndian: false }),
    ].map((w) => w.toBytes());
    let damaged = 0;
    for (let round = 0; round < 400; round++) {
      const original = streams[round % streams.length] as Uint8Array;
      const bytes = damage(original, pick);
      if (Buffer.compare(bytes, original) === 0) continue;
      let report: ZStreamReport | undefined;
      expect(() => (report = parseInChunks(bytes, 1 + pick(5000))), `round ${round}`).not.toThrow();
      expect(report?.ok, `round ${round}`).toBe(false);
      expect(report?.reason).toMatch(/./);
      damaged++;
    }
    injected('corrupt data', damaged);
  });
});
