import { Command } from 'commander';
import { parseCommandLine, stringOptions } from '../cli/args.js';
import type { MainContext } from '../cli/run-main.js';
import { requirePrograms } from '../pipeline/programs.js';
import { checkRemote } from '../sync/commands.js';
import { syncSnapshots } from '../sync/sync.js';
import { loadSettings, requireFilesystem } from './context.js';

/** Raw `z3_ssh_sync` options, as typed (no defaults: those come from the config layer). */
export interface SshSyncOptions {
  remote: string;
  config: string | undefined;
  filesystem: string | undefined;
  remoteFilesystem: string | undefined;
  snapshotPrefix: string | undefined;
  /** Every `--ssh-option`, in order; undefined when none was given (SSH_OPTIONS applies). */
  sshOptions: string[] | undefined;
  pull: boolean;
  quiet: boolean;
  dryRun: boolean;
  sudo: boolean;
}

const HELP_AFTER = `
Push (default): the latest local snapshot of --filesystem goes to --remote-filesystem on REMOTE:
a full stream when the destination has none, else "zfs send -I" from the destination's latest.
--pull goes the other way. Only snapshots starting with SNAPSHOT_PREFIX count on both sides.
The destination dataset is the one named (zfs receive <dataset>, not -d): its parent must exist.
Nothing is forced (no receive -F): a destination changed since its latest snapshot is refused;
set readonly=on on it.
pv (progress, not with --quiet) and mbuffer (a 200 MiB buffer) run on this host when installed.
Remote commands run as "sudo zfs …" through the remote user's POSIX login shell, every name
quoted; --no-sudo runs "zfs …" directly.

Examples:
  z3_ssh_sync --dataset tank/data --remote-dataset backup/data backup@nas
  z3_ssh_sync --dataset tank/data --pull --ssh-option "-p 2222 -i /root/.ssh/sync" nas

Exit codes:
  0    success, also "Nothing to do here."
  1    internal error (run again with --debug for a stack trace)
  2    usage or configuration error; also "No snapshots exist locally!" (check --snapshot-prefix)
  3    "Latest snapshot on destination doesn't exist on source!": the destination diverged
  4    a command failed (zfs send/receive/list, ssh, pv, mbuffer); its stderr tail is shown
  130  interrupted (SIGINT/SIGTERM)
`;

/** `z3_ssh_sync [options] remote`: the program. Resolves to the exit code. */
export async function runSshSync(ctx: MainContext): Promise<number> {
  let options: SshSyncOptions | undefined;
  const program = new Command('z3_ssh_sync')
    .description('push (or --pull) zfs snapshots to (or from) another host over ssh')
    .argument('<remote>', 'the other host: host or user@host, as ssh takes it')
    .option('--filesystem <FILESYSTEM>', 'the local dataset (FILESYSTEM)')
    .option('--dataset <FILESYSTEM>', 'same as --filesystem')
    .option('--remote-filesystem <FILESYSTEM>', 'the dataset on the remote (default: same name)')
    .option('--remote-dataset <FILESYSTEM>', 'same as --remote-filesystem')
    .option(
      '--snapshot-prefix <SNAPSHOT_PREFIX>',
      'only operate on snapshots that start with this prefix (default zfs-auto-snap:daily)',
    )
    .option('--pull', 'pull snapshots from the remote instead of pushing them')
    .option('--quiet', 'no progress, no "Nothing to do here."')
    .option(
      '--dry-run',
      'print the pipeline, then run it with "zfs receive -n -v" (changes nothing)',
    )
    .option(
      '--ssh-option <OPTIONS>',
      'ssh options, split on spaces, e.g. "-p 2222 -i KEY"; repeatable (SSH_OPTIONS)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--no-sudo', 'run zfs on the remote directly, not through sudo')
    .option('--config <FILE>', 'config file (default $Z3_CONFIG or /etc/z3_backup/z3.conf)')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', HELP_AFTER)
    .action((remote: string, opts: Record<string, unknown>) => {
      const str = stringOptions(opts);
      options = {
        remote,
        config: str('config'),
        filesystem: str('filesystem') ?? str('dataset'),
        remoteFilesystem: str('remoteFilesystem') ?? str('remoteDataset'),
        snapshotPrefix: str('snapshotPrefix'),
        sshOptions: Array.isArray(opts['sshOption']) ? (opts['sshOption'] as string[]) : undefined,
        pull: opts['pull'] === true,
        quiet: opts['quiet'] === true,
        dryRun: opts['dryRun'] === true,
        sudo: opts['sudo'] !== false,
      };
    });
  const handled = await parseCommandLine(program, ctx.argv);
  if (handled || options === undefined) return 0;
  await sshSync(options, ctx);
  return 0;
}

/** Resolve settings, then sync. Failures throw Z3Errors (see `syncSnapshots`). */
export async function sshSync(opts: SshSyncOptions, ctx: MainContext): Promise<void> {
  const remote = checkRemote(opts.remote);
  const settings = loadSettings(
    {
      config: opts.config,
      s3Prefix: undefined,
      filesystem: opts.filesystem,
      snapshotPrefix: opts.snapshotPrefix,
    },
    { sshOptions: opts.sshOptions?.join(' ') },
  );
  const localDataset = requireFilesystem(settings);
  await requirePrograms([['zfs'], ['ssh']]);
  await syncSnapshots({
    direction: opts.pull ? 'pull' : 'push',
    target: { remote, sshOptions: settings.sshOptions, useSudo: opts.sudo },
    localDataset,
    remoteDataset: opts.remoteFilesystem ?? localDataset,
    snapshotPrefix: settings.snapshotPrefix,
    dryRun: opts.dryRun,
    quiet: opts.quiet,
    signal: ctx.signal,
    out: process.stdout,
  });
}
