/**
 * The bandwidth limit against the real S3 server: a part body paced slice by slice (a stream,
 * not a buffer) is accepted with its Content-MD5 and stored intact, and a ranged read pays for
 * what arrives as it arrives. Timing is the benchmark's job (scripts/bench-limit.sh).
 */
import { describe, expect, it } from 'vitest';
import { md5 } from '../../src/storage/etag.js';
import { PACE_SLICE, TokenBucket } from '../../src/storage/token-bucket.js';
import { withThrottle } from '../../src/storage/wrappers/throttled.js';
import { useTestBucket } from '../s3-env.js';

const MIB = 1024 * 1024;

/** A fast bucket that records every payment. */
class RecordingBucket extends TokenBucket {
  readonly payments: number[] = [];
  constructor() {
    super({ rate: 1024 * MIB });
  }
  override take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.payments.push(bytes);
    return super.take(bytes, signal);
  }
}

describe('bandwidth limit on S3', () => {
  const fixture = useTestBucket('limit');

  it('a paced multipart upload and paced ranged reads move every byte, paid in slices', async () => {
    const upload = new RecordingBucket();
    const download = new RecordingBucket();
    const backend = withThrottle(fixture.backend, { upload, download });
    const key = `${fixture.prefix}/paced`;
    const parts = [Buffer.alloc(5 * MIB, 1), Buffer.alloc(MIB + 123, 2)];
    parts[0]!.writeUInt32BE(0xdeadbeef, 4 * MIB);
    const writer = await backend.openWriter({ key, metadata: {}, chunkSize: 5 * MIB });
    const chunks = await Promise.all(
      parts.map((body, i) => writer.writeChunk({ number: i + 1, body, md5: md5(body) })),
    );
    await writer.complete(chunks);
    const total = 6 * MIB + 123;
    expect(upload.payments.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...upload.payments)).toBe(PACE_SLICE);

    const all = Buffer.concat(parts);
    const read = await backend.readRange({ key, start: 100, end: total - 1 });
    expect(Buffer.from(read).equals(all.subarray(100))).toBe(true);
    expect(download.payments.reduce((a, b) => a + b, 0)).toBe(total - 100);
    expect(Math.max(...download.payments)).toBeLessThanOrEqual(PACE_SLICE);
  });
});
