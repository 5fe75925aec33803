/**
 * What `z3 backup` has to send (spec 6.1–6.3), decided before anything runs: a broken chain on
 * S3 or a missing base fails here, so no upload starts.
 */
import { IntegrityError, UsageError } from '../errors.js';
import { backupTime } from './backup-time.js';
import { chainPositions } from './chain.js';
import { brokenSnapshotError, healthOf } from './health.js';
import { findBookmarkBase, type LocalBookmark } from './bookmark-base.js';
import { joinSnapshotName } from './names.js';
import { isZeroDuration, subtractDuration, type KeepDuration } from './retention.js';
import { parseRecordedSendFlags, streamModeOf, type SendFlags } from './send-flags.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from './types.js';

/** One object to write: `zfs send [-i <parent>] <snapshot>` uploaded under the snapshot's key. */
export interface BackupStep {
  /** Full name `<dataset>@<snapshot>` to send. */
  snapshot: string;
  /** Full name of the incremental base (`zfs send -i`); undefined for a full stream. */
  parent: string | undefined;
  /**
   * Full name of the bookmark to send from instead of `parent` (`zfs send -i <bookmark>`): the
   * parent snapshot is gone locally, its z3 bookmark is left (./bookmark-base.ts).
   */
  sendFrom?: string | undefined;
  /** The snapshot's `creation` (seconds since the epoch) and guid, recorded in its metadata. */
  creation?: number | undefined;
  guid?: string | undefined;
  /** Why an incremental run sends this one in full: the chain reached a limit (ChainLimits). */
  endsChain?: ChainEnd | undefined;
}

/** The limit that ended a chain: MAX_CHAIN (`max-chain`) or FULL_EVERY (`full-every`). */
export type ChainEnd = 'max-chain' | 'full-every';

/** When `z3 backup` (incremental) sends a full instead, so chains end and prune can free space. */
export interface ChainLimits {
  /** FULL_EVERY: a full is sent when the chain's full is older than this before the snapshot. */
  fullEvery?: KeepDuration | undefined;
  /** MAX_CHAIN: a full is sent when the chain is this many objects long, its full included. */
  maxChain?: number | undefined;
}

/**
 * - `nothing-to-backup`: no local snapshot matches the prefix. Not a failure (exit 0, as the
 *   original): print `message` on stderr.
 * - `nothing-to-do`: the target is already on S3 and healthy.
 * - `steps`: send these, in order (oldest first).
 */
export type BackupPlan =
  | { kind: 'nothing-to-backup'; message: string }
  | { kind: 'nothing-to-do'; target: string }
  | { kind: 'steps'; steps: BackupStep[] };

/** Inputs of `planBackup`. */
export interface BackupInput {
  /** Selected local snapshots of `filesystem`, oldest first; each one's local parent is the one before it. */
  local: readonly LocalSnapshot[];
  /** Listed backups of `filesystem` under the snapshot prefix. */
  remote: readonly RemoteSnapshot[];
  /** `computeHealth(remote)`; see `healthOf` for backups it does not cover. */
  health: HealthMap;
  filesystem: string;
  snapshotPrefix: string;
  /** `--snapshot`: the part after `@`; default the latest selected snapshot. */
  snapshot?: string | undefined;
  /** `--full` sends one full stream; `incremental` (default) sends what S3 lacks, one object per snapshot. */
  mode: 'full' | 'incremental';
  /** FULL_EVERY and MAX_CHAIN; absent or 0: chains never end by themselves. */
  chainLimits?: ChainLimits | undefined;
  /** Milliseconds since the epoch: the time of a snapshot whose own time is unknown. */
  now?: number | undefined;
  /** The `zfs send` flags of this run (SEND_FLAGS, `--raw` …); absent: a plain send. */
  sendFlags?: SendFlags | undefined;
  /** The dataset's bookmarks: a base whose snapshot is gone may be sent from its bookmark. */
  bookmarks?: readonly LocalBookmark[] | undefined;
}

/**
 * Plan a backup. Throws UsageError (exit 2) when `--snapshot` names no selected local snapshot
 * (`Failed to get the snapshot <fs>@<X>`), when an incremental has no base on S3, or when its
 * send flags would differ in mode from its base's (`checkAppendable`); IntegrityError (exit 3)
 * when the walk meets an unhealthy backup, or a base whose local snapshot is another one.
 */
export function planBackup(input: BackupInput): BackupPlan {
  const { local, filesystem } = input;
  let targetIndex = local.length - 1;
  if (input.snapshot !== undefined) {
    const wanted = joinSnapshotName(filesystem, input.snapshot);
    targetIndex = local.findIndex((snapshot) => snapshot.name === wanted);
    if (targetIndex === -1) {
      throw new UsageError(`Failed to get the snapshot ${wanted}`, {
        hint: `--snapshot takes the part after '@' of a local snapshot starting with '${input.snapshotPrefix}'; see 'z3 status'`,
      });
    }
  }
  const target = local[targetIndex];
  if (target === undefined) {
    return {
      kind: 'nothing-to-backup',
      message: `Nothing to backup for filesystem "${filesystem}". Are you sure SNAPSHOT_PREFIX="${input.snapshotPrefix}" is correct?`,
    };
  }
  if (input.mode === 'full') return { kind: 'steps', steps: [stepOf(target, undefined)] };
  return planIncremental(input, targetIndex);
}

function stepOf(snapshot: LocalSnapshot, parent: LocalSnapshot | undefined): BackupStep {
  return {
    snapshot: snapshot.name,
    parent: parent?.name,
    creation: snapshot.creation,
    guid: snapshot.guid,
  };
}

/**
 * Walk back from the target through local parents until a healthy backup is found; every
 * snapshot passed on the way becomes its own incremental step (no `zfs send -I`), so a restore
 * can stop at any of them.
 */
function planIncremental(input: BackupInput, targetIndex: number): BackupPlan {
  const remoteByName = new Map(input.remote.map((snapshot) => [snapshot.name, snapshot]));
  const queued: BackupStep[] = [];
  for (let i = targetIndex; i >= 0; i -= 1) {
    const current = (input.local[i] as LocalSnapshot).name;
    const remote = remoteByName.get(current);
    if (remote !== undefined) {
      const health = healthOf(remote, input.health);
      if (health !== 'ok') {
        throw brokenSnapshotError(
          current,
          health,
          `run 'z3 status' to inspect the chain; 'z3 backup --full' starts a new one`,
        );
      }
      if (queued.length === 0) return { kind: 'nothing-to-do', target: current };
      const steps = endChains(queued.reverse(), remote, input);
      if (steps[0]?.parent !== undefined) {
        checkAppendable({ base: remote, local: input.local[i] as LocalSnapshot, input });
      }
      return { kind: 'steps', steps };
    }
    queued.push(stepOf(input.local[i] as LocalSnapshot, input.local[i - 1]));
  }
  const viaBookmark = planFromBookmark(input, targetIndex);
  if (viaBookmark !== undefined) return viaBookmark;
  throw new UsageError(`no backup of ${input.filesystem} on S3 to base an incremental on`, {
    hint: `run 'z3 backup --full' first`,
  });
}

/**
 * No local snapshot is backed up: send the local snapshots newer than the newest backed-up
 * bookmark, the first one from the bookmark (its metadata `parent` names the backed-up
 * snapshot, as for any incremental).
 */
function planFromBookmark(input: BackupInput, targetIndex: number): BackupPlan | undefined {
  const found = findBookmarkBase({
    candidates: input.local.slice(0, targetIndex + 1),
    remote: input.remote,
    health: input.health,
    bookmarks: input.bookmarks ?? [],
  });
  if (found === undefined) return undefined;
  const queued = found.after.map((snapshot, i) =>
    i === 0
      ? { ...stepOf(snapshot, undefined), parent: found.base.name, sendFrom: found.bookmark.name }
      : stepOf(snapshot, found.after[i - 1]),
  );
  const steps = endChains(queued, found.base, input);
  if (steps[0]?.parent !== undefined) {
    const local = { name: found.bookmark.name, guid: found.bookmark.guid };
    checkAppendable({ base: found.base, local, input });
  }
  return { kind: 'steps', steps };
}

/**
 * Turn into a full each step at which the chain would pass a limit: when the chain it extends
 * is already `maxChain` long, or its full is older than `fullEvery` before the step's snapshot
 * (times as src/plan/backup-time.ts finds them; a step or full without a known time is never
 * too old). The steps after it then extend the new chain.
 */
function endChains(steps: BackupStep[], base: RemoteSnapshot, input: BackupInput): BackupStep[] {
  const { maxChain = 0, fullEvery } = input.chainLimits ?? {};
  const isAgeLimited = fullEvery !== undefined && !isZeroDuration(fullEvery);
  if (maxChain === 0 && !isAgeLimited) return steps;
  const position = chainPositions(input.remote, input.health).get(base.name);
  let length = position?.length ?? 1;
  let fullTime = position === undefined ? undefined : backupTime(position.full)?.time;
  return steps.map((step) => {
    const time = backupTime({ name: step.snapshot, creation: step.creation?.toString() })?.time;
    const stepTime = time ?? input.now;
    const isTooOld =
      isAgeLimited &&
      fullTime !== undefined &&
      stepTime !== undefined &&
      fullTime < subtractDuration(stepTime, fullEvery);
    const end: ChainEnd | undefined =
      maxChain > 0 && length >= maxChain ? 'max-chain' : isTooOld ? 'full-every' : undefined;
    if (end === undefined) {
      length += 1;
      return step;
    }
    length = 1;
    fullTime = stepTime;
    return { ...step, parent: undefined, sendFrom: undefined, endsChain: end };
  });
}

/**
 * Refuse an incremental that no restore could apply on `base`: one sent from a local snapshot
 * that is not the one backed up (same name, other GUID: destroyed and re-created), one whose
 * raw-ness or compression differs from the base's (a base without `sendflags` was a plain
 * send), or one without `-L` on a base sent with it.
 */
function checkAppendable(input: {
  base: RemoteSnapshot;
  local: LocalSnapshot;
  input: BackupInput;
}): void {
  const { base, local } = input;
  const fix = `run 'z3 backup --full' to start a new chain`;
  if (base.guid !== undefined && local.guid !== undefined && base.guid !== local.guid) {
    throw new IntegrityError(
      `${local.name} is not the snapshot backed up under that name (guid ${local.guid}, backup's guid ${base.guid}): an incremental from it cannot be restored`,
      { hint: fix },
    );
  }
  const flags = input.input.sendFlags ?? new Set();
  const baseFlags = parseRecordedSendFlags(base.sendFlags);
  const wanted = streamModeOf(flags);
  const recorded = streamModeOf(baseFlags);
  if (wanted !== recorded) {
    throw new UsageError(
      `cannot append a ${wanted} incremental to ${base.name}, a ${recorded} send: a chain keeps its raw and compressed mode; ${fix} with these flags`,
    );
  }
  // zfs receive refuses it: "incremental send stream requires -L (--large-block), to match
  // previous receive" (OpenZFS 2.1). Adding -L along a chain is fine.
  if (baseFlags.has('large-blocks') && !flags.has('large-blocks')) {
    throw new UsageError(
      `cannot append an incremental without --large-blocks to ${base.name}, sent with it: zfs receive refuses that; pass --large-blocks, or ${fix} without it`,
    );
  }
}
