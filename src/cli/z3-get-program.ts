import { Command } from 'commander';
import { defaultPorts } from '../commands/ports.js';
import { getToStdout } from '../commands/z3-get.js';
import { parseCommandLine, stringOptions } from './args.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import type { MainContext } from './run-main.js';

/**
 * `z3_get [options] name`: the `z3_get` program. Resolves to the exit code; failures throw a
 * Z3Error that runMain prints.
 */
export async function runZ3Get(ctx: MainContext): Promise<number> {
  const program = new Command('z3_get')
    .description('download one S3 key (the full key, no S3_PREFIX applied) to stdout')
    .argument('<name>', 'the key to download')
    .option('--backup-dir <DIR>', 'a local directory as the source instead of BUCKET (BACKUP_DIR)')
    .option('--config <FILE>', 'config file (default $Z3_CONFIG or /etc/z3_backup/z3.conf)')
    .option('--concurrency <N>', 'parallel ranged downloads (CONCURRENCY, default 32)')
    .option(
      '--chunk-size <SIZE>',
      'bytes per ranged download, e.g. 64M (CHUNK_SIZE; default 16M for downloads)',
    )
    .option(
      '--memory <SIZE>',
      'bytes of range buffers it may hold, e.g. 256M (MEMORY_LIMIT, default 1G)',
    )
    .option(
      '--limit-download <RATE>',
      'download at most RATE bytes per second, e.g. 20M (LIMIT_DOWNLOAD)',
    )
    .option('--progress', 'show progress on stderr')
    .option('--debug', 'show stack traces on errors')
    .addHelpText(
      'after',
      '\nMemory: at most min(CONCURRENCY + 1, max(2, floor(MEMORY_LIMIT / CHUNK_SIZE))) x CHUNK_SIZE\n' +
        'bytes are buffered; fewer than 2 ranges fit: exit 2.\n' +
        EXIT_CODES_HELP,
    )
    .action(async (name: string, opts: Record<string, string | boolean | undefined>) => {
      const str = stringOptions(opts);
      await getToStdout(
        {
          name,
          config: str('config'),
          backupDir: str('backupDir'),
          concurrency: str('concurrency'),
          chunkSize: str('chunkSize'),
          memory: str('memory'),
          limitDownload: str('limitDownload'),
          progress: opts['progress'] === true,
        },
        defaultPorts(ctx),
      );
    });
  await parseCommandLine(program, ctx.argv);
  return 0;
}
