import { Command, Option } from 'commander';
import { EXIT_CODES_HELP } from './exit-codes-help.js';
import { expandCommandLine, parseCommandLine, stringOptions } from './args.js';
import type { MainContext } from './run-main.js';
import { runStatus } from '../commands/status.js';
import { DEFAULT_CRIT, DEFAULT_WARN, runStatusCheck } from '../commands/status-check.js';
import { runBackup } from '../commands/backup.js';
import { runRestore } from '../commands/restore.js';
import { UsageError } from '../errors.js';
import type { GlobalFlags } from '../commands/context.js';
import { defaultPorts } from '../commands/ports.js';
import { addPruneCommand } from './prune-command.js';
import { addVerifyCommand } from './verify-command.js';
import { addHoldsCommand } from './holds-command.js';
import { addCleanupCommand } from './cleanup-command.js';
import { addEachDatasetOptions, runEachDataset } from './each-dataset-options.js';
import type { SendFlagName } from '../plan/send-flags.js';

/** `z3 backup` options (commander's camel-case names) and the send flag each one sets. */
const SEND_FLAG_OPTIONS: readonly (readonly [string, SendFlagName])[] = [
  ['raw', 'raw'],
  ['compressed', 'compressed'],
  ['largeBlocks', 'large-blocks'],
  ['embed', 'embed'],
  ['props', 'props'],
];

/**
 * The `z3` command line: argv → raw options (no defaults here; defaults live in the config
 * layer), then one command function. Global options are accepted before or after the
 * subcommand, and unambiguous long-option prefixes (`--dry`) keep working as in the original.
 */
export async function runZ3(ctx: MainContext): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  const names = program.commands.map((c) => c.name());
  const expanded = expandCommandLine(program, ctx.argv);
  const wantsHelp = expanded.some((a) => a === '--help' || a === '-h' || a === 'help');
  if (!wantsHelp && !expanded.some((a) => names.includes(a))) {
    process.stderr.write(program.helpInformation());
    throw new UsageError(`a command is required: ${names.join(', ')}`);
  }
  const helpShown = await parseCommandLine(program, ctx.argv);
  return helpShown ? 0 : exitCode;
}

function globalFlags(cmd: Command): GlobalFlags {
  const o = cmd.optsWithGlobals<Record<string, string | boolean | undefined>>();
  const str = stringOptions(o);
  const filesystem = str('filesystem') ?? str('dataset');
  return {
    config: str('config'),
    s3Prefix: str('s3Prefix'),
    filesystem,
    snapshotPrefix: str('snapshotPrefix'),
    backupDir: str('backupDir'),
  };
}

function buildProgram(ctx: MainContext, setExit: (code: number) => void): Command {
  const program = new Command('z3')
    .description(
      'ZFS to S3 backup: status, backup, restore, prune and verify of zfs snapshots in an S3 bucket',
    )
    .option(
      '--s3-prefix <S3_PREFIX>',
      "key prefix in the bucket (default z3-backup/; / = Python z3's empty prefix, keys /<fs@snap>)",
    )
    .option('--filesystem <FILESYSTEM>', 'the ZFS dataset to operate on')
    .option('--dataset <FILESYSTEM>', 'same as --filesystem')
    .option(
      '--snapshot-prefix <SNAPSHOT_PREFIX>',
      'only operate on snapshots that start with this prefix (default zfs-auto-snap:daily)',
    )
    .option('--backup-dir <DIR>', 'a local directory as the target instead of BUCKET (BACKUP_DIR)')
    .option('--config <FILE>', 'config file (default $Z3_CONFIG or /etc/z3_backup/z3.conf)')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError(false);

  addEachDatasetOptions(program.command('status'))
    .description(
      'show snapshots on S3 and locally, with the health of each backup chain; exit 3 when a chain is broken',
    )
    .option('--json', 'one JSON object per row (sizes in bytes) instead of the table')
    .option('--chain-length', 'add a CHAIN column: objects a restore of each backup receives')
    .option('--mode', 'add a MODE column: how each backup was sent (plain, raw, compressed)')
    .addOption(
      new Option(
        '--check',
        'monitoring-plugin check instead of the table: one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
      ).conflicts(['json', 'chainLength', 'mode', 'all', 'recursive']),
    )
    .option(
      '--warn <AGE>',
      `with --check: WARNING when the newest backup is this old (default ${DEFAULT_WARN})`,
    )
    .option('--crit <AGE>', `with --check: CRITICAL when it is this old (default ${DEFAULT_CRIT})`)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      if (opts['check'] === true) {
        const s = stringOptions(opts);
        const thresholds = { warn: s('warn'), crit: s('crit') };
        setExit(await runStatusCheck({ ...globalFlags(cmd), ...thresholds }, defaultPorts(ctx)));
        return;
      }
      if (opts['warn'] !== undefined || opts['crit'] !== undefined) {
        throw new UsageError('--warn and --crit need --check');
      }
      const flags = {
        json: opts['json'] === true,
        chainLength: opts['chainLength'] === true,
        mode: opts['mode'] === true,
      };
      setExit(
        await runEachDataset({ command: 'status', cmd, ctx, globalFlags }, (global, ports) =>
          runStatus({ ...global, ...flags }, ports),
        ),
      );
    });

  addEachDatasetOptions(program.command('backup'))
    .description('back up snapshots to S3: full, or incremental from the latest backed-up one')
    .option('--snapshot <SNAPSHOT>', 'snapshot to back up (the part after @); default the latest')
    .option('--dry-run', 'print the commands that would run; run only the listing and estimates')
    .option('--compressor <NAME>', 'pigz1 (default), pigz4, gpg, zstd, lz4, xz or none')
    .option('--gpg-recipient <RECIPIENT>', 'gpg key for --compressor gpg (default z3_backup)')
    .option('--parseable', 'print "<fs@snap>\\0<bytes>" lines instead of messages')
    .addOption(
      new Option('--json', 'JSON Lines events on stdout (README "JSON events")').conflicts([
        'dryRun',
        'parseable',
      ]),
    )
    .addOption(new Option('--full', 'send a full stream').conflicts('incremental'))
    .addOption(new Option('--incremental', 'send incrementals (the default)').conflicts('full'))
    .option('--concurrency <N>', 'parallel part uploads (CONCURRENCY, default 32)')
    .option('--chunk-size <SIZE>', 'part size, when larger than the estimate needs (CHUNK_SIZE)')
    .option(
      '--segment-size <SIZE>',
      'store a longer stream as several objects of at most SIZE (SEGMENT_SIZE)',
    )
    .option(
      '--storage-class <CLASS>',
      'S3 storage class (S3_STORAGE_CLASS; default STANDARD_IA on AWS, none with HOST)',
    )
    .option(
      '--full-if-older-than <DURATION>',
      "send a full when the chain's full is older than 30d, 1m… (FULL_EVERY)",
    )
    .option('--max-chain <N>', 'send a full when the chain is N backups long (MAX_CHAIN)')
    .option(
      '--limit-upload <RATE>',
      'upload at most RATE bytes per second, e.g. 20M (LIMIT_UPLOAD)',
    )
    .option('-w, --raw', 'zfs send -w: encrypted datasets stay encrypted (SEND_FLAGS raw)')
    .option('-c, --compressed', 'zfs send -c: blocks as compressed on disk (SEND_FLAGS)')
    .option('-L, --large-blocks', 'zfs send -L: blocks larger than 128K (SEND_FLAGS)')
    .option('-e, --embed', 'zfs send -e: embedded data blocks (SEND_FLAGS)')
    .option('-p, --props', 'zfs send -p: with the dataset properties (SEND_FLAGS)')
    .option(
      '--no-hold',
      'do not hold the newest backed-up snapshot nor bookmark it (HOLD = no); see z3 holds',
    )
    .option('--quiet', 'no progress output')
    .option(
      '--metrics-file <FILE>',
      "write Prometheus metrics for node_exporter's textfile collector (METRICS_FILE, *.prom)",
    )
    .option(
      '--wait',
      'wait for a running backup of the same dataset and target (default: exit 2 at once; ' +
        'the locks are in LOCK_DIR)',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const s = stringOptions(opts);
      setExit(
        await runEachDataset({ command: 'backup', cmd, ctx, globalFlags }, (global, ports) =>
          runBackup(
            {
              ...global,
              snapshot: s('snapshot'),
              dryRun: opts['dryRun'] === true,
              compressor: s('compressor'),
              gpgRecipient: s('gpgRecipient'),
              parseable: opts['parseable'] === true,
              mode: opts['full'] === true ? 'full' : 'incremental',
              concurrency: s('concurrency'),
              chunkSize: s('chunkSize'),
              segmentSize: s('segmentSize'),
              storageClass: s('storageClass'),
              fullEvery: s('fullIfOlderThan'),
              maxChain: s('maxChain'),
              limitUpload: s('limitUpload'),
              quiet: opts['quiet'] === true,
              wait: opts['wait'] === true,
              metricsFile: s('metricsFile'),
              json: opts['json'] === true,
              // commander sets hold: true unless --no-hold; only the flag overrides HOLD
              hold: opts['hold'] === false ? false : undefined,
              sendFlags: SEND_FLAG_OPTIONS.filter(([option]) => opts[option] === true).map(
                ([, name]) => name,
              ),
            },
            ports,
          ),
        ),
      );
    });

  program
    .command('restore')
    .description('restore a snapshot from S3 through zfs receive, with the chain it needs')
    .argument('<SNAPSHOT>', 'snapshot to restore (the part after @)')
    .option('--dry-run', 'print the commands that would run')
    .option('--force', 'roll back / overwrite the target (zfs receive -F)')
    .option('--target <DATASET>', 'restore into this dataset instead of the backed-up one')
    .option('--concurrency <N>', 'parallel ranged downloads (CONCURRENCY)')
    .option('--chunk-size <SIZE>', 'download range size (CHUNK_SIZE)')
    .option(
      '--limit-download <RATE>',
      'download at most RATE bytes per second, e.g. 20M (LIMIT_DOWNLOAD)',
    )
    .option('--quiet', 'no progress output')
    .addOption(
      new Option('--json', 'JSON Lines events on stdout (README "JSON events")').conflicts(
        'dryRun',
      ),
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      async (
        snapshot: string,
        opts: Record<string, string | boolean | undefined>,
        cmd: Command,
      ) => {
        const s = stringOptions(opts);
        setExit(
          await runRestore(
            {
              ...globalFlags(cmd),
              snapshot,
              dryRun: opts['dryRun'] === true,
              force: opts['force'] === true,
              target: s('target'),
              concurrency: s('concurrency'),
              chunkSize: s('chunkSize'),
              limitDownload: s('limitDownload'),
              quiet: opts['quiet'] === true,
              json: opts['json'] === true,
            },
            defaultPorts(ctx),
          ),
        );
      },
    );

  addPruneCommand({ program, ctx, setExit, globalFlags });
  addVerifyCommand({ program, ctx, setExit, globalFlags });
  addHoldsCommand({ program, ctx, setExit, globalFlags });
  addCleanupCommand({ program, ctx, setExit, globalFlags });
  return program;
}
