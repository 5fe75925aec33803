/**
 * The `z3 cleanup` subcommand: its options and their mapping to `runCleanup` (raw strings; the
 * default `--older-than` is the command's, DEFAULT_OLDER_THAN).
 */
import type { Command } from 'commander';
import { DEFAULT_OLDER_THAN, runCleanup } from '../commands/cleanup.js';
import { defaultPorts } from '../commands/ports.js';
import { stringOptions } from './args.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import type { SubcommandInput } from './subcommand.js';

/** Add `cleanup` to `program`; `globalFlags` reads the options every subcommand shares. */
export function addCleanupCommand(input: SubcommandInput): void {
  input.program
    .command('cleanup')
    .description(
      'abort stale pending uploads under the prefix (S3 multipart uploads, BACKUP_DIR temporaries) ' +
        'and remove orphaned segment directories (segments of a backup never committed); ' +
        'those a journal in STATE_DIR names are kept for the next backup to resume',
    )
    .option(
      '--older-than <DURATION>',
      'abort only uploads started, remove only segment directories last written, at least this ' +
        `long ago (younger ones may belong to a backup running now): 0 (all), 90m, 36h, 7d (default ${DEFAULT_OLDER_THAN})`,
    )
    .option('--dry-run', 'show what would be aborted or removed and how many bytes; change nothing')
    .option('--json', 'JSON Lines events on stdout instead of the lines (README "JSON events")')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const flags = {
        ...input.globalFlags(cmd),
        olderThan: stringOptions(opts)('olderThan'),
        dryRun: opts['dryRun'] === true,
        json: opts['json'] === true,
      };
      input.setExit(await runCleanup(flags, defaultPorts(input.ctx)));
    });
}
