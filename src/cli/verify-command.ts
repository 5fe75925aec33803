/**
 * The `z3 verify` subcommand: its options and their mapping to `runVerify` (raw strings, no
 * defaults: CONCURRENCY and CHUNK_SIZE from the environment and the config file apply).
 */
import type { Command } from 'commander';
import { addEachDatasetOptions, runEachDataset } from './each-dataset-options.js';
import { runVerify } from '../commands/verify.js';
import { stringOptions } from './args.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import type { SubcommandInput } from './subcommand.js';

/** Add `verify` to `program`; `globalFlags` reads the options every subcommand shares. */
export function addVerifyCommand(input: SubcommandInput): void {
  addEachDatasetOptions(input.program.command('verify'))
    .description(
      'check every backup of the dataset on the server (HEAD); --read-data also parses the streams',
    )
    .option('--read-data', 'download, decompress and parse every stream (no zfs needed)')
    .option(
      '--read-data-subset <n/m|p%>',
      'read only group n of m (by a hash of the key; 1/m … m/m cover all) or p% of the objects',
    )
    .option('--json', 'JSON Lines events on stdout instead of the table (README "JSON events")')
    .option('--concurrency <N>', 'parallel ranged downloads (CONCURRENCY)')
    .option('--chunk-size <SIZE>', 'download range size (CHUNK_SIZE; default 16M for downloads)')
    .option(
      '--memory <SIZE>',
      'bytes of range buffers a run may hold, e.g. 256M (MEMORY_LIMIT, default 1G)',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const s = stringOptions(opts);
      const flags = {
        readData: opts['readData'] === true,
        readDataSubset: s('readDataSubset'),
        json: opts['json'] === true,
        concurrency: s('concurrency'),
        chunkSize: s('chunkSize'),
        memory: s('memory'),
      };
      const { ctx, globalFlags } = input;
      input.setExit(
        await runEachDataset({ command: 'verify', cmd, ctx, globalFlags }, (global, ports) =>
          runVerify({ ...global, ...flags }, ports),
        ),
      );
    });
}
