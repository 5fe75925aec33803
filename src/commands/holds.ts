/**
 * `z3 holds`: the holds z3 placed on the dataset's snapshots for this target (tag
 * `z3:<target id>`, see src/plan/holds.ts), each the newest backup's or stale; with
 * `--release-stale`, release the stale ones. Why it exists: a backup that failed between its
 * hold and its release, or a target given up, leaves a hold that keeps a snapshot (and its
 * space) forever; other targets' holds and the user's own are never listed nor released.
 */
import type { Settings } from '../config/types.js';
import { UsageError } from '../errors.js';
import type { LockRequest } from '../lock/acquire.js';
import { classifyHolds, holdTag, newestBackedUp, type TargetHold } from '../plan/holds.js';
import type { Storage } from '../storage/open.js';
import { listHolds, releaseArgv, runZfs } from '../zfs/zfs.js';
import { backupLockRequest } from './backup-lock.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { withSafeOutput, zfsRunner, type CommandPorts } from './ports.js';
import { openSnapshotState, type OpenedSnapshotState } from './snapshot-state.js';

export interface HoldsOptions extends GlobalFlags {
  /** Release every hold of the target that is not on the newest backed-up snapshot. */
  releaseStale: boolean;
  /** With --release-stale: wait for a running backup of the dataset instead of exit 2. */
  wait: boolean;
}

/**
 * Print one line per hold of the target: `<tag>  <state>  <snapshot>`, state `newest backup`,
 * `stale`, or (after `--release-stale` released it) `released`. Exit 0; a release zfs refuses
 * is its CommandFailedError (exit 4), the holds released before it staying released.
 * `--release-stale` takes the backup lock: a backup running meanwhile moves the newest hold.
 */
export async function runHolds(opts: HoldsOptions, rawPorts: CommandPorts): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  const settings = loadSettings(opts, ports.env);
  const filesystem = requireFilesystem(settings);
  const lock = opts.releaseStale
    ? (storage: Storage) =>
        ports.lock(holdsLockRequest({ settings, storage, filesystem, opts, ports }))
    : undefined;
  const state = await openSnapshotState({
    settings,
    ports,
    filesystem,
    localDataset: filesystem,
    selectLocal: false,
    lock,
  });
  try {
    if (!state.local.exists) {
      throw new UsageError(`dataset '${filesystem}' does not exist`, {
        hint: 'check --dataset / FILESYSTEM; `zfs list` shows the datasets of this host',
      });
    }
    await reportHolds({ state, settings, filesystem, opts, ports });
    return 0;
  } finally {
    state.lock?.release();
  }
}

/** List (and with --release-stale, release) the target's holds; see `runHolds`. */
async function reportHolds(input: {
  state: OpenedSnapshotState;
  settings: Settings;
  filesystem: string;
  opts: HoldsOptions;
  ports: CommandPorts;
}): Promise<void> {
  const { state, opts, ports } = input;
  const tag = holdTag(input.settings);
  const options = { run: zfsRunner(ports), signal: ports.signal };
  const local = state.local.snapshots;
  const holds = classifyHolds({
    tag,
    newest: newestBackedUp({ ...state, local, committed: [] }),
    holds: await listHolds(
      local.map((s) => s.name),
      options,
    ),
  });
  if (holds.length === 0) ports.stderr.write(`z3: no holds of ${tag} on ${input.filesystem}\n`);
  for (const hold of holds) {
    if (opts.releaseStale && hold.isStale) await runZfs(releaseArgv(tag, hold.snapshot), options);
    ports.stdout.write(
      `${tag}  ${stateOf(hold, opts.releaseStale).padEnd(13)}  ${hold.snapshot}\n`,
    );
  }
}

/** The backup lock, named for `z3 holds` (see backup-lock.ts). */
function holdsLockRequest(input: {
  settings: Settings;
  storage: Storage;
  filesystem: string;
  opts: HoldsOptions;
  ports: CommandPorts;
}): LockRequest {
  const { opts, ...rest } = input;
  return backupLockRequest({ ...rest, wait: opts.wait, quiet: false, command: 'holds' });
}

function stateOf(hold: TargetHold, isReleasing: boolean): string {
  if (!hold.isStale) return 'newest backup';
  return isReleasing ? 'released' : 'stale';
}
