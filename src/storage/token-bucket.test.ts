import { describe, expect, it } from 'vitest';
import { PACE_SLICE, TokenBucket } from './token-bucket.js';
import { fakeClock, type FakeClock } from './testing/fake-clock.js';

const MIB = 1024 * 1024;

/** Bytes granted per (fake) time, recorded per slice as `take` resolves it. */
async function takeRecorded(
  bucket: TokenBucket,
  clock: FakeClock,
  sizes: number[],
): Promise<{ at: number; bytes: number; part: number }[]> {
  const log: { at: number; bytes: number; part: number }[] = [];
  const takers = sizes.map(async (size, part) => {
    for (let left = size; left > 0; left -= PACE_SLICE) {
      const bytes = Math.min(left, PACE_SLICE);
      await bucket.take(bytes);
      log.push({ at: clock.now(), bytes, part });
    }
  });
  await Promise.all([clock.run(), ...takers]);
  return log;
}

describe('TokenBucket', () => {
  it('10 MiB at 1 MiB/s takes 10 s, less the one-slice burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ rate: MIB, now: clock.now, sleep: clock.sleep });
    const log = await takeRecorded(bucket, clock, [10 * MIB]);
    const end = Math.max(...log.map((l) => l.at));
    expect(end).toBeCloseTo(10_000 - (PACE_SLICE / MIB) * 1000, 6);
  });

  it('is smooth: no 100 ms window gets more than its share plus one slice', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ rate: 4 * MIB, now: clock.now, sleep: clock.sleep });
    const log = await takeRecorded(bucket, clock, [16 * MIB]);
    for (let from = 0; from < 4000; from += 10) {
      const inWindow = log.filter((l) => l.at >= from && l.at < from + 100);
      const bytes = inWindow.reduce((sum, l) => sum + l.bytes, 0);
      expect(bytes).toBeLessThanOrEqual(0.1 * 4 * MIB + PACE_SLICE);
    }
  });

  it('is shared: 4 concurrent parts of 2 MiB at 1 MiB/s take 8 s together, interleaved', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ rate: MIB, now: clock.now, sleep: clock.sleep });
    const log = await takeRecorded(bucket, clock, [2 * MIB, 2 * MIB, 2 * MIB, 2 * MIB]);
    const end = Math.max(...log.map((l) => l.at));
    expect(end).toBeCloseTo(8000 - (PACE_SLICE / MIB) * 1000, 6);
    // every part progresses at once: after 4 s each has had about half of its bytes
    for (let part = 0; part < 4; part++) {
      const early = log.filter((l) => l.part === part && l.at <= 4000);
      expect(early.reduce((sum, l) => sum + l.bytes, 0)).toBeGreaterThanOrEqual(MIB - PACE_SLICE);
    }
  });

  it('an idle spell earns no more than the burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ rate: MIB, burst: MIB, now: clock.now, sleep: clock.sleep });
    await takeRecorded(bucket, clock, [MIB]);
    clock.advance(60_000);
    const start = clock.now();
    const log = await takeRecorded(bucket, clock, [3 * MIB]);
    expect(Math.max(...log.map((l) => l.at)) - start).toBeCloseTo(2000, 6);
  });

  it('an abort rejects the wait with the reason', async () => {
    const bucket = new TokenBucket({ rate: 1024 });
    const controller = new AbortController();
    const taking = bucket.take(10 * MIB, controller.signal);
    controller.abort(new Error('stop'));
    await expect(taking).rejects.toThrow('stop');
  });

  it('many sleepers on one signal add one listener to it, and all reject on abort', async () => {
    const bucket = new TokenBucket({ rate: 1024 });
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = (...args: Parameters<typeof add>) => {
      listeners += 1;
      add(...args);
    };
    const takers = Array.from({ length: 20 }, () => bucket.take(PACE_SLICE, controller.signal));
    await new Promise((resolve) => setImmediate(resolve));
    expect(listeners).toBe(1);
    controller.abort(new Error('stop'));
    const results = await Promise.allSettled(takers);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(19); // the first went at once
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket({ rate: 0 })).toThrow(RangeError);
  });
});
