import { describe, expect, it } from 'vitest';
import { CommandFailedError, EXIT } from '../errors.js';
import {
  ProgramNotFoundError,
  StageFailedError,
  StderrTail,
  summarizeStderr,
} from './stage-error.js';

describe('StderrTail', () => {
  it('keeps the last 20 complete lines of many small chunks', () => {
    const tail = new StderrTail();
    for (let i = 0; i < 1000; i++) tail.push(Buffer.from(`line ${i}\n`));
    expect(tail.text().split('\n')).toEqual(
      Array.from({ length: 20 }, (_, i) => `line ${980 + i}`),
    );
  });

  it('keeps at most 8 KiB and drops the cut first line', () => {
    const tail = new StderrTail();
    tail.push(Buffer.from(`${'x'.repeat(10_000)}\nlast line\n`));
    expect(tail.text()).toBe('last line');
  });

  it('keeps a single overlong line (its end)', () => {
    const tail = new StderrTail();
    tail.push(Buffer.from('y'.repeat(20_000)));
    expect(tail.text()).toBe('y'.repeat(8192));
  });

  it('is empty when nothing was written', () => {
    expect(new StderrTail().text()).toBe('');
  });
});

describe('summarizeStderr', () => {
  it('joins the last three non-empty lines', () => {
    expect(summarizeStderr('a\n\nb\n  c  \nd\n')).toBe('b; c; d');
    expect(summarizeStderr('')).toBe('');
  });
});

describe('StageFailedError', () => {
  it('says exit code or signal, quoted argv and stderr', () => {
    const exit = new StageFailedError({
      command: ['zfs', 'send', 'p/f@a b'],
      exitStatus: 1,
      signal: null,
      stderrTail: "cannot open 'p/f@a b'",
    });
    expect(exit).toBeInstanceOf(CommandFailedError);
    expect(exit.exitCode).toBe(EXIT.COMMAND_FAILED);
    expect(exit.message).toBe("zfs send 'p/f@a b' exited with code 1: cannot open 'p/f@a b'");
    const sig = new StageFailedError({
      command: ['pigz', '-1'],
      exitStatus: null,
      signal: 'SIGKILL',
      stderrTail: '',
    });
    expect(sig.message).toBe('pigz -1 was killed by SIGKILL');
  });

  it('ProgramNotFoundError is "command not found" with an install hint', () => {
    const err = new ProgramNotFoundError(['pigz', '-d'], 1);
    expect(err.message).toBe('pigz: command not found');
    expect(err.hint).toBe('install it, e.g. apt-get install pigz');
    expect(err.isNotFound).toBe(true);
    expect(err.stageIndex).toBe(1);
    expect(err.exitCode).toBe(EXIT.COMMAND_FAILED);
  });
});
