/**
 * `--all`, `--recursive` and `--jobs`, shared by backup, status, prune and verify: the options
 * and their raw values (src/commands/for-each-dataset.ts runs them).
 */
import type { Command } from 'commander';
import type { GlobalFlags } from '../commands/context.js';
import {
  runForEachDataset,
  type EachDatasetFlags,
  type ForEachDatasetInput,
} from '../commands/for-each-dataset.js';
import { defaultPorts } from '../commands/ports.js';
import type { MainContext } from './run-main.js';

/** Add the options to `command` (before its action). */
export function addEachDatasetOptions(command: Command): Command {
  return command
    .option(
      '--all',
      'run on every dataset in DATASETS and every [fs:<dataset>] section, one after another; ' +
        'a summary on stderr, exit code the worst',
    )
    .option('--recursive', 'run on the dataset and each of its children, each with its own chain')
    .option('--jobs <N>', 'with --all or --recursive: run N datasets at a time (default 1)');
}

/** The options' raw values. */
export function eachDatasetFlags(opts: Record<string, unknown>): EachDatasetFlags {
  const jobs = opts['jobs'];
  return {
    all: opts['all'] === true,
    recursive: opts['recursive'] === true,
    jobs: typeof jobs === 'string' ? jobs : undefined,
  };
}

/**
 * Run a subcommand's action through `runForEachDataset`: once as before, or once per dataset
 * when `cmd` has `--all` or `--recursive`. `run` gets the global flags of one dataset's run.
 */
export function runEachDataset(
  input: {
    command: string;
    cmd: Command;
    ctx: MainContext;
    globalFlags: (c: Command) => GlobalFlags;
  },
  run: ForEachDatasetInput['run'],
): Promise<number> {
  return runForEachDataset(
    {
      command: input.command,
      flags: input.globalFlags(input.cmd),
      each: eachDatasetFlags(input.cmd.opts()),
      run,
    },
    defaultPorts(input.ctx),
  );
}
