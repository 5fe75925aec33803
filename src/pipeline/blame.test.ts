import { describe, expect, it } from 'vitest';
import {
  likeliestConsequence,
  primaryCause,
  stageFailure,
  streamFailure,
  type StageOutcome,
} from './blame.js';
import { StageFailedError } from './stage-error.js';

const outcome = (o: Partial<StageOutcome> & Pick<StageOutcome, 'index' | 'seq'>): StageOutcome => ({
  argv: [`stage${o.index}`],
  exit: { code: 1, signal: null },
  killedByUs: false,
  stderrTail: '',
  ...o,
});

describe('stageFailure', () => {
  it('is undefined for a stage that exited 0 or has not exited', () => {
    expect(
      stageFailure(outcome({ index: 0, seq: 1, exit: { code: 0, signal: null } })),
    ).toBeUndefined();
    expect(stageFailure(outcome({ index: 0, seq: 0, exit: undefined }))).toBeUndefined();
  });

  it('marks SIGPIPE, exit 141, EPIPE and ECONNRESET as closed-pipe consequences', () => {
    const pipes = [
      outcome({ index: 0, seq: 1, exit: { code: null, signal: 'SIGPIPE' } }),
      outcome({ index: 0, seq: 1, exit: { code: 141, signal: null } }),
      outcome({ index: 0, seq: 1, stderrTail: 'cat: write error: Broken pipe' }),
      outcome({
        index: 0,
        seq: 1,
        stderrTail: 'pigz: abort: write error on <stdout> (Connection reset by peer)',
      }),
    ];
    for (const o of pipes)
      expect(stageFailure(o)).toMatchObject({ isPipe: true, isPrimary: false });
    expect(stageFailure(outcome({ index: 0, seq: 1, stderrTail: 'I/O error' }))).toMatchObject({
      isPipe: false,
      isPrimary: true,
    });
  });

  it('a stage the runner killed is not primary', () => {
    const f = stageFailure(
      outcome({ index: 1, seq: 2, exit: { code: null, signal: 'SIGTERM' }, killedByUs: true }),
    );
    expect(f).toMatchObject({ isPrimary: false, isKilled: true });
    expect(f?.error).toBeInstanceOf(StageFailedError);
  });

  it('a stage that could not start is primary', () => {
    const f = stageFailure(
      outcome({
        index: 0,
        seq: 1,
        exit: { code: null, signal: null, error: new Error('spawn EACCES') },
      }),
    );
    expect(f?.isPrimary).toBe(true);
    expect((f?.error as Error).message).toBe('stage0: cannot start: spawn EACCES');
  });
});

describe('primaryCause / likeliestConsequence', () => {
  it('picks the downstream real failure seen after the upstream SIGPIPE of the same instant', () => {
    const failures = [
      stageFailure(outcome({ index: 0, seq: 1, exit: { code: null, signal: 'SIGPIPE' } }))!,
      stageFailure(
        outcome({ index: 1, seq: 2, stderrTail: 'cannot receive: destination modified' }),
      )!,
    ];
    expect(primaryCause(failures)?.position).toBe(1);
  });

  it('picks the earliest primary; ties go upstream', () => {
    const a = stageFailure(outcome({ index: 2, seq: 3 }))!;
    const b = stageFailure(outcome({ index: 0, seq: 5 }))!;
    const c = streamFailure({
      position: -1,
      seq: 3,
      isPrimary: true,
      error: new Error('download'),
    });
    expect(primaryCause([b, a])?.position).toBe(2);
    expect(primaryCause([b, a, c])?.position).toBe(-1);
  });

  it('with only consequences, blames the closed-pipe stage nearest the reader', () => {
    const failures = [
      stageFailure(outcome({ index: 0, seq: 1, exit: { code: null, signal: 'SIGPIPE' } }))!,
      stageFailure(outcome({ index: 1, seq: 2, exit: { code: null, signal: 'SIGPIPE' } }))!,
      stageFailure(
        outcome({ index: 2, seq: 3, exit: { code: null, signal: 'SIGTERM' }, killedByUs: true }),
      )!,
    ];
    expect(primaryCause(failures)).toBeUndefined();
    expect(likeliestConsequence(failures)?.position).toBe(1);
    expect(likeliestConsequence([])).toBeUndefined();
  });
});
