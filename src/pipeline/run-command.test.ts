import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCommand } from './run-command.js';
import { ProgramNotFoundError, StageFailedError } from './stage-error.js';
import { injected } from '../testing/faults.js';

const STAGE = fileURLToPath(new URL('../../test/fixtures/stage.sh', import.meta.url));

describe('runCommand', () => {
  it('collects stdout and stderr of a command that exits 0', async () => {
    const out = await runCommand([
      'sh',
      '-c',
      'printf "%s\\n" "$1"; echo warn >&2',
      'sh',
      "it's $HOME; fine",
    ]);
    expect(out).toEqual({ stdout: "it's $HOME; fine\n", stderr: 'warn\n' });
  });

  it('feeds input to stdin', async () => {
    expect((await runCommand(['cat'], { input: 'hello\n' })).stdout).toBe('hello\n');
    expect((await runCommand([STAGE, 'exit:0'], { input: Buffer.alloc(1024 * 1024) })).stdout).toBe(
      '',
    );
  });

  it('rejects with exit status and stderr tail', { tags: ['faults'] }, async () => {
    const err = await runCommand([
      STAGE,
      'stderr:cannot open tank/x: dataset does not exist',
      'exit:1',
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageFailedError);
    const failed = err as StageFailedError;
    expect(failed.exitStatus).toBe(1);
    expect(failed.stderrTail).toBe('cannot open tank/x: dataset does not exist');
    expect(failed.message).toMatch(
      /exited with code 1: cannot open tank\/x: dataset does not exist$/,
    );
    injected('stage death');
  });

  it('rejects a missing program before spawning', async () => {
    await expect(runCommand(['z3-no-such-program'])).rejects.toThrow(ProgramNotFoundError);
  });

  it('is killed on abort and rejects with the reason', { tags: ['faults'] }, async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 50);
    await expect(runCommand(['sleep', '30'], { signal: controller.signal })).rejects.toBe(reason);
    injected('signal');
  });

  it('passes extra environment', async () => {
    expect(
      (await runCommand(['sh', '-c', 'printf %s "$Z3_X"'], { env: { Z3_X: 'a b' } })).stdout,
    ).toBe('a b');
  });
});
