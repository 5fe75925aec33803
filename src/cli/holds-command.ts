/** The `z3 holds` subcommand: its options and their mapping to `runHolds`. */
import type { Command } from 'commander';
import { runHolds } from '../commands/holds.js';
import { defaultPorts } from '../commands/ports.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import type { SubcommandInput } from './subcommand.js';

/** Add `holds` to `program`; `globalFlags` reads the options every subcommand shares. */
export function addHoldsCommand(input: SubcommandInput): void {
  input.program
    .command('holds')
    .description(
      "list z3's holds on the dataset's snapshots for this target (tag z3:<target id>): the newest backup's, or stale",
    )
    .option('--release-stale', 'release the holds not on the newest backed-up snapshot')
    .option('--wait', 'with --release-stale: wait for a running backup (default: exit 2)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const flags = {
        ...input.globalFlags(cmd),
        releaseStale: opts['releaseStale'] === true,
        wait: opts['wait'] === true,
      };
      input.setExit(await runHolds(flags, defaultPorts(input.ctx)));
    });
}
