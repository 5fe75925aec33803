/**
 * Spawns a pipeline of processes connected child to child through kernel pipes, the way a shell
 * with `set -o pipefail` would, but without a shell and with a precise failure report.
 *
 * Why kernel pipes: the bytes of `zfs send | pigz` never pass through this process, so the
 * runner costs no CPU per byte and cannot become the bottleneck; only the last stage's stdout
 * (e.g. into the uploader) and an in-process input (e.g. a download) are streamed in JS. (The
 * "pipes" are UNIX socketpairs, which is what Node creates for 'pipe' stdio; see PIPE_ERROR.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { CommandFailedError, InternalError, Z3Error } from '../errors.js';
import { quoteCommand, quotePipeline } from '../ui/shell-quote.js';
import { watchChild, type ChildExit } from './child.js';
import {
  likeliestConsequence,
  primaryCause,
  stageFailure,
  streamFailure,
  type Failure,
} from './blame.js';
import { ProgramNotFoundError, spawnFailedError, StderrTail } from './stage-error.js';
import type { PipelineSpec, RunningPipeline, StageSpec, StdinFeeder } from './types.js';
import { findProgram } from './which.js';
import { openPipe, type PipeEnds } from './fifo.js';
import { closeSync } from 'node:fs';

export {
  runCommand,
  type CommandOutput,
  type CommandRunner,
  type RunCommandOptions,
} from './run-command.js';

/**
 * How long the other stages may keep running after one failed before they are killed. Stages
 * that already exited in that window are judged on their own exit status, so a downstream
 * stage's real error is not mistaken for "killed by the runner" when an upstream stage died of
 * SIGPIPE in the same instant.
 */
const KILL_AFTER_FAILURE_MS = 100;
/** SIGTERM first; a stage still running this long after gets SIGKILL. */
const SIGKILL_AFTER_MS = 5_000;

interface StageState {
  spec: StageSpec;
  index: number;
  child: ChildProcess;
  tail: StderrTail | undefined;
  exit: ChildExit | undefined;
  /** Order in which exits were observed (1, 2, …): the first failure in time is the likely cause. */
  seq: number;
  /** The runner signalled the stage before its exit was observed. */
  killedByUs: boolean;
  closed: Promise<void>;
}

/**
 * Start the pipeline. Every program is looked up on PATH first: a missing one throws a
 * ProgramNotFoundError (`<prog>: command not found`, exit 4) synchronously and nothing is
 * spawned. An already aborted signal throws its reason, also before spawning. See
 * `RunningPipeline` for how `done` settles and which stage it blames.
 */
export function startPipeline(spec: PipelineSpec): RunningPipeline {
  if (spec.stages.length === 0)
    throw new InternalError('startPipeline: a pipeline needs at least one stage');
  spec.stages.forEach((stage, index) => {
    const path = stage.env?.['PATH'];
    if (findProgram(stage.argv[0] ?? '', { path }) === undefined) {
      throw new ProgramNotFoundError(stage.argv, index);
    }
  });
  spec.signal?.throwIfAborted();
  return new PipelineRun(spec).running;
}

class PipelineRun {
  readonly running: RunningPipeline;
  private readonly stages: StageState[] = [];
  private readonly failures: Failure[] = [];
  private inputFailure: Failure | undefined;
  private seq = 0;
  private stop: { kind: 'abort' | 'kill'; reason: unknown } | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private sigkillTimer: NodeJS.Timeout | undefined;
  private inputDone: Promise<void> = Promise.resolve();
  private outputDone: Promise<void> = Promise.resolve();
  private readonly onAbort = (): void => {
    this.stopAll('abort', this.spec.signal?.reason);
  };

  constructor(private readonly spec: PipelineSpec) {
    const outputPipe = spec.output === 'fd' ? openPipe() : undefined;
    try {
      this.spawnAll(outputPipe);
    } catch (err) {
      if (outputPipe !== undefined) closeSync(outputPipe.readFd);
      throw err;
    } finally {
      if (outputPipe !== undefined) closeSync(outputPipe.writeFd); // the child has its own copy
    }
    const first = this.stages[0];
    const last = this.stages.at(-1);
    if (first !== undefined && spec.input !== 'ignore') this.feedInput(spec.input, first);
    if (last !== undefined && typeof spec.output === 'object') this.drainOutput(last, spec.output);
    spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    const isStream = spec.output === 'pipe' || (spec.output === 'fd' && outputPipe === undefined);
    const output = isStream ? (last?.child.stdout ?? undefined) : undefined;
    // When a child exits, Node resumes its unread stdout and what is buffered is dropped: a
    // tiny `zfs send` done before the uploader starts reading (it opens its upload first, a
    // round trip) would look like an empty stream. Held, it waits for its reader.
    if (output !== undefined) holdUntilRead(output);
    this.running = {
      output,
      outputFd: outputPipe?.readFd,
      done: this.settle(),
      kill: (reason?: unknown) => {
        this.stopAll(
          'kill',
          reason ?? new CommandFailedError(`pipeline stopped: ${this.quoted()}`),
        );
      },
    };
  }

  private spawnAll(outputPipe: PipeEnds | undefined): void {
    let previous: ChildProcess | undefined;
    for (const [index, spec] of this.spec.stages.entries()) {
      const isLast = index === this.spec.stages.length - 1;
      let child: ChildProcess;
      try {
        child = spawn(spec.argv[0] ?? '', spec.argv.slice(1), {
          stdio: [
            previous?.stdout ?? (this.spec.input === 'ignore' ? 'ignore' : 'pipe'),
            isLast ? lastStdout(this.spec.output, outputPipe) : 'pipe',
            spec.stderr === 'inherit' ? 'inherit' : 'pipe',
          ],
          env: spec.env === undefined ? undefined : { ...process.env, ...spec.env },
          shell: false,
        });
      } catch (err) {
        for (const s of this.stages) s.child.kill('SIGKILL');
        previous?.stdout?.destroy();
        throw spawnFailedError(
          spec.argv,
          err instanceof Error ? err : new Error(String(err)),
          index,
        );
      }
      // The child has its own copy of the pipe's read end now. Ours must be closed, or the
      // upstream stage would block on a full pipe instead of getting SIGPIPE when the reader dies.
      previous?.stdout?.destroy();
      this.stages.push(this.track(spec, index, child));
      previous = child;
    }
  }

  private track(spec: StageSpec, index: number, child: ChildProcess): StageState {
    const tail = child.stderr === null ? undefined : new StderrTail();
    if (tail !== undefined) child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    // A read error on the stderr pipe must not crash the process; the exit status still counts.
    child.stderr?.on('error', () => undefined);
    const state: StageState = {
      spec,
      index,
      child,
      tail,
      exit: undefined,
      seq: 0,
      killedByUs: false,
      closed: Promise.resolve(),
    };
    state.closed = watchChild(child, (exit) => {
      state.exit = exit;
      state.seq = ++this.seq;
      if (exit.error !== undefined || exit.code !== 0) this.onFailure();
    });
    return state;
  }

  /**
   * Pipe the in-process input into the first stage and remember whose side failed: an error of
   * the source (a failed download) is a failure of its own; EPIPE or a premature close means the
   * stage closed its stdin, which is judged by the stage's exit status (see `verdict`).
   */
  private feedInput(input: Readable | StdinFeeder, first: StageState): void {
    const stdin = first.child.stdin;
    if (stdin === null) return;
    if (typeof input === 'function') {
      this.feedWith(input, stdin, first);
      return;
    }
    let isStdinGone = false;
    let sourceError: unknown;
    const onStdinGone = (): void => {
      isStdinGone = true;
    };
    stdin.once('error', onStdinGone);
    stdin.once('close', onStdinGone);
    input.once('error', (err) => {
      if (!isStdinGone) sourceError = err;
    });
    this.inputDone = pipeline(input, stdin).catch((err: unknown) => {
      const isPrimary = sourceError !== undefined;
      const error = isPrimary
        ? wrapStreamError(sourceError, 'reading the input of', first.spec.argv)
        : err;
      this.inputFailure = streamFailure({ position: -1, seq: ++this.seq, isPrimary, error });
      if (isPrimary) this.onFailure();
    });
  }

  /**
   * As `feedInput` for a feeder: its rejection while stdin is still open is the source's own
   * failure (primary); one after the stage closed its stdin is judged by the stage's exit.
   */
  private feedWith(feed: StdinFeeder, stdin: Writable, first: StageState): void {
    let isStdinGone = false;
    const onStdinGone = (): void => {
      isStdinGone = true;
    };
    stdin.once('error', onStdinGone);
    stdin.once('close', onStdinGone);
    const fed = feed(stdin).then(() => {
      stdin.end();
      return finished(stdin);
    });
    this.inputDone = fed.catch((err: unknown) => {
      const isPrimary = !isStdinGone;
      stdin.destroy();
      const error = isPrimary ? wrapStreamError(err, 'reading the input of', first.spec.argv) : err;
      this.inputFailure = streamFailure({ position: -1, seq: ++this.seq, isPrimary, error });
      if (isPrimary) this.onFailure();
    });
  }

  private drainOutput(last: StageState, output: Writable): void {
    const stdout = last.child.stdout;
    if (stdout === null) return;
    this.outputDone = pipeline(stdout, output).catch((err: unknown) => {
      if (this.stop !== undefined) return;
      const error = wrapStreamError(err, 'writing the output of', last.spec.argv);
      const position = this.stages.length;
      this.failures.push(streamFailure({ position, seq: ++this.seq, isPrimary: true, error }));
      this.onFailure();
    });
  }

  /** After a failure, give the others a moment to exit on their own, then kill the rest. */
  private onFailure(): void {
    if (this.killTimer !== undefined || this.stop !== undefined) return;
    this.killTimer = setTimeout(() => this.signalAll(), KILL_AFTER_FAILURE_MS);
  }

  private stopAll(kind: 'abort' | 'kill', reason: unknown): void {
    if (this.stop !== undefined) return;
    this.stop = { kind, reason };
    this.signalAll();
  }

  private signalAll(): void {
    for (const s of this.stages) {
      if (s.exit !== undefined) continue;
      s.killedByUs = true;
      s.child.kill('SIGTERM');
    }
    if (this.sigkillTimer !== undefined || this.stages.every((s) => s.exit !== undefined)) return;
    this.sigkillTimer = setTimeout(() => {
      for (const s of this.stages) if (s.exit === undefined) s.child.kill('SIGKILL');
    }, SIGKILL_AFTER_MS);
    this.sigkillTimer.unref();
  }

  private async settle(): Promise<void> {
    await Promise.all(this.stages.map((s) => s.closed));
    await Promise.all([this.inputDone, this.outputDone]);
    clearTimeout(this.killTimer);
    clearTimeout(this.sigkillTimer);
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    const error = this.verdict();
    if (error === undefined) return;
    throw error instanceof Error ? error : new InternalError('pipeline failed', { cause: error });
  }

  /** Which failure to report: see `RunningPipeline.done`. undefined = success. */
  private verdict(): unknown {
    if (this.stop?.kind === 'abort') return this.stop.reason;
    const failures = [...this.failures];
    for (const s of this.stages) {
      const failure = stageFailure({ ...s, argv: s.spec.argv, stderrTail: s.tail?.text() ?? '' });
      if (failure !== undefined) failures.push(failure);
    }
    // The first stage closing its stdin early is fine when it then exited 0.
    const input = this.inputFailure;
    if (input !== undefined && (input.isPrimary || this.stages[0]?.exit?.code !== 0)) {
      failures.push(input);
    }
    const cause = primaryCause(failures);
    if (cause !== undefined) return cause.error;
    if (this.stop !== undefined) return this.stop.reason;
    return likeliestConsequence(failures)?.error;
  }

  private quoted(): string {
    return quotePipeline(this.spec.stages.map((s) => s.argv));
  }
}

/** The last stage's stdout as spawn's stdio entry. */
function lastStdout(
  output: PipelineSpec['output'],
  pipe: PipeEnds | undefined,
): 'inherit' | 'pipe' | number {
  if (pipe !== undefined) return pipe.writeFd;
  return output === 'inherit' ? 'inherit' : 'pipe';
}

function wrapStreamError(err: unknown, doing: string, argv: readonly string[]): unknown {
  if (err instanceof Z3Error) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CommandFailedError(`${doing} ${quoteCommand(argv)} failed: ${message}`, {
    cause: err,
  });
}

/**
 * Keep `stream` from being drained while nobody reads it: listening for 'readable' stops Node
 * from resuming it; the hold is let go as soon as a reader attaches ('data' or 'readable'), so
 * the reader sees every byte in order and a 'data' reader is not left paused.
 */
function holdUntilRead(stream: Readable): void {
  const hold = (): void => undefined;
  const release = (event: string | symbol): void => {
    if (event !== 'data' && event !== 'readable') return;
    stream.off('newListener', release);
    stream.off('readable', hold);
  };
  stream.on('readable', hold);
  stream.on('newListener', release);
}
