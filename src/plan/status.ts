/**
 * The rows of `z3 status` (spec 5): every selected local snapshot, paired with its backup when
 * there is one, then every backup with no local snapshot; sorted by snapshot name. Rendering
 * (table, JSON) lives in src/ui/status-table.ts.
 */
import { chainPositions, type ChainPosition } from './chain.js';
import { healthOf } from './health.js';
import { compareCodePoints, snapshotPart } from './names.js';
import type { Health, HealthMap, LocalSnapshot, RemoteSnapshot } from './types.js';

/** One row of the status listing: plain data, rendered by the UI. */
export interface StatusRow {
  /** Full name `<dataset>@<snapshot>`. */
  snapshot: string;
  /** The snapshot part (after `@`): the NAME column. */
  name: string;
  /** `full` / `incremental` for a backup on S3; `missing` when only the local snapshot exists. */
  type: 'full' | 'incremental' | 'missing';
  /**
   * Raw `parent` metadata of an incremental backup (normally a full `<dataset>@<snapshot>`);
   * undefined for a full backup, a local-only snapshot or an incremental without `parent`.
   */
  parent: string | undefined;
  /** Health of the backup; undefined when the snapshot is not on S3. */
  health: Health | undefined;
  /** Whether the snapshot exists locally (LOCAL STATE `ok` / `missing`). */
  isLocal: boolean;
  /**
   * The local snapshot of that name is not the one backed up: both guids are known and differ
   * (destroyed and re-created). LOCAL STATE `differs`; an incremental from it is refused.
   */
  isGuidDifferent: boolean;
  /** The backup's `zfs send` flags as recorded (`sendflags` letters); undefined: a plain send or not on S3. */
  sendFlags: string | undefined;
  /** Metadata `size` (estimated uncompressed bytes); undefined when unknown or not on S3. */
  size: number | undefined;
  /** Bytes stored on S3 (compressed); undefined when not on S3. */
  objectSize: number | undefined;
  /**
   * Objects a restore of this backup receives, its full included (a full: 1); undefined for a
   * broken backup or a snapshot not on S3.
   */
  chainLength: number | undefined;
}

/** Inputs of `planStatus`. */
export interface StatusInput {
  /** Selected local snapshots (any order). */
  local: readonly LocalSnapshot[];
  /** Listed backups of the same dataset and snapshot prefix. */
  remote: readonly RemoteSnapshot[];
  /** `computeHealth(remote)`; a backup missing from it counts as `ok` if full, else `missing parent`. */
  health: HealthMap;
}

/**
 * Pair local snapshots with backups by exact full name (spec 4.4) and sort all rows by snapshot
 * name, in code-point order as the original does (ties, which need two datasets in one listing,
 * fall back to the full name).
 */
export function planStatus(input: StatusInput): StatusRow[] {
  const remoteByName = new Map(input.remote.map((snapshot) => [snapshot.name, snapshot]));
  const localNames = new Set(input.local.map((snapshot) => snapshot.name));
  const chains = chainPositions(input.remote, input.health);
  const row = (remote: RemoteSnapshot, local: LocalSnapshot | undefined): StatusRow =>
    remoteRow({ remote, local, health: input.health, chains });
  const rows: StatusRow[] = [];
  for (const local of input.local) {
    const remote = remoteByName.get(local.name);
    rows.push(remote === undefined ? localOnlyRow(local) : row(remote, local));
  }
  for (const remote of remoteByName.values()) {
    if (!localNames.has(remote.name)) rows.push(row(remote, undefined));
  }
  return rows.sort(
    (a, b) => compareCodePoints(a.name, b.name) || compareCodePoints(a.snapshot, b.snapshot),
  );
}

function localOnlyRow(local: LocalSnapshot): StatusRow {
  return {
    snapshot: local.name,
    name: snapshotPart(local.name),
    type: 'missing',
    parent: undefined,
    health: undefined,
    isLocal: true,
    isGuidDifferent: false,
    sendFlags: undefined,
    size: undefined,
    objectSize: undefined,
    chainLength: undefined,
  };
}

function remoteRow(input: {
  remote: RemoteSnapshot;
  local: LocalSnapshot | undefined;
  health: HealthMap;
  chains: ReadonlyMap<string, ChainPosition>;
}): StatusRow {
  const { remote, local, health } = input;
  const localGuid = local?.guid;
  return {
    snapshot: remote.name,
    name: snapshotPart(remote.name),
    type: remote.isFull ? 'full' : 'incremental',
    parent: remote.isFull ? undefined : remote.parent,
    health: healthOf(remote, health),
    isLocal: local !== undefined,
    isGuidDifferent:
      localGuid !== undefined && remote.guid !== undefined && localGuid !== remote.guid,
    sendFlags: remote.sendFlags === '' ? undefined : remote.sendFlags,
    size: remote.size,
    objectSize: remote.objectSize,
    chainLength: input.chains.get(remote.name)?.length,
  };
}
