import { Command } from 'commander';
import { EXIT_CODES_HELP } from '../cli/exit-codes-help.js';
import { parseCommandLine, stringOptions } from '../cli/args.js';
import type { MainContext } from '../cli/run-main.js';
import { loadConfigSources } from '../config/load.js';
import { resolveSettings, type SettingFlags } from '../config/settings.js';
import { StorageError } from '../errors.js';
import { createS3Store } from '../storage/s3/store.js';
import { downloadObject } from '../transfer/downloader.js';
import { createProgress, type Progress } from '../ui/progress.js';
import { requireBucket } from './context.js';

/** Raw `z3_get` options, as typed (no defaults: those come from the config layer). */
export interface GetOptions {
  name: string;
  config: string | undefined;
  backupDir?: string | undefined;
  concurrency: string | undefined;
  chunkSize: string | undefined;
  progress: boolean;
}

/**
 * `z3_get [options] name`: the `z3_get` program. Resolves to the exit code; failures throw a
 * Z3Error that runMain prints.
 */
export async function runZ3Get(ctx: MainContext): Promise<number> {
  const program = new Command('z3_get')
    .description('download one S3 key (the full key, no S3_PREFIX applied) to stdout')
    .argument('<name>', 'the key to download')
    .option('--config <FILE>', 'config file (default $Z3_CONFIG or /etc/z3_backup/z3.conf)')
    .option('--backup-dir <DIR>', 'a local directory as the source instead of BUCKET (BACKUP_DIR)')
    .option('--concurrency <N>', 'parallel ranged downloads (CONCURRENCY, default 32)')
    .option('--chunk-size <SIZE>', 'bytes per ranged download, e.g. 64M (CHUNK_SIZE, default 256M)')
    .option('--progress', 'show progress on stderr')
    .option('--debug', 'show stack traces on errors')
    .addHelpText(
      'after',
      '\nMemory: at most (CONCURRENCY + 1) x CHUNK_SIZE bytes are buffered.\n' + EXIT_CODES_HELP,
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
          progress: opts['progress'] === true,
        },
        ctx,
      );
    });
  await parseCommandLine(program, ctx.argv);
  return 0;
}

/**
 * Download `options.name` from BUCKET to stdout, in order, with CONCURRENCY ranged GETs of
 * CHUNK_SIZE. Unlike the original (spec 13.6), a missing key or any failure is an error on
 * stderr and a non-zero exit, and nothing more reaches stdout after it.
 *
 * @throws StorageError (exit 5) `no such object s3://<bucket>/<key>` and any failed request;
 *   ConfigError (exit 2) when BUCKET is not set or a setting is invalid.
 */
export async function getToStdout(options: GetOptions, ctx: MainContext): Promise<void> {
  const sources = loadConfigSources({ configFlag: options.config });
  const flags: SettingFlags = {};
  if (options.concurrency !== undefined) flags.concurrency = options.concurrency;
  if (options.chunkSize !== undefined) flags.chunkSize = options.chunkSize;
  if (options.backupDir !== undefined) flags.backupDir = options.backupDir;
  const settings = resolveSettings(sources, flags);
  const bucket = requireBucket(settings);
  const displayName = `s3://${bucket}/${options.name}`;
  let progress: Progress | undefined;
  try {
    await downloadObject({
      reader: createS3Store(settings, bucket),
      key: options.name,
      displayName,
      chunkSize: settings.chunkSize,
      concurrency: settings.concurrency,
      maxRetries: settings.maxRetries,
      signal: ctx.signal,
      sink: process.stdout,
      isSinkDoneAtCallback: true,
      onStart: (size) => {
        progress = createProgress({
          label: displayName,
          total: size,
          stream: process.stderr,
          enabled: options.progress,
        });
      },
      onProgress: (bytes) => progress?.add(bytes),
    });
  } catch (err) {
    if (err instanceof StorageError && err.isNotFound && err.message.startsWith('no such')) {
      throw new StorageError(err.message, {
        isNotFound: true,
        cause: err,
        hint: 'z3_get takes the full key, S3_PREFIX included, e.g. z3-backup/tank/data@snap',
      });
    }
    throw err;
  } finally {
    // Also on failure: ends a live line, so the error message starts on its own line.
    progress?.finish();
  }
}
