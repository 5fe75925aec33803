import { createReadStream, fstatSync, type Stats } from 'node:fs';
import { Command, Option } from 'commander';
import { parseCommandLine, sizeArg, stringOptions, wholeNumberArg } from '../cli/args.js';
import { EXIT_CODES_HELP } from '../cli/exit-codes-help.js';
import type { MainContext } from '../cli/run-main.js';
import { loadConfigSources } from '../config/load.js';
import { resolveSettings, type SettingFlags } from '../config/settings.js';
import { formatMiB } from '../config/sizes.js';
import { ConfigError, UsageError } from '../errors.js';
import { createS3Store } from '../storage/s3/store.js';
import { choosePartSize } from '../transfer/part-size.js';
import { fdReader } from '../transfer/fd-reader.js';
import { uploadStream, type UploadSource } from '../transfer/uploader.js';
import { createProgress } from '../ui/progress.js';

/** Raw `pput` options as typed; defaults come from the config layer. */
export interface PputOptions {
  name: string;
  config: string | undefined;
  backupDir?: string | undefined;
  chunkSize: string | undefined;
  /** `--estimated` in bytes. */
  estimated: number | undefined;
  fileDescriptor: number;
  concurrency: string | undefined;
  storageClass: string | undefined;
  metadata: string[];
  progress: boolean;
  quiet: boolean;
}

const HELP_AFTER = `
Memory: at most max(CONCURRENCY, 2) x part size bytes are buffered.
Part size: --chunk-size (CHUNK_SIZE, default 256M), or with --estimated N
floor(max(N * 1.05 / 9999, 5M)) so that N bytes fit in S3's 10,000 parts.
Malformed --metadata is a usage error (exit 2; the original exited 1).
${EXIT_CODES_HELP}`;

/** `pput [options] name`: the `pput` program. Failures throw a Z3Error that runMain prints. */
export async function runPput(ctx: MainContext): Promise<number> {
  const program = new Command('pput')
    .description(
      'read a stream (stdin by default) and upload it to BUCKET/<name> as a multipart upload',
    )
    .argument('<name>', 'the key to write (no S3_PREFIX applied)')
    .addOption(
      new Option(
        '-s, --chunk-size <SIZE>',
        'part size, e.g. 64M (CHUNK_SIZE, default 256M)',
      ).conflicts('estimated'),
    )
    .addOption(
      new Option('--estimated <SIZE>', 'expected input size; picks the part size').argParser(
        sizeArg(),
      ),
    )
    .addOption(
      new Option('--file-descriptor <N>', 'read from this file descriptor (default 0, stdin)')
        .argParser(wholeNumberArg(0, 2 ** 31 - 1))
        .default(0),
    )
    .option('--concurrency <N>', 'parts uploaded in parallel (CONCURRENCY, default 32)')
    .option('--metadata <key=value>', 'user metadata (repeatable)', collect, [] as string[])
    .option(
      '--storage-class <CLASS>',
      'S3 storage class (S3_STORAGE_CLASS; default STANDARD_IA on AWS, none with HOST)',
    )
    .addOption(new Option('--progress', 'show progress on stderr').conflicts('quiet'))
    .addOption(new Option('--quiet', 'print nothing on success').conflicts('progress'))
    .option('--backup-dir <DIR>', 'a local directory as the target instead of BUCKET (BACKUP_DIR)')
    .option('--config <FILE>', 'config file (default $Z3_CONFIG or /etc/z3_backup/z3.conf)')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', HELP_AFTER)
    .action(async (name: string, o: Record<string, unknown>) => {
      const str = stringOptions(o);
      await putStream(
        {
          name,
          config: str('config'),
          backupDir: str('backupDir'),
          chunkSize: str('chunkSize'),
          estimated: typeof o['estimated'] === 'number' ? o['estimated'] : undefined,
          fileDescriptor: typeof o['fileDescriptor'] === 'number' ? o['fileDescriptor'] : 0,
          concurrency: str('concurrency'),
          storageClass: str('storageClass'),
          metadata: Array.isArray(o['metadata']) ? (o['metadata'] as string[]) : [],
          progress: o['progress'] === true,
          quiet: o['quiet'] === true,
        },
        ctx,
      );
    });
  await parseCommandLine(program, ctx.argv);
  return 0;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--metadata key=value` pairs, split at the first `=` (so `dana=are=pere` is `dana` →
 * `are=pere`). Keys are lower-cased, as S3 stores them.
 *
 * @throws UsageError `malformed metadata '<m>'; should be key=value`
 */
export function parseMetadata(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`malformed metadata '${pair}'; should be key=value`);
    out[pair.slice(0, eq).toLowerCase()] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Upload the input to `<BUCKET>/<name>`. Prints the original's banner on stderr and its JSON
 * result on stdout (both unless `--quiet`). Nothing is committed unless every byte was read
 * and uploaded; on any failure or signal the multipart upload is aborted.
 */
export async function putStream(options: PputOptions, ctx: MainContext): Promise<void> {
  const metadata = parseMetadata(options.metadata);
  const flags: SettingFlags = {};
  if (options.chunkSize !== undefined) flags.chunkSize = options.chunkSize;
  if (options.concurrency !== undefined) flags.concurrency = options.concurrency;
  if (options.storageClass !== undefined) flags.storageClass = options.storageClass;
  if (options.backupDir !== undefined) flags.backupDir = options.backupDir;
  const settings = resolveSettings(loadConfigSources({ configFlag: options.config }), flags);
  const bucket = settings.bucket;
  if (bucket === undefined) {
    throw new ConfigError('BUCKET is not set', {
      hint: 'set BUCKET in [main] of the config file or in the environment',
    });
  }
  const partSize = choosePartSize({ chunkSize: settings.chunkSize, estimated: options.estimated });
  const source = openInput(options.fileDescriptor);
  if (!options.quiet) {
    process.stderr.write(
      `starting upload to ${bucket}/${options.name} with chunksize ${formatMiB(partSize)}M ` +
        `using ${settings.concurrency} workers\n`,
    );
  }
  const progress = createProgress({
    label: `${bucket}/${options.name}`,
    ...(options.estimated !== undefined ? { total: options.estimated } : {}),
    stream: process.stderr,
    enabled: options.progress,
  });
  try {
    const result = await uploadStream({
      source,
      port: createS3Store(settings, bucket),
      key: options.name,
      metadata,
      storageClass: settings.storageClass,
      partSize,
      concurrency: settings.concurrency,
      maxRetries: settings.maxRetries,
      signal: ctx.signal,
      onProgress: (bytes) => progress.add(bytes),
    });
    progress.finish();
    if (!options.quiet) {
      process.stdout.write(`{"status": "success", "etag": ${JSON.stringify(result.etag)}}\n`);
    }
  } finally {
    // Also on failure: ends a live line, so the error message starts on its own line.
    progress.finish();
  }
}

/**
 * stdin, or the given descriptor. A regular file is read with `fs.read` straight into the part
 * buffers (src/transfer/fd-reader.ts says why only a file); a pipe, socket or terminal as a
 * stream.
 * Checked before the upload starts, so a descriptor that is not open is a usage error, not an
 * aborted upload.
 */
function openInput(fd: number): UploadSource {
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`--file-descriptor ${fd}: cannot read it (${code})`, { cause: err });
  }
  if (stats.isFile()) return fdReader(fd);
  return fd === 0 ? process.stdin : createReadStream('', { fd, highWaterMark: 1024 * 1024 });
}
