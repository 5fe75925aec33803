/**
 * One `z3_ssh_sync` run: read both snapshot lists → pure plan (`planSync`) → build the pipeline
 * (`buildSyncPipeline`) → run it. The only module of src/sync that does I/O.
 */
import type { Writable } from 'node:stream';
import { CommandFailedError, IntegrityError, UsageError } from '../errors.js';
import { runCommand, startPipeline, type CommandRunner } from '../pipeline/runner.js';
import { StageFailedError } from '../pipeline/stage-error.js';
import { findProgram } from '../pipeline/which.js';
import { quotePipeline } from '../ui/shell-quote.js';
import { listSnapshots } from '../zfs/zfs.js';
import { buildSyncPipeline, sshArgv, type SshTarget, type SyncDirection } from './commands.js';
import { planSync, selectSnapshots, type SyncPlan } from './plan.js';

export interface SyncOptions {
  direction: SyncDirection;
  target: SshTarget;
  /** `--filesystem`: source of a push, destination of a pull. */
  localDataset: string;
  /** `--remote-filesystem`: destination of a push, source of a pull. */
  remoteDataset: string;
  /** Only snapshots whose part after `@` starts with this count, on both sides. */
  snapshotPrefix: string;
  dryRun: boolean;
  quiet: boolean;
  /** Aborting kills every process of the sync. */
  signal: AbortSignal;
  /** Where `Nothing to do here.` and the dry-run line go (stdout). */
  out: Writable;
  /** Which programs are installed; default: looked up on PATH. Tests inject their own. */
  isInstalled?: (program: string) => boolean;
}

/** One side's snapshots (part after `@`, oldest first, prefix-filtered); `exists` false = no dataset. */
interface SideSnapshots {
  exists: boolean;
  snapshots: string[];
}

/**
 * Bring the destination up to the source's latest snapshot. Resolves to the plan that was
 * carried out (`up-to-date` included); a dry run runs the pipeline with `zfs receive -n -v`,
 * which reads the whole stream and changes nothing.
 *
 * @throws UsageError (exit 2) when the source has no selected snapshots or its dataset does
 *   not exist; IntegrityError (exit 3) when the destination's latest snapshot is not on the
 *   source; CommandFailedError (exit 4) when a listing or any stage of the transfer fails, with
 *   the failing command and the tail of its stderr (a StageFailedError for zfs and stages).
 */
export async function syncSnapshots(o: SyncOptions): Promise<SyncPlan> {
  const [local, remote] = await Promise.all([listLocal(o), listRemote(o)]);
  const names = sideNames(o);
  const [source, destination] = o.direction === 'push' ? [local, remote] : [remote, local];
  if (!source.exists) {
    throw new UsageError(`${names.source}: dataset does not exist`, {
      hint:
        o.direction === 'push' ? 'check --filesystem' : 'check --remote-filesystem and the remote',
    });
  }
  const plan = planSync({ source: source.snapshots, destination: destination.snapshots });
  switch (plan.kind) {
    case 'no-source-snapshots':
      throw new UsageError(
        o.direction === 'push'
          ? 'No snapshots exist locally!'
          : 'No snapshots exist on the remote!',
        {
          hint: `no snapshot of ${names.source} starts with SNAPSHOT_PREFIX "${o.snapshotPrefix}"; check --snapshot-prefix`,
        },
      );
    case 'diverged':
      throw new IntegrityError("Latest snapshot on destination doesn't exist on source!", {
        hint: `${names.destination}@${plan.destinationLatest} is not on ${names.source}; nothing was sent`,
      });
    case 'up-to-date':
      if (!o.quiet) o.out.write('Nothing to do here.\n');
      return plan;
    case 'full':
      await transfer(o, undefined, plan.to);
      return plan;
    case 'incremental':
      await transfer(o, plan.from, plan.to);
      return plan;
  }
}

/** How the source and destination are named in messages: `dataset` or `remote:dataset`. */
function sideNames(o: SyncOptions): { source: string; destination: string } {
  const local = o.localDataset;
  const remote = `${o.target.remote}:${o.remoteDataset}`;
  return o.direction === 'push'
    ? { source: local, destination: remote }
    : { source: remote, destination: local };
}

/** Send `from`..`to` (snapshot parts; `from` undefined = full); the dry-run line first. */
async function transfer(o: SyncOptions, from: string | undefined, to: string): Promise<void> {
  const isInstalled = o.isInstalled ?? ((p: string) => findProgram(p) !== undefined);
  const stages = buildSyncPipeline({
    direction: o.direction,
    target: o.target,
    localDataset: o.localDataset,
    remoteDataset: o.remoteDataset,
    from,
    to,
    dryRun: o.dryRun,
    withPv: !o.quiet && isInstalled('pv'),
    withMbuffer: isInstalled('mbuffer'),
  });
  if (o.dryRun) o.out.write(`${quotePipeline(stages.map((s) => s.argv))}\n`);
  // The last stage's stdout is ours: `zfs receive -n -v` says there what it would do.
  await startPipeline({ stages, input: 'ignore', output: 'inherit', signal: o.signal }).done;
}

async function listLocal(o: SyncOptions): Promise<SideSnapshots> {
  return listSide(o.localDataset, o, undefined);
}

async function listRemote(o: SyncOptions): Promise<SideSnapshots> {
  try {
    return await listSide(o.remoteDataset, o, sshRunner(o.target));
  } catch (err) {
    // The first remote command: where a missing or password-asking sudo shows up.
    if (o.target.useSudo && err instanceof StageFailedError && /\bsudo\b/.test(err.stderrTail)) {
      throw new CommandFailedError(err.message, {
        hint: 'the remote runs "sudo zfs …"; pass --no-sudo if the remote user may run zfs itself',
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * List one side and select its snapshots. A dataset that does not exist is reported as such
 * (`listSnapshots` says so with a UsageError caused by zfs's own failure) rather than as an
 * error: for a destination it means "empty".
 */
async function listSide(
  dataset: string,
  o: SyncOptions,
  run: CommandRunner | undefined,
): Promise<SideSnapshots> {
  try {
    const found = await listSnapshots(
      dataset,
      run === undefined ? { signal: o.signal } : { run, signal: o.signal },
    );
    const names = found.map((s) => s.name);
    return {
      exists: true,
      snapshots: selectSnapshots(names, { dataset, prefix: o.snapshotPrefix }),
    };
  } catch (err) {
    if (err instanceof UsageError && err.cause instanceof StageFailedError) {
      return { exists: false, snapshots: [] };
    }
    throw err;
  }
}

/** exit status of ssh itself (connection, authentication); the remote command's is passed on. */
const SSH_FAILED = 255;

/**
 * Run zfs commands on the remote: `ssh … '<quoted argv>'`. ssh's own failures become a plain
 * CommandFailedError with a hint, so that no stderr of a failed connection is ever mistaken for
 * zfs saying "dataset does not exist".
 */
function sshRunner(target: SshTarget): CommandRunner {
  return async (argv, options) => {
    try {
      return await runCommand(sshArgv(target, argv), options);
    } catch (err) {
      if (err instanceof StageFailedError && err.exitStatus === SSH_FAILED) {
        throw new CommandFailedError(err.message, {
          hint: 'ssh could not connect or log in; check the remote and --ssh-option / SSH_OPTIONS',
          cause: err,
        });
      }
      throw err;
    }
  };
}
