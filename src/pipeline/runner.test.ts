import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CommandFailedError, EXIT, StorageError } from '../errors.js';
import { startPipeline } from './runner.js';
import { ProgramNotFoundError, StageFailedError } from './stage-error.js';
import { injected } from '../testing/faults.js';

const STAGE = fileURLToPath(new URL('../../test/fixtures/stage.sh', import.meta.url));
const MiB = 1024 * 1024;

async function collect(stream: Readable | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream ?? Readable.from([])) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Resolves with the rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<StageFailedError> {
  try {
    await p;
  } catch (err) {
    return err as StageFailedError;
  }
  throw new Error('expected a rejection');
}

/** A source that yields `total` bytes in 64 KiB chunks, then ends (or fails with `error`). */
function source(total: number, error?: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        if (error !== undefined) this.destroy(error);
        else this.push(null);
        return;
      }
      const n = Math.min(64 * 1024, total - sent);
      sent += n;
      this.push(Buffer.alloc(n, 7));
    },
  });
}

describe('startPipeline: data path', () => {
  it('streams a few MiB through three stages (printf-free: zeros → pigz -1 → pigz -d)', async () => {
    const p = startPipeline({
      stages: [
        { argv: [STAGE, `write:${3 * MiB}`] },
        { argv: ['pigz', '-1'] },
        { argv: ['pigz', '-d'] },
      ],
      input: 'ignore',
      output: 'pipe',
    });
    const [out] = await Promise.all([collect(p.output), p.done]);
    expect(out.length).toBe(3 * MiB);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('keeps the output of a stage that exited before anyone read it (a tiny zfs send)', async () => {
    // Node resumes (drains to nowhere) a child's unread stdout when the child exits; the
    // uploader starts reading only once its upload is open, a round trip later.
    const p = startPipeline({
      stages: [{ argv: [STAGE, 'write:3000'] }],
      input: 'ignore',
      output: 'pipe',
    });
    await p.done;
    await sleep(100);
    expect((await collect(p.output)).length).toBe(3000);
  });

  it('feeds an in-process input through a 3-stage round trip, bytes intact', async () => {
    const data = randomBytes(4 * MiB);
    const p = startPipeline({
      stages: [{ argv: ['pigz', '-1'] }, { argv: ['pigz', '-d'] }, { argv: ['cat'] }],
      input: Readable.from([data.subarray(0, MiB), data.subarray(MiB)]),
      output: 'pipe',
    });
    const [out] = await Promise.all([collect(p.output), p.done]);
    expect(sha(out)).toBe(sha(data));
  });

  it('pipes the last stage into a Writable and waits for it', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        setTimeout(cb, 1);
      },
    });
    const p = startPipeline({
      stages: [{ argv: ['printf', '%s', 'a b $c'] }, { argv: ['cat'] }],
      input: 'ignore',
      output: sink,
    });
    expect(p.output).toBeUndefined();
    await p.done;
    expect(Buffer.concat(chunks).toString()).toBe('a b $c');
  });

  it('an in-process input into cat, out to a Writable', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    await startPipeline({ stages: [{ argv: ['cat'] }], input: source(2 * MiB), output: sink }).done;
    expect(Buffer.concat(chunks).equals(Buffer.alloc(2 * MiB, 7))).toBe(true);
  });
});

describe('startPipeline: which stage is blamed', () => {
  it(
    'a first stage that exits 1 after writing data, not the stages after it',
    { tags: ['faults'] },
    async () => {
      const p = startPipeline({
        stages: [
          {
            argv: [
              STAGE,
              `write:${MiB}`,
              'stderr:noise',
              'stderr:cannot send: I/O error',
              'exit:1',
            ],
          },
          { argv: ['pigz', '-1'] },
          { argv: ['pigz', '-d'] },
        ],
        input: 'ignore',
        output: 'pipe',
      });
      const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
      expect(err).toBeInstanceOf(StageFailedError);
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      expect(err.stageIndex).toBe(0);
      expect(err.exitStatus).toBe(1);
      expect(err.message).toBe(
        `${STAGE} write:${MiB} stderr:noise 'stderr:cannot send: I/O error' exit:1 exited with code 1: noise; cannot send: I/O error`,
      );
      injected('stage death');
    },
  );

  it(
    'the upstream failure, when the downstream then fails on the truncated input',
    { tags: ['faults'] },
    async () => {
      const p = startPipeline({
        stages: [
          { argv: [STAGE, 'write:65536', 'stderr:upstream broke', 'exit:1'] },
          { argv: [STAGE, 'drain', 'stderr:unexpected end of input', 'exit:2'] },
        ],
        input: 'ignore',
        output: 'pipe',
      });
      const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
      expect(err.stageIndex).toBe(0);
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      expect(err.message).toContain('upstream broke');
      injected('stage death', 2);
    },
  );

  it(
    'a middle stage that exits non-zero, not the upstream stage that then dies of SIGPIPE',
    { tags: ['faults'] },
    async () => {
      const p = startPipeline({
        stages: [
          { argv: ['cat', '/dev/zero'] },
          { argv: [STAGE, 'read:65536', 'stderr:middle broke', 'exit:3'] },
          { argv: ['cat'] },
        ],
        input: 'ignore',
        output: 'pipe',
      });
      const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
      expect(err.stageIndex).toBe(1);
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      expect(err.exitStatus).toBe(3);
      expect(err.message).toMatch(/exited with code 3: middle broke$/);
      injected('stage death');
    },
  );

  it('a stage killed by a signal mid-stream', { tags: ['faults'] }, async () => {
    const p = startPipeline({
      stages: [
        { argv: [STAGE, `write:${4 * MiB}`, 'kill:KILL'] },
        { argv: ['pigz', '-1'] },
        { argv: ['pigz', '-d'] },
      ],
      input: 'ignore',
      output: 'pipe',
    });
    const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
    expect(err.stageIndex).toBe(0);
    expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
    expect(err.signal).toBe('SIGKILL');
    expect(err.message).toBe(`${STAGE} write:${4 * MiB} kill:KILL was killed by SIGKILL`);
    injected('kill -9');
  });

  it(
    'the last stage, killed by SIGPIPE, when the reader of `output` goes away',
    { tags: ['faults'] },
    async () => {
      const p = startPipeline({
        stages: [{ argv: ['cat', '/dev/zero'] }],
        input: 'ignore',
        output: 'pipe',
      });
      const out = p.output!;
      await new Promise((resolve) => out.once('data', resolve));
      out.destroy();
      const err = await rejection(p.done);
      expect(err.stageIndex).toBe(0);
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      // SIGPIPE, or ECONNRESET when unread data was left in the socketpair Node uses as a pipe.
      expect(err.message).toMatch(
        /^cat \/dev\/zero (was killed by SIGPIPE \(a later stage stopped reading its output\)|exited with code 1: .*Connection reset by peer)$/,
      );
      injected('output failure');
    },
  );

  it('keeps only the tail of a long stderr', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `stderr:line ${i}`);
    const err = await rejection(
      startPipeline({
        stages: [{ argv: [STAGE, ...lines, 'exit:5'] }],
        input: 'ignore',
        output: 'pipe',
      }).done,
    );
    expect(err.stderrTail.split('\n')).toEqual(
      Array.from({ length: 20 }, (_, i) => `line ${80 + i}`),
    );
    expect(err.message).toMatch(/exited with code 5: line 97; line 98; line 99$/);
  });
});

describe('startPipeline: missing programs, abort, kill', () => {
  it(
    'a missing program is "command not found" before anything is spawned',
    { tags: ['faults'] },
    async () => {
      const marker = join(mkdtempSync(join(tmpdir(), 'z3-runner-')), 'spawned');
      const start = (): unknown =>
        startPipeline({
          stages: [{ argv: [STAGE, `touch:${marker}`] }, { argv: ['z3-no-such-program', '-x'] }],
          input: 'ignore',
          output: 'pipe',
        });
      expect(start).toThrow(ProgramNotFoundError);
      expect(start).toThrow('z3-no-such-program: command not found');
      try {
        start();
      } catch (err) {
        expect((err as CommandFailedError).exitCode).toBe(EXIT.COMMAND_FAILED);
      }
      await sleep(200);
      expect(existsSync(marker)).toBe(false);
      injected('stage death');
    },
  );

  it('abort kills every stage and done rejects with the reason', { tags: ['faults'] }, async () => {
    const controller = new AbortController();
    const p = startPipeline({
      stages: [{ argv: ['cat', '/dev/zero'] }, { argv: ['cat'] }, { argv: [STAGE, 'drain'] }],
      input: 'ignore',
      output: 'pipe',
      signal: controller.signal,
    });
    const reason = new Error('user pressed ^C');
    setTimeout(() => controller.abort(reason), 100);
    const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
    expect(err).toBe(reason);
    injected('signal');
  });

  it('an already aborted signal throws before spawning', () => {
    const reason = new Error('too late');
    expect(() =>
      startPipeline({
        stages: [{ argv: ['cat'] }],
        input: 'ignore',
        output: 'pipe',
        signal: AbortSignal.abort(reason),
      }),
    ).toThrow(reason);
  });

  it('kill(reason) rejects done with the reason when no stage failed before', async () => {
    const p = startPipeline({
      stages: [{ argv: ['cat', '/dev/zero'] }, { argv: ['cat'] }],
      input: 'ignore',
      output: 'pipe',
    });
    p.output!.resume();
    const reason = new Error('upload failed');
    p.kill(reason);
    p.kill(reason);
    expect(await rejection(p.done)).toBe(reason);
  });

  it(
    'kill() after a stage failed reports that stage, not the kill',
    { tags: ['faults'] },
    async () => {
      // The second stage ignores SIGTERM for a while, so the pipeline is still running at kill().
      const stubborn = [
        process.execPath,
        '-e',
        "process.on('SIGTERM', () => {}); setTimeout(() => {}, 1500)",
      ];
      const p = startPipeline({
        stages: [{ argv: [STAGE, 'stderr:real cause', 'exit:1'] }, { argv: stubborn }],
        input: 'ignore',
        output: 'pipe',
      });
      p.output!.resume();
      const settled = rejection(p.done);
      await sleep(300);
      p.kill(new Error('upload failed'));
      const err = await settled;
      expect(err.stageIndex).toBe(0);
      expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
      expect(err.message).toContain('real cause');
      injected('stage death');
    },
  );

  it('kills the other stages after one failed, so done settles', { tags: ['faults'] }, async () => {
    const p = startPipeline({
      stages: [{ argv: ['sleep', '30'] }, { argv: [STAGE, 'stderr:bad', 'exit:1'] }],
      input: 'ignore',
      output: 'pipe',
    });
    p.output!.resume();
    const err = await rejection(p.done);
    expect(err.stageIndex).toBe(1);
    expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
    injected('stage death');
  });
});

describe('startPipeline: the in-process input', () => {
  it('a first stage that exits 0 without reading all its input is fine', async () => {
    await startPipeline({ stages: [{ argv: ['true'] }], input: source(16 * MiB), output: 'pipe' })
      .done;
    const p = startPipeline({
      stages: [{ argv: [STAGE, 'read:1024'] }, { argv: ['cat'] }],
      input: source(16 * MiB),
      output: 'pipe',
    });
    await Promise.all([collect(p.output), p.done]);
  });

  it(
    'a first stage that fails is the cause, not EPIPE on its stdin',
    { tags: ['faults'] },
    async () => {
      const p = startPipeline({
        stages: [{ argv: [STAGE, 'read:1024', 'stderr:bad stream', 'exit:1'] }],
        input: source(16 * MiB),
        output: 'pipe',
      });
      const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
      expect(err.message).toMatch(/exited with code 1: bad stream$/);
      injected('stage death');
    },
  );

  it('an error of the input stream itself is reported as is', { tags: ['faults'] }, async () => {
    const broken = new StorageError('GET failed: connection reset', { isRetryable: true });
    const p = startPipeline({
      stages: [{ argv: ['cat'] }, { argv: ['cat'] }],
      input: source(MiB, broken),
      output: 'pipe',
    });
    const [, err] = await Promise.all([collect(p.output), rejection(p.done)]);
    expect(err).toBe(broken);
    injected('S3 reset/timeout');
  });

  it('a failing output Writable is reported, wrapped', { tags: ['faults'] }, async () => {
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('ENOSPC: no space left on device'));
      },
    });
    const err = await rejection(
      startPipeline({ stages: [{ argv: ['cat', '/dev/zero'] }], input: 'ignore', output: sink })
        .done,
    );
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(err.message).toBe(
      'writing the output of cat /dev/zero failed: ENOSPC: no space left on device',
    );
    injected('output failure');
  });
});
