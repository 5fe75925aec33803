/**
 * What `z3 restore <snap>` has to receive (spec 7), decided before anything runs: from the
 * requested backup back through its S3 parents to the first snapshot the target dataset already
 * has, or to a full backup.
 */
import { UsageError } from '../errors.js';
import { brokenSnapshotError, healthOf } from './health.js';
import { joinSnapshotName, snapshotPart } from './names.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from './types.js';

/** One stream to receive: download `source`, decompress per its metadata, `zfs receive receiveAs`. */
export interface RestoreStep {
  /** The backup object to download. */
  source: RemoteSnapshot;
  /** `<target dataset>@<snapshot>`: what `zfs receive` creates. */
  receiveAs: string;
  /** A full stream (creates or, with `-F`, replaces the dataset) rather than an incremental. */
  isFull: boolean;
}

/**
 * - `nothing-to-do`: the target dataset already has the requested snapshot (`snapshot`, as received).
 * - `steps`: receive these in order (oldest first).
 */
export type RestorePlan =
  { kind: 'nothing-to-do'; snapshot: string } | { kind: 'steps'; steps: RestoreStep[] };

/** Inputs of `planRestore`. */
export interface RestoreInput {
  /** Snapshots of the dataset restored into (`target`), any order. */
  local: readonly LocalSnapshot[];
  /** Listed backups of `filesystem` under the snapshot prefix. */
  remote: readonly RemoteSnapshot[];
  /** `computeHealth(remote)`; see `healthOf` for backups it does not cover. */
  health: HealthMap;
  /** The backed-up dataset whose backups are restored. */
  filesystem: string;
  /** The snapshot to restore: the part after `@`. */
  snapshot: string;
  /** `--target`: dataset to receive into; default `filesystem`. `fs@snap` is received as `target@snap`. */
  target?: string | undefined;
  /** Whether the target dataset exists now. */
  targetExists: boolean;
  /** `--force`: `zfs receive -F` (roll back / replace). */
  force: boolean;
}

/**
 * Plan a restore: the shortest chain to the requested snapshot. Each backup names one parent,
 * so the only choice is where to start, and the walk back takes the nearer of the first
 * snapshot the target already has and the first full on the way (a later full, when the chain
 * was ended by `--max-chain` or `--full-if-older-than`, not an older one).
 *
 * Throws UsageError (exit 2) when `<filesystem>@<snapshot>` is not on S3, when
 * `target` is not a dataset name, or when a full stream would replace an existing dataset without
 * `--force`; IntegrityError (exit 3) when the chain meets an unhealthy backup.
 */
export function planRestore(input: RestoreInput): RestorePlan {
  const dataset = input.target ?? input.filesystem;
  if (dataset === '' || dataset.includes('@')) {
    throw new UsageError(`restore: --target '${dataset}' is not a dataset name`);
  }
  const wanted = joinSnapshotName(input.filesystem, input.snapshot);
  const remoteByName = new Map(input.remote.map((snapshot) => [snapshot.name, snapshot]));
  if (!remoteByName.has(wanted)) {
    throw new UsageError(`no such snapshot "${wanted}"`, {
      hint: `run 'z3 status' to list the backups of ${input.filesystem}`,
    });
  }
  const localNames = new Set(input.local.map((snapshot) => snapshot.name));
  const chain: RestoreStep[] = [];
  const seen = new Set<string>();
  let current = remoteByName.get(wanted);
  while (current !== undefined) {
    const receiveAs = joinSnapshotName(dataset, snapshotPart(current.name));
    if (localNames.has(receiveAs)) {
      if (chain.length === 0) return { kind: 'nothing-to-do', snapshot: receiveAs };
      break;
    }
    const health = healthOf(current, input.health);
    if (health !== 'ok') throw brokenSnapshotError(current.name, health);
    chain.push({ source: current, receiveAs, isFull: current.isFull });
    seen.add(current.name);
    if (current.isFull) break;
    current = nextInChain(current, remoteByName, seen);
  }
  const steps = chain.reverse();
  refuseToReplace(steps, dataset, input);
  return { kind: 'steps', steps };
}

/**
 * The listed parent of a healthy incremental. Never undefined or already seen when `health` agrees
 * with the listing; if it does not, fail as health would have rather than loop or guess.
 */
function nextInChain(
  snapshot: RemoteSnapshot,
  remoteByName: ReadonlyMap<string, RemoteSnapshot>,
  seen: ReadonlySet<string>,
): RemoteSnapshot {
  const parent = snapshot.parent === undefined ? undefined : remoteByName.get(snapshot.parent);
  if (parent === undefined) throw brokenSnapshotError(snapshot.name, 'missing parent');
  if (seen.has(parent.name)) throw brokenSnapshotError(snapshot.name, 'cycle detected');
  return parent;
}

/** A full stream into an existing dataset needs `zfs receive -F`, which destroys what is there. */
function refuseToReplace(
  steps: readonly RestoreStep[],
  dataset: string,
  input: RestoreInput,
): void {
  if (steps[0]?.isFull === true && input.targetExists && !input.force) {
    throw new UsageError(
      `restore: ${dataset} already exists; a full stream would have to replace it`,
      { hint: 'use --force to roll it back and overwrite (zfs receive -F)' },
    );
  }
}
