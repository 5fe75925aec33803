/**
 * Run one command to completion and collect its output, for commands with small output such as
 * `zfs list` or `zfs send -nvP`. Same error anatomy as the pipeline runner.
 */
import { spawn } from 'node:child_process';
import { watchChild, type ChildExit } from './child.js';
import {
  ProgramNotFoundError,
  spawnFailedError,
  StageFailedError,
  StderrTail,
} from './stage-error.js';
import { findProgram } from './which.js';

export interface RunCommandOptions {
  /** Written to the command's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Aborting kills the command (SIGTERM); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Extra environment (merged over process.env). */
  env?: Record<string, string>;
}

/** Everything the command wrote, decoded as UTF-8. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** The shape of `runCommand`, so callers can take another runner (e.g. one that goes over ssh). */
export type CommandRunner = (
  argv: readonly string[],
  options?: RunCommandOptions,
) => Promise<CommandOutput>;

/**
 * Resolves with the output when the command exits 0. Rejects with a ProgramNotFoundError before
 * spawning when argv[0] is not on PATH, with a StageFailedError (exit code or signal, stderr
 * tail) when it fails, or with the signal's reason when aborted. Stdin closed early by the
 * command (EPIPE) is ignored: the exit status decides.
 */
export async function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandOutput> {
  const { input, signal, env } = options;
  const program = argv[0] ?? '';
  if (findProgram(program, { path: env?.['PATH'] }) === undefined)
    throw new ProgramNotFoundError(argv);
  signal?.throwIfAborted();
  const child = spawn(program, argv.slice(1), {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: env === undefined ? undefined : { ...process.env, ...env },
    shell: false,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  if (input !== undefined && child.stdin !== null) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  }
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let exit: ChildExit = { code: null, signal: null };
  try {
    await watchChild(child, (e) => (exit = e));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted === true) throw signal.reason;
  if (exit.error !== undefined) throw spawnFailedError(argv, exit.error);
  const out = {
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
  if (exit.code === 0) return out;
  const tail = new StderrTail();
  tail.push(Buffer.from(out.stderr));
  throw new StageFailedError({
    command: argv,
    exitStatus: exit.code,
    signal: exit.signal,
    stderrTail: tail.text(),
  });
}
