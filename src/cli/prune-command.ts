/**
 * The `z3 prune` subcommand: its options and their mapping to `runPrune` (raw strings, no
 * defaults: KEEP_* from the environment and the config file apply when a flag is absent).
 */
import type { Command } from 'commander';
import { addEachDatasetOptions, runEachDataset } from './each-dataset-options.js';
import { runPrune } from '../commands/prune.js';
import { stringOptions } from './args.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import type { SubcommandInput } from './subcommand.js';

/** Add `prune` to `program`; `globalFlags` reads the options every subcommand shares. */
export function addPruneCommand(input: SubcommandInput): void {
  addEachDatasetOptions(input.program.command('prune'))
    .description(
      'delete the backups a retention policy does not keep (restic forget semantics, chain-aware)',
    )
    .option('--keep-last <N>', 'keep the N newest backups (KEEP_LAST)')
    .option('--keep-hourly <N>', 'keep the newest backup of each of the last N hours (KEEP_HOURLY)')
    .option('--keep-daily <N>', 'keep the newest backup of each of the last N days (KEEP_DAILY)')
    .option('--keep-weekly <N>', 'keep the newest backup of each of the last N weeks (KEEP_WEEKLY)')
    .option('--keep-monthly <N>', 'same for months (KEEP_MONTHLY); N may be unlimited')
    .option('--keep-yearly <N>', 'same for years (KEEP_YEARLY); N may be unlimited')
    .option(
      '--keep-within <DURATION>',
      'keep backups within 1y6m, 30d, 12h… of the newest (KEEP_WITHIN)',
    )
    .option('--broken', 'also delete broken backups (missing parent, parent broken, cycle)')
    .option(
      '--dry-run',
      'print the plan (kept with the rules that keep them, deleted, bytes freed)',
    )
    .option('--verbose', 'show the time of each backup and where it came from')
    .option(
      '--json',
      'JSON Lines events on stdout instead of the plan lines (README "JSON events")',
    )
    .option('--wait', 'wait for a running backup or prune of the dataset (default: exit 2)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const s = stringOptions(opts);
      const keep = {
        keepLast: s('keepLast'),
        keepHourly: s('keepHourly'),
        keepDaily: s('keepDaily'),
        keepWeekly: s('keepWeekly'),
        keepMonthly: s('keepMonthly'),
        keepYearly: s('keepYearly'),
        keepWithin: s('keepWithin'),
      };
      const flags = {
        keep,
        broken: opts['broken'] === true,
        dryRun: opts['dryRun'] === true,
        verbose: opts['verbose'] === true,
        json: opts['json'] === true,
        wait: opts['wait'] === true,
      };
      const { ctx, globalFlags } = input;
      input.setExit(
        await runEachDataset({ command: 'prune', cmd, ctx, globalFlags }, (global, ports) =>
          runPrune({ ...global, ...flags }, ports),
        ),
      );
    });
}
