/** The bandwidth limit at the backend port, on the memory backend, with a fake clock. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalBackend } from '../local/backend.js';
import { md5 } from '../etag.js';
import { MemBackend } from '../mem/backend.js';
import { pacedBody } from '../s3/paced-body.js';
import { fakeClock } from '../testing/fake-clock.js';
import { PACE_SLICE, TokenBucket } from '../token-bucket.js';
import { withThrottle } from './throttled.js';

const MIB = 1024 * 1024;
const SLICE_MS = (PACE_SLICE / MIB) * 1000; // one slice at 1 MiB/s

function bucketAt1MiB(clock: ReturnType<typeof fakeClock>): TokenBucket {
  return new TokenBucket({ rate: MIB, now: clock.now, sleep: clock.sleep });
}

describe('withThrottle', () => {
  it('4 concurrent 1 MiB chunks at 1 MiB/s share the bucket: 4 s, every byte stored', async () => {
    const clock = fakeClock();
    const backend = withThrottle(new MemBackend(), { upload: bucketAt1MiB(clock) });
    const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: MIB });
    const bodies = [1, 2, 3, 4].map((n) => Buffer.alloc(MIB, n));
    const done: number[] = [];
    const writes = bodies.map(async (body, i) => {
      const chunk = await writer.writeChunk({ number: i + 1, body, md5: md5(body) });
      done.push(clock.now());
      return chunk;
    });
    const [chunks] = await Promise.all([Promise.all(writes), clock.run()]);
    expect(Math.max(...done)).toBeCloseTo(4000 - SLICE_MS, 6);
    // shared, not one after the other: the first part finishes late too
    expect(Math.min(...done)).toBeGreaterThan(3000);
    await writer.complete(chunks);
    const stored = await backend.readRange({ key: 'k', start: 0, end: 4 * MIB - 1 });
    expect(Buffer.from(stored).equals(Buffer.concat(bodies))).toBe(true);
  });

  it('reads are paced by the download bucket, writes by the upload bucket only', async () => {
    const clock = fakeClock();
    const mem = new MemBackend();
    mem.seed('k', Buffer.alloc(2 * MIB, 7));
    const backend = withThrottle(mem, { download: bucketAt1MiB(clock) });
    const reading = backend.readRange({ key: 'k', start: 0, end: 2 * MIB - 1 });
    const [bytes] = await Promise.all([reading, clock.run()]);
    expect(bytes.byteLength).toBe(2 * MIB);
    expect(clock.now()).toBeCloseTo(2000 - SLICE_MS, 6);
    const writer = await backend.openWriter({ key: 'w', metadata: {}, chunkSize: MIB });
    const body = Buffer.alloc(MIB);
    const before = clock.now();
    await Promise.all([writer.writeChunk({ number: 1, body, md5: md5(body) }), clock.run()]);
    expect(clock.now()).toBe(before);
  });

  it('the local backend pays for every byte it writes and reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'z3-throttled-'));
    try {
      const payments = { upload: 0, download: 0 };
      const recording = (direction: 'upload' | 'download'): TokenBucket => {
        const bucket = new TokenBucket({ rate: 1024 * MIB });
        const take = bucket.take.bind(bucket);
        bucket.take = (bytes, signal) => {
          payments[direction] += bytes;
          return take(bytes, signal);
        };
        return bucket;
      };
      const backend = withThrottle(createLocalBackend(dir), {
        upload: recording('upload'),
        download: recording('download'),
      });
      const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: 2 * MIB });
      const body = Buffer.alloc(MIB + 5, 3);
      await writer.complete([await writer.writeChunk({ number: 1, body, md5: md5(body) })]);
      await backend.readRange({ key: 'k', start: 5, end: MIB + 4 });
      expect(payments).toEqual({ upload: MIB + 5, download: MIB });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('no limit: the backend itself, unwrapped', () => {
    const mem = new MemBackend();
    expect(withThrottle(mem, {})).toBe(mem);
  });
});

describe('pacedBody (the S3 part body)', () => {
  it('lets no byte out before it is paid for, and pays at most one slice ahead', async () => {
    const body = Buffer.from(Array.from({ length: 3 * PACE_SLICE + 10 }, (_, i) => i % 251));
    let paid = 0;
    const payments: number[] = [];
    const stream = pacedBody({
      body,
      pace: (bytes) => {
        paid += bytes;
        payments.push(bytes);
        return Promise.resolve();
      },
    });
    const received: Buffer[] = [];
    let sent = 0;
    for await (const chunk of stream) {
      sent += (chunk as Buffer).byteLength;
      expect(paid).toBeGreaterThanOrEqual(sent);
      // the stream reads ahead by at most one slice: the pacing is per slice, not per part
      expect(paid - sent).toBeLessThanOrEqual(PACE_SLICE);
      received.push(chunk as Buffer);
    }
    expect(payments).toEqual([PACE_SLICE, PACE_SLICE, PACE_SLICE, 10]);
    expect(Buffer.concat(received).equals(body)).toBe(true);
  });
});
