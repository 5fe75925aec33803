import { requirePrograms } from '../pipeline/programs.js';
import { checkRemote } from '../sync/commands.js';
import { syncSnapshots } from '../sync/sync.js';
import { loadSettings, requireFilesystem } from './context.js';
import type { CommandPorts } from './ports.js';

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

/** Resolve settings, then sync. Failures throw Z3Errors (see `syncSnapshots`). */
export async function sshSync(opts: SshSyncOptions, ports: CommandPorts): Promise<void> {
  const remote = checkRemote(opts.remote);
  const settings = loadSettings(
    {
      config: opts.config,
      s3Prefix: undefined,
      filesystem: opts.filesystem,
      snapshotPrefix: opts.snapshotPrefix,
    },
    ports.env,
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
    signal: ports.signal,
    out: ports.stdout,
  });
}
