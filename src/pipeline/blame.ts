/**
 * Which failure of a pipeline is the cause, and which are consequences. Pure: the runner
 * records what happened (exit statuses, stderr tails, the order exits were seen, whom it
 * signalled) and asks here what to report.
 *
 * A shell with pipefail reports the last failing stage, which is usually the wrong one: when
 * `zfs send` fails, `pigz -d` downstream then complains about truncated input; when the reader
 * dies, the writers upstream die of SIGPIPE. The cause is the first failure in time that is not
 * a closed pipe and was not killed by the runner.
 */
import { spawnFailedError, StageFailedError } from './stage-error.js';
import type { ChildExit } from './child.js';

/**
 * Stderr that marks a failure as a consequence of a closed pipe downstream. Node's 'pipe' stdio
 * is a UNIX socketpair, not a pipe(2): when a reader dies with unread data the writer gets
 * ECONNRESET ("Connection reset by peer", no signal) instead of SIGPIPE.
 */
const PIPE_ERROR = /\bEPIPE\b|\bECONNRESET\b|broken pipe|connection reset by peer/i;
/** 128 + SIGPIPE: how a shell reports a command killed by SIGPIPE. */
const SIGPIPE_EXIT_STATUS = 141;

export interface Failure {
  /** -1 the input stream, 0..n-1 the stages, n the output stream. */
  position: number;
  /** When it was observed, in the pipeline's own order of events (1, 2, …). */
  seq: number;
  /** A failure of its own, not a consequence of another one. */
  isPrimary: boolean;
  /** Died of a closed pipe downstream (SIGPIPE, EPIPE, ECONNRESET). */
  isPipe: boolean;
  /** Signalled by the runner before it exited. */
  isKilled: boolean;
  error: unknown;
}

/** What the runner knows about one stage once it is gone. */
export interface StageOutcome {
  argv: readonly string[];
  index: number;
  exit: ChildExit | undefined;
  seq: number;
  killedByUs: boolean;
  stderrTail: string;
}

/** The stage's failure, or undefined when it exited 0 (or has not exited). */
export function stageFailure(s: StageOutcome): Failure | undefined {
  const { exit } = s;
  if (exit === undefined || (exit.error === undefined && exit.code === 0)) return undefined;
  const base = { position: s.index, seq: s.seq };
  if (exit.error !== undefined) {
    const error = spawnFailedError(s.argv, exit.error, s.index);
    return { ...base, isPrimary: true, isPipe: false, isKilled: false, error };
  }
  const error = new StageFailedError({
    command: s.argv,
    exitStatus: exit.code,
    signal: exit.signal,
    stderrTail: s.stderrTail,
    stageIndex: s.index,
  });
  const isPipe =
    exit.signal === 'SIGPIPE' || exit.code === SIGPIPE_EXIT_STATUS || PIPE_ERROR.test(s.stderrTail);
  const isKilled = s.killedByUs;
  return { ...base, isPrimary: !isPipe && !isKilled, isPipe, isKilled, error };
}

/**
 * A failure of the in-process input (-1) or output (n) stream: primary when the stream failed on
 * its own (a download error, a full disk), else a closed-pipe consequence of the stage.
 */
export function streamFailure(options: {
  position: number;
  seq: number;
  isPrimary: boolean;
  error: unknown;
}): Failure {
  return { ...options, isPipe: !options.isPrimary, isKilled: false };
}

/** The cause: the earliest primary failure (ties: the one upstream); undefined if none. */
export function primaryCause(failures: readonly Failure[]): Failure | undefined {
  return failures
    .filter((f) => f.isPrimary)
    .sort((a, b) => a.seq - b.seq || a.position - b.position)[0];
}

/**
 * With only consequences left (e.g. the reader of the output went away): the closed-pipe stage
 * nearest to the reader that left, else the first failure seen.
 */
export function likeliestConsequence(failures: readonly Failure[]): Failure | undefined {
  const pipe = failures
    .filter((f) => f.isPipe && !f.isKilled && f.position >= 0)
    .sort((a, b) => b.position - a.position)[0];
  return pipe ?? [...failures].sort((a, b) => a.seq - b.seq)[0];
}
