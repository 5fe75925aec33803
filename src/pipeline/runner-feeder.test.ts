/**
 * The runner with a StdinFeeder as input (the restore path: the downloader writes its ranges
 * into `zfs receive`'s stdin itself and reuses each buffer once its write callback ran).
 */
import { createHash } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CommandFailedError } from '../errors.js';
import { injected } from '../testing/faults.js';
import { startPipeline } from './runner.js';

const KiB = 1024;

async function collect(stream: Readable | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream ?? Readable.from([])) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Write `count` blocks of 256 KiB through ONE buffer, refilled only after each write's callback. */
function reusingFeeder(count: number, failAfter?: number) {
  const expected = createHash('sha256');
  const feed = async (stdin: Writable): Promise<void> => {
    const buffer = Buffer.alloc(256 * KiB);
    for (let i = 0; i < count; i++) {
      if (i === failAfter) throw new Error('range 3 failed');
      buffer.fill(i + 1);
      expected.update(buffer);
      await new Promise<void>((resolve, reject) =>
        stdin.write(buffer, (err) => (err ? reject(err) : resolve())),
      );
    }
  };
  return { feed, digest: () => expected.digest('hex') };
}

describe('startPipeline with a StdinFeeder', () => {
  it('delivers every byte when the feeder reuses one buffer after each write callback', async () => {
    const feeder = reusingFeeder(16);
    const run = startPipeline({ stages: [{ argv: ['cat'] }], input: feeder.feed, output: 'pipe' });
    const [out] = await Promise.all([collect(run.output), run.done]);
    expect(out.length).toBe(16 * 256 * KiB);
    expect(createHash('sha256').update(out).digest('hex')).toBe(feeder.digest());
  });

  it(
    'reports a failing feeder as the cause, and the stage sees a cut stream',
    { tags: ['faults'] },
    async () => {
      injected('S3 error');
      const feeder = reusingFeeder(16, 3);
      const run = startPipeline({
        stages: [{ argv: ['cat'] }],
        input: feeder.feed,
        output: 'pipe',
      });
      const [out, failure] = await Promise.all([
        collect(run.output),
        run.done.then(
          () => undefined,
          (err: unknown) => err,
        ),
      ]);
      expect(failure).toBeInstanceOf(CommandFailedError);
      expect((failure as Error).message).toBe('reading the input of cat failed: range 3 failed');
      expect(out.length).toBeLessThanOrEqual(3 * 256 * KiB);
    },
  );

  it('is no failure when the stage exits 0 before reading everything', async () => {
    const feeder = reusingFeeder(64);
    const run = startPipeline({
      stages: [{ argv: ['head', '-c', '10'] }],
      input: feeder.feed,
      output: 'pipe',
    });
    const [out] = await Promise.all([collect(run.output), run.done]);
    expect(out).toEqual(Buffer.alloc(10, 1));
  });
});
