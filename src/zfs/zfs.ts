/**
 * The ZFS adapter: the few `zfs` commands z3 runs for information (listing, existence, size
 * estimates). Streams (`zfs send`, `zfs receive`) run in the pipeline runner with the argv
 * builders of ./argv.ts, re-exported here so callers import one module.
 */
import { CommandFailedError, UsageError } from '../errors.js';
import { runCommand, type CommandRunner, type RunCommandOptions } from '../pipeline/run-command.js';
import { StageFailedError } from '../pipeline/stage-error.js';
import { quoteCommand } from '../ui/shell-quote.js';
import { datasetExistsArgv, listDatasetTreeArgv, listSnapshotsArgv } from './argv.js';
import { parseSendEstimate, parseZfsList, type ZfsSnapshot } from './parse.js';

export * from './argv.js';
export * from './parse.js';

export interface ZfsOptions {
  /** How to run the command; default `runCommand` (local). A caller may run it over ssh. */
  run?: CommandRunner;
  /** Aborting kills the command; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What `zfs` says when the dataset named on its command line is absent. */
const DOES_NOT_EXIST = /dataset does not exist/;

/**
 * The snapshots of exactly `dataset` (not of its children), oldest first. A dataset that does
 * not exist is a UsageError (`dataset 'tank/x' does not exist`); any other failure of `zfs list`
 * is the command's StageFailedError.
 */
export async function listSnapshots(
  dataset: string,
  options: ZfsOptions = {},
): Promise<ZfsSnapshot[]> {
  const stdout = await listOf(dataset, listSnapshotsArgv(dataset), options);
  // -d 1 lists only this dataset's snapshots; the filter guards against a zfs that differs.
  return parseZfsList(stdout).filter((s) => s.name.startsWith(`${dataset}@`));
}

/**
 * `dataset` and every filesystem and volume below it, parents first (`zfs list -r`), for
 * `--recursive`. A dataset that does not exist is a UsageError, as for `listSnapshots`.
 */
export async function listDatasetTree(
  dataset: string,
  options: ZfsOptions = {},
): Promise<string[]> {
  const stdout = await listOf(dataset, listDatasetTreeArgv(dataset), options);
  return stdout.split('\n').filter((name) => name === dataset || name.startsWith(`${dataset}/`));
}

/** True iff `zfs list <name>` finds it; false when zfs says it does not exist; else throws. */
export async function datasetExists(name: string, options: ZfsOptions = {}): Promise<boolean> {
  try {
    await run(datasetExistsArgv(name), options);
    return true;
  } catch (err) {
    if (isDoesNotExist(err)) return false;
    throw err;
  }
}

/**
 * Run a `zfs send -nvP …` argv (see `sendEstimateArgv`) and return the estimated stream size in
 * bytes. OpenZFS prints the estimate on stdout for dry runs, older releases on stderr: both are
 * read. Throws a CommandFailedError when neither holds a `size` line.
 */
export async function estimateSendSize(
  argv: readonly string[],
  options: ZfsOptions = {},
): Promise<number> {
  const { stdout, stderr } = await run(argv, options);
  const estimate = parseSendEstimate(stdout) ?? parseSendEstimate(stderr);
  if (estimate === undefined) {
    throw new CommandFailedError(`${quoteCommand(argv)} printed no size estimate`, {
      hint: `expected a line 'size<TAB><bytes>'; it printed: ${JSON.stringify((stdout + stderr).slice(0, 200))}`,
    });
  }
  return estimate.size;
}

/** The stdout of a `zfs list` argv about `dataset`; UsageError when the dataset does not exist. */
async function listOf(dataset: string, argv: string[], options: ZfsOptions): Promise<string> {
  try {
    return (await run(argv, options)).stdout;
  } catch (err) {
    if (isDoesNotExist(err)) {
      throw new UsageError(`dataset '${dataset}' does not exist`, {
        hint: '`zfs list` shows the datasets of this host',
        cause: err,
      });
    }
    throw err;
  }
}

function run(argv: readonly string[], options: ZfsOptions): ReturnType<CommandRunner> {
  const runner = options.run ?? runCommand;
  const runOptions: RunCommandOptions =
    options.signal === undefined ? {} : { signal: options.signal };
  return runner(argv, runOptions);
}

function isDoesNotExist(err: unknown): boolean {
  return err instanceof StageFailedError && DOES_NOT_EXIST.test(err.stderrTail);
}
