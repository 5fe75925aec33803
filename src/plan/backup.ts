/**
 * What `z3 backup` has to send (spec 6.1–6.3), decided before anything runs: a broken chain on
 * S3 or a missing base fails here, so no upload starts.
 */
import { UsageError } from '../errors.js';
import { brokenSnapshotError, healthOf } from './health.js';
import { joinSnapshotName } from './names.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from './types.js';

/** One object to write: `zfs send [-i <parent>] <snapshot>` uploaded under the snapshot's key. */
export interface BackupStep {
  /** Full name `<dataset>@<snapshot>` to send. */
  snapshot: string;
  /** Full name of the incremental base (`zfs send -i`); undefined for a full stream. */
  parent: string | undefined;
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
}

/**
 * Plan a backup. Throws UsageError (exit 2) when `--snapshot` names no selected local snapshot
 * (`Failed to get the snapshot <fs>@<X>`) or when an incremental has no base on S3;
 * IntegrityError (exit 3) when the walk meets an unhealthy backup.
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
  if (input.mode === 'full')
    return { kind: 'steps', steps: [{ snapshot: target.name, parent: undefined }] };
  return planIncremental(input, targetIndex);
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
      return { kind: 'steps', steps: queued.reverse() };
    }
    queued.push({ snapshot: current, parent: input.local[i - 1]?.name });
  }
  throw new UsageError(`no backup of ${input.filesystem} on S3 to base an incremental on`, {
    hint: `run 'z3 backup --full' first`,
  });
}
