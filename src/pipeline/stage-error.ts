/**
 * The anatomy of a failed process, shared by the pipeline runner and `runCommand`: the command
 * (quoted as a shell would show it), its exit code or signal, and the tail of its stderr.
 */
import { CommandFailedError } from '../errors.js';
import { quoteCommand } from '../ui/shell-quote.js';
import { installHint } from './which.js';

/** How much of a stage's stderr is kept: the last 8 KiB, at most the last 20 lines. */
export const STDERR_TAIL_BYTES = 8 * 1024;
export const STDERR_TAIL_LINES = 20;
/** How many of the last stderr lines go into the one-line error message. */
const MESSAGE_LINES = 3;
const MESSAGE_CHARS = 400;

/**
 * A ring buffer over a stream of stderr chunks: memory stays at ~8 KiB plus one chunk however
 * much a stage writes, and `text()` gives the complete last lines.
 */
export class StderrTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    let first = this.chunks[0];
    while (
      first !== undefined &&
      this.chunks.length > 1 &&
      this.size - first.length >= STDERR_TAIL_BYTES
    ) {
      this.chunks.shift();
      this.size -= first.length;
      this.dropped = true;
      first = this.chunks[0];
    }
  }

  /** The last lines (at most 20, 8 KiB), without a trailing newline; '' when nothing was written. */
  text(): string {
    let buf = Buffer.concat(this.chunks);
    let cut = this.dropped;
    if (buf.length > STDERR_TAIL_BYTES) {
      buf = buf.subarray(buf.length - STDERR_TAIL_BYTES);
      cut = true;
    }
    let text = buf.toString('utf8');
    // The first line of a cut buffer is a fragment: drop it unless it is all we have.
    const newline = text.indexOf('\n');
    if (cut && newline >= 0 && newline < text.length - 1) text = text.slice(newline + 1);
    const lines = text.replace(/\n+$/, '').split('\n');
    return lines.slice(-STDERR_TAIL_LINES).join('\n');
  }
}

/** The last few non-empty stderr lines on one line, for an error message. */
export function summarizeStderr(tail: string): string {
  const lines = tail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const summary = lines.slice(-MESSAGE_LINES).join('; ');
  return summary.length > MESSAGE_CHARS ? `…${summary.slice(-MESSAGE_CHARS)}` : summary;
}

export interface StageFailure {
  /** The argv of the failed process. */
  command: readonly string[];
  /** Exit code, or null when the process was killed by a signal or never ran. */
  exitStatus: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of its stderr ('' when not captured). */
  stderrTail: string;
  /** Position in the pipeline (0-based); undefined for a single command. */
  stageIndex?: number;
}

/**
 * A process exited non-zero, was killed by a signal, or could not be started. Exit code 4 like
 * every CommandFailedError; the fields let callers react to a specific failure (e.g. `zfs list`
 * saying `dataset does not exist`) without parsing the message.
 */
export class StageFailedError extends CommandFailedError {
  readonly command: readonly string[];
  readonly exitStatus: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  readonly stageIndex: number | undefined;
  /** True when the program was not found on PATH (nothing was spawned). */
  readonly isNotFound: boolean;

  constructor(
    failure: StageFailure,
    options: { message?: string; hint?: string; cause?: unknown } = {},
  ) {
    const { message, ...rest } = options;
    super(message ?? describeFailure(failure), rest);
    this.command = failure.command;
    this.exitStatus = failure.exitStatus;
    this.signal = failure.signal;
    this.stderrTail = failure.stderrTail;
    this.stageIndex = failure.stageIndex;
    this.isNotFound = false;
  }
}

/** `<prog>: command not found`, with an install hint; raised before anything is spawned. */
export class ProgramNotFoundError extends StageFailedError {
  override readonly isNotFound = true;
  readonly program: string;

  constructor(command: readonly string[], stageIndex?: number) {
    const program = command[0] ?? '';
    const failure: StageFailure = { command, exitStatus: null, signal: null, stderrTail: '' };
    if (stageIndex !== undefined) failure.stageIndex = stageIndex;
    super(failure, { message: `${program}: command not found`, hint: installHint(program) });
    this.program = program;
  }
}

/** A process that could not be started for another reason than "not found" (EACCES, E2BIG…). */
export function spawnFailedError(
  command: readonly string[],
  cause: Error,
  stageIndex?: number,
): StageFailedError {
  const failure: StageFailure = { command, exitStatus: null, signal: null, stderrTail: '' };
  if (stageIndex !== undefined) failure.stageIndex = stageIndex;
  return new StageFailedError(failure, {
    message: `${quoteCommand(command)}: cannot start: ${cause.message}`,
    cause,
  });
}

function describeFailure(f: StageFailure): string {
  const summary = summarizeStderr(f.stderrTail);
  const why = summary === '' ? '' : `: ${summary}`;
  const cmd = quoteCommand(f.command);
  if (f.signal !== null) {
    const pipe = f.signal === 'SIGPIPE' ? ' (a later stage stopped reading its output)' : '';
    return `${cmd} was killed by ${f.signal}${pipe}${why}`;
  }
  return `${cmd} exited with code ${f.exitStatus ?? 'unknown'}${why}`;
}
