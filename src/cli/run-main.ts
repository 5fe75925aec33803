import { EXIT, InterruptedError, reportedError, Z3Error } from '../errors.js';
import { isBrokenPipe, safeSink, type SafeSink } from '../ui/safe-sink.js';
import { redact } from './secrets.js';

/** What every command receives from the entry point. */
export interface MainContext {
  /** Aborted (with an InterruptedError as reason) on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  argv: string[];
}

/**
 * Run a command's main function as the process: install signal handling, map the outcome to an
 * exit code, print failures as one line (`<program>: <message>`, optional `hint:` line), and
 * exit. Stack traces only with `--debug` or `Z3_DEBUG=1`. This is the only place that calls
 * `process.exit`.
 *
 * Why abort instead of exiting on the first signal: an upload in flight must abort its multipart
 * upload before the process goes, or a half-written backup stays behind. A second signal exits
 * at once.
 *
 * Why output failures never exit: the same upload would be left pending. A closed stderr (the
 * log reader gone) is ignored; stdout's first failure is kept and judged when the run is over
 * (`outputOutcome`).
 */
export async function runMain(
  program: string,
  main: (ctx: MainContext) => Promise<number | void>,
): Promise<never> {
  const argv = process.argv.slice(2);
  // The AWS SDK warns on every run under Node 20 that future SDK releases need Node 22; the
  // installed SDK is pinned by the lockfile, and a cron job must not mail that every night.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const debug = argv.includes('--debug') || process.env['Z3_DEBUG'] === '1';
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(EXIT.INTERRUPTED);
    controller.abort(new InterruptedError(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // a dropped ssh session: clean up as for Ctrl-C rather than die with an upload pending
  process.on('SIGHUP', onSignal);
  const stderr = safeSink(process.stderr);
  let stdoutFailure: Error | undefined;
  process.stdout.on('error', (err: Error) => {
    stdoutFailure ??= err;
  });

  let code: number;
  try {
    code = (await main({ signal: controller.signal, argv })) ?? EXIT.OK;
  } catch (err) {
    code = reportError({ program, err, debug, signal: controller.signal, stderr });
  }
  await flushStdout();
  process.exit(outputOutcome({ program, code, stdoutFailure, stderr }));
}

/**
 * The exit code once stdout failed. EPIPE (`z3_get … | head`, a reader that left) is the
 * reader's choice: the run's own code stands. Any other write error (EIO, a full disk) lost
 * output the caller relies on: a run that would exit 0 says so and exits 4; what it uploaded
 * stays committed.
 */
function outputOutcome(input: {
  program: string;
  code: number;
  stdoutFailure: Error | undefined;
  stderr: SafeSink;
}): number {
  const { stdoutFailure, code } = input;
  if (stdoutFailure === undefined || isBrokenPipe(stdoutFailure) || code !== EXIT.OK) return code;
  input.stderr.write(
    redact(`${input.program}: cannot write to standard output: ${stdoutFailure.message}\n`),
  );
  return EXIT.COMMAND_FAILED;
}

function reportError(input: {
  program: string;
  err: unknown;
  debug: boolean;
  signal: AbortSignal;
  stderr: SafeSink;
}): number {
  const { program, err, debug, signal, stderr } = input;
  const known = reportedError(err, signal);
  if (known instanceof Z3Error) {
    stderr.write(redact(`${program}: ${known.message}\n`));
    if (known.hint !== undefined) stderr.write(redact(`hint: ${known.hint}\n`));
    if (debug) stderr.write(redact(`${formatStack(known)}\n`));
    return known.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(redact(`${program}: internal error: ${firstLine(message)}\n`));
  if (debug) stderr.write(redact(`${formatStack(err)}\n`));
  else stderr.write('hint: run again with --debug for details\n');
  return EXIT.INTERNAL;
}

function formatStack(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e instanceof Error) {
    parts.push(e.stack ?? e.message);
    e = e.cause;
  }
  return parts.join('\ncaused by: ');
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? '';
}

function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.writableLength === 0) resolve();
    else process.stdout.write('', () => resolve());
  });
}
