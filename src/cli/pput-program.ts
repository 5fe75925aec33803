import { Command, Option } from 'commander';
import { putStream } from '../commands/pput.js';
import { defaultPorts } from '../commands/ports.js';
import { parseCommandLine, sizeArg, stringOptions, wholeNumberArg } from './args.js';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import type { MainContext } from './run-main.js';

const HELP_AFTER = `
Memory: at most max(P, 2) x part size bytes are buffered, P = the parts in flight:
min(CONCURRENCY, max(2, floor(MEMORY_LIMIT / part size))); fewer than 2 fit: exit 2.
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
    .option(
      '--memory <SIZE>',
      'bytes of part buffers a run may hold, e.g. 256M (MEMORY_LIMIT, default 1G)',
    )
    .option(
      '--limit-upload <RATE>',
      'upload at most RATE bytes per second, e.g. 20M (LIMIT_UPLOAD)',
    )
    .option('--metadata <key=value>', 'user metadata (repeatable)', collect, [] as string[])
    .option(
      '--storage-class <CLASS>',
      'S3 storage class (S3_STORAGE_CLASS; default STANDARD_IA on AWS, none with HOST)',
    )
    .option(
      '--resume',
      'keep a journal (STATE_DIR); on failure or signal keep the upload, and take up a pending upload of the same key and part size, verifying its parts',
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
          memory: str('memory'),
          limitUpload: str('limitUpload'),
          storageClass: str('storageClass'),
          metadata: Array.isArray(o['metadata']) ? (o['metadata'] as string[]) : [],
          progress: o['progress'] === true,
          quiet: o['quiet'] === true,
          resume: o['resume'] === true,
        },
        defaultPorts(ctx),
      );
    });
  await parseCommandLine(program, ctx.argv);
  return 0;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
