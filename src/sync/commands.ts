/**
 * The commands of one `z3_ssh_sync` run, as argument arrays. Pure: which helpers are installed
 * is passed in. Nothing here is spawned through a local shell; the only shell involved is the
 * remote login shell that ssh hands its command string to, and every word of that string is
 * quoted with `quoteCommand` (POSIX `sh` quoting: the remote user's login shell must be a
 * Bourne-style shell, as it is for sh, bash, dash, zsh and busybox).
 */
import { UsageError } from '../errors.js';
import type { StageSpec } from '../pipeline/types.js';
import { quoteCommand } from '../ui/shell-quote.js';
import { receiveArgv, sendArgv, sendIncrementalRangeArgv } from '../zfs/argv.js';

/** `ssh -C`, as the original: zfs streams of uncompressed datasets compress well on the wire. */
const SSH_COMPRESSION = '-C';
/** The original's buffer: 128 KiB blocks, 200 MiB of memory, no status output. */
const MBUFFER_ARGV = ['mbuffer', '-s', '128k', '-m', '200m', '-q'] as const;
const PV_ARGV = ['pv'] as const;

export type SyncDirection = 'push' | 'pull';

/** The other host and how to run zfs there. */
export interface SshTarget {
  /** `host` or `user@host`, given to ssh as is (never starting with `-`: see `checkRemote`). */
  remote: string;
  /** Words placed before the remote, e.g. `['-p', '2222', '-i', '/root/.ssh/id']`. */
  sshOptions: readonly string[];
  /** Run remote zfs commands as `sudo zfs …` (the original's way); false for `--no-sudo`. */
  useSudo: boolean;
}

/**
 * Refuse a remote that ssh would read as an option (`-oProxyCommand=…`) or that is empty.
 *
 * @throws UsageError naming the `remote` argument.
 */
export function checkRemote(remote: string): string {
  if (remote === '' || remote.startsWith('-') || /\s/.test(remote)) {
    throw new UsageError(`remote: expected a host or user@host, got ${JSON.stringify(remote)}`);
  }
  return remote;
}

/**
 * `ssh [-C] <options> <remote> '<quoted remote argv>'`. The remote argv becomes one string,
 * each word quoted, so that the remote shell splits it back into exactly these words.
 */
export function sshArgv(target: SshTarget, remoteArgv: readonly string[]): string[] {
  const words = target.useSudo ? ['sudo', ...remoteArgv] : [...remoteArgv];
  return ['ssh', SSH_COMPRESSION, ...target.sshOptions, target.remote, quoteCommand(words)];
}

/**
 * `zfs receive [-n -v] <dataset>`; `-n -v` (dry run) reads the whole stream, changes nothing and
 * says what it would do.
 *
 * Why not the original's `zfs recv -d <fs>` (`receiveIntoArgv`): `-d` appends the sent dataset's
 * path minus the pool to the target, so `tank/data@s` received with `-d backup/data` lands in
 * `backup/data/data`, while the next run lists `backup/data`, finds nothing to continue from and
 * tries a full stream again. Receiving into the named dataset makes `--remote-filesystem` (and
 * `--filesystem` for a pull) the dataset the snapshots land in, which is what the listing reads.
 */
function receiveIntoDatasetArgv(dataset: string, dryRun: boolean): string[] {
  return receiveArgv({ target: dataset, force: false, dryRun });
}

export interface SyncPipelineOptions {
  direction: SyncDirection;
  target: SshTarget;
  /** `--filesystem`: the source of a push, the destination of a pull. */
  localDataset: string;
  /** `--remote-filesystem`: the destination of a push, the source of a pull. */
  remoteDataset: string;
  /** Snapshot parts (after `@`); `from` undefined for a full send. */
  from: string | undefined;
  to: string;
  dryRun: boolean;
  /** Insert `pv` (installed and not `--quiet`). */
  withPv: boolean;
  /** Insert local `mbuffer` (installed). */
  withMbuffer: boolean;
}

/**
 * The stages of the transfer, first to last.
 * - push: `zfs send … | [pv] | [mbuffer] | ssh … '[sudo] zfs receive <remote-fs>'`
 * - pull: `ssh … '[sudo] zfs send …' | [mbuffer] | [pv] | zfs receive <local-fs>`
 *
 * mbuffer runs on this side only, next to the ssh stage, smoothing the bursts of `zfs send`
 * against the network. The original also ran it remotely inside the ssh command in a push,
 * but whether the remote has mbuffer cannot be known without another round trip, and a missing
 * remote mbuffer would fail the whole sync.
 */
export function buildSyncPipeline(o: SyncPipelineOptions): StageSpec[] {
  const sourceDataset = o.direction === 'push' ? o.localDataset : o.remoteDataset;
  const destinationDataset = o.direction === 'push' ? o.remoteDataset : o.localDataset;
  const to = `${sourceDataset}@${o.to}`;
  // -I (not -i): every snapshot between the two arrives on the destination too, as the original.
  const send =
    o.from === undefined
      ? sendArgv({ snapshot: to })
      : sendIncrementalRangeArgv(`${sourceDataset}@${o.from}`, to);
  const receive = receiveIntoDatasetArgv(destinationDataset, o.dryRun);
  // pv draws on the terminal: its stderr is ours, not captured.
  const pv: StageSpec[] = o.withPv ? [{ argv: [...PV_ARGV], stderr: 'inherit' }] : [];
  const mbuffer: StageSpec[] = o.withMbuffer ? [{ argv: [...MBUFFER_ARGV] }] : [];
  return o.direction === 'push'
    ? [{ argv: send }, ...pv, ...mbuffer, { argv: sshArgv(o.target, receive) }]
    : [{ argv: sshArgv(o.target, send) }, ...mbuffer, ...pv, { argv: receive }];
}
