/**
 * startPipeline with `output: 'fd'`: the last stage writes into a bare pipe whose read end the
 * caller reads with its own buffers (pipeReader), with real child processes. Bytes arrive
 * intact, a tiny output of a stage that already exited is kept, a dying stage is still blamed,
 * and no FIFO is left on disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CommandFailedError } from '../errors.js';
import { pipeReader } from '../transfer/pipe-reader.js';
import { startPipeline } from './runner.js';
import { injected } from '../testing/faults.js';

const STAGE = fileURLToPath(new URL('../../test/fixtures/stage.sh', import.meta.url));
const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Everything readable from `fd` through a pipeReader, in 1 MiB requests. */
async function readFd(fd: number | undefined): Promise<Buffer> {
  if (fd === undefined) throw new Error('the pipeline has no outputFd');
  const reader = pipeReader(fd);
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(MiB);
    const n = await reader.readInto(buf, 0, MiB);
    if (n === 0) return Buffer.concat(parts);
    parts.push(buf.subarray(0, n));
  }
}

const pipesLeft = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('z3-pipe-'));

describe("startPipeline: output 'fd'", () => {
  it('hands the read end of a kernel pipe: bytes through two stages arrive intact', async () => {
    const before = pipesLeft();
    const data = randomBytes(5 * MiB + 3);
    const p = startPipeline({
      stages: [{ argv: ['pigz', '-1'] }, { argv: ['pigz', '-d'] }],
      input: Readable.from([data]),
      output: 'fd',
    });
    expect(p.output).toBeUndefined();
    expect(fstatSync(p.outputFd!).isFIFO()).toBe(true);
    expect(pipesLeft()).toEqual(before); // unlinked as soon as both ends were open
    const [out] = await Promise.all([readFd(p.outputFd), p.done]);
    expect(sha(out)).toBe(sha(data));
  });

  it('keeps the output of a stage that exited before anyone read it (a tiny zfs send)', async () => {
    const p = startPipeline({
      stages: [{ argv: [STAGE, 'write:3000'] }],
      input: 'ignore',
      output: 'fd',
    });
    await p.done;
    await sleep(100);
    expect((await readFd(p.outputFd)).length).toBe(3000);
  });

  it(
    'blames a stage that dies mid-stream; the reader sees the end',
    { tags: ['faults'] },
    async () => {
      const p = startPipeline({
        stages: [{ argv: [STAGE, `write:${MiB}`, 'stderr:disk on fire', 'exit:3'] }],
        input: 'ignore',
        output: 'fd',
      });
      injected('stage death', 1);
      const out = await readFd(p.outputFd);
      expect(out.length).toBe(MiB);
      const err = await p.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CommandFailedError);
      expect((err as Error).message).toMatch(/stage\.sh .*exited with code 3/);
      expect((err as Error).message).toMatch(/disk on fire/);
    },
  );
});
