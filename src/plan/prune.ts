/**
 * The plan of `z3 prune` for one dataset: which backups the retention policy keeps, which go,
 * and in what order. Pure (read state → plan → apply): the command lists, this decides, the
 * command deletes.
 *
 * What holds, whatever the policy:
 * - only restorable (`ok`) backups are counted by the policy; a kept backup keeps every
 *   ancestor back to its full (an incremental is useless without them);
 * - the newest restorable backup is always kept, and so is a backup whose time is unknown;
 * - broken backups (missing parent, parent broken, cycle) are reported and deleted only when
 *   asked (`deleteBroken`);
 * - deletion runs descendants first, so a run stopped after any deletion leaves no backup whose
 *   parent is gone that was not broken before.
 */
import { backupTime, type BackupTime } from './backup-time.js';
import { chainPositions } from './chain.js';
import { healthOf } from './health.js';
import { snapshotPart } from './names.js';
import { applyRetention, type RetentionPolicy } from './retention.js';
import type { Health, HealthMap, RemoteSnapshot } from './types.js';

/**
 * Days an object of a storage class is billed for at least, however early it is deleted (AWS S3
 * pricing: STANDARD_IA and ONEZONE_IA 30, GLACIER_IR and GLACIER 90, DEEP_ARCHIVE 180).
 */
export const MIN_BILLED_DAYS: Readonly<Record<string, number>> = {
  STANDARD_IA: 30,
  ONEZONE_IA: 30,
  GLACIER_IR: 90,
  GLACIER: 90,
  DEEP_ARCHIVE: 180,
};

const DAY_MS = 86_400_000;

export interface PruneInput {
  /** Every listed backup of the dataset, whatever its snapshot prefix (any order). */
  backups: readonly RemoteSnapshot[];
  /**
   * SNAPSHOT_PREFIX: only backups whose snapshot part starts with it are pruned; the others are
   * kept, and so are their ancestors (a chain may cross prefixes).
   */
  snapshotPrefix: string;
  /** `computeHealth(backups)`. */
  health: HealthMap;
  /** Not empty (the command refuses an empty policy before planning). */
  policy: RetentionPolicy;
  /** Milliseconds since the epoch: for `--keep-within` (future backups) and storage ages. */
  now: number;
  /** Delete broken backups too (`--broken`). */
  deleteBroken: boolean;
}

/** One backup in the plan. */
export interface PruneRow {
  snapshot: RemoteSnapshot;
  /** The backup's time and its source; undefined when none could be found. */
  time: BackupTime | undefined;
  health: Health;
  /** Why it is kept (`daily snapshot`, `newest`, `ancestor of snap-5`, …); empty when deleted. */
  reasons: string[];
  /** Its position in its chain (1 = the full; 0 when broken): a child after its parent. */
  depth: number;
  /** Deleted before its storage class's minimum billed duration: the rest is billed anyway. */
  earlyDeletion?: { storageClass: string; ageDays: number; minimumDays: number } | undefined;
}

export interface PrunePlan {
  /** Kept backups, newest first. */
  kept: PruneRow[];
  /** Backups to delete, in the order to delete them: every one before its parent. */
  deleted: PruneRow[];
  /** The broken backups (each also in `kept` or in `deleted`). */
  broken: PruneRow[];
  /** Sum of the deleted objects' sizes. */
  bytesFreed: number;
}

/** Decide what `z3 prune` keeps and deletes (see the module comment for what always holds). */
export function planPrune(input: PruneInput): PrunePlan {
  const chains = chainPositions(input.backups, input.health);
  const rows = input.backups.map((snapshot) =>
    rowOf(snapshot, input.health, chains.get(snapshot.name)?.length ?? 0),
  );
  const inScope = (r: PruneRow): boolean =>
    snapshotPart(r.snapshot.name).startsWith(input.snapshotPrefix);
  for (const row of rows) if (!inScope(row)) row.reasons.push('not under SNAPSHOT_PREFIX');
  const healthy = rows.filter((r) => r.health === 'ok');
  keepByPolicy(healthy.filter(inScope), input);
  keepAncestors(healthy);
  for (const row of rows.filter(inScope)) {
    if (row.health !== 'ok' && !input.deleteBroken) {
      row.reasons.push(`broken: ${row.health} (deleted only with --broken)`);
    }
  }
  const kept = rows.filter((r) => r.reasons.length > 0).sort(newestFirst);
  const deleted = deletionOrder(rows.filter((r) => r.reasons.length === 0));
  for (const row of deleted) row.earlyDeletion = earlyDeletion(row.snapshot, input.now);
  return {
    kept,
    deleted,
    broken: rows.filter((r) => r.health !== 'ok'),
    bytesFreed: deleted.reduce((sum, r) => sum + r.snapshot.objectSize, 0),
  };
}

function rowOf(snapshot: RemoteSnapshot, health: HealthMap, depth: number): PruneRow {
  const time = backupTime(snapshot);
  return { snapshot, time, health: healthOf(snapshot, health), reasons: [], depth };
}

/**
 * Newest first; unknown times first. Equal times (`creation` has one-second resolution) by
 * chain position, the deeper first: a child is newer than its parent, whatever their names;
 * then by name, the greater first.
 */
function newestFirst(a: PruneRow, b: PruneRow): number {
  const ta = a.time?.time ?? Infinity;
  const tb = b.time?.time ?? Infinity;
  if (ta !== tb) return tb - ta;
  if (a.depth !== b.depth) return b.depth - a.depth;
  return a.snapshot.name < b.snapshot.name ? 1 : a.snapshot.name > b.snapshot.name ? -1 : 0;
}

/** The policy's reasons, `newest` for the newest, `time unknown` where there is no time. */
function keepByPolicy(healthy: PruneRow[], input: PruneInput): void {
  const dated = healthy.filter((r) => r.time !== undefined);
  const items = dated.map((r) => ({ name: r.snapshot.name, time: r.time?.time ?? 0 }));
  const reasons = applyRetention(items, input.policy, input.now);
  for (const row of healthy) {
    if (row.time === undefined) row.reasons.push('time unknown');
    row.reasons.push(...(reasons.get(row.snapshot.name) ?? []));
  }
  const newest = [...dated].sort(newestFirst)[0];
  newest?.reasons.unshift('newest');
}

/**
 * Keep every ancestor of a kept backup, naming the newest kept descendant that needs it. Walks
 * stop at an ancestor already marked, so the whole pass is linear in the number of backups.
 */
function keepAncestors(healthy: PruneRow[]): void {
  const byName = new Map(healthy.map((r) => [r.snapshot.name, r]));
  const marked = new Set<string>();
  for (const row of [...healthy].sort(newestFirst)) {
    if (row.reasons.length === 0) continue;
    const label = `ancestor of ${snapshotPart(row.snapshot.name)}`;
    let parent = row.snapshot.isFull ? undefined : row.snapshot.parent;
    while (parent !== undefined && !marked.has(parent)) {
      const ancestor = byName.get(parent);
      if (ancestor === undefined) break; // healthy rows reach a full, so this does not happen
      marked.add(parent);
      ancestor.reasons.push(label);
      parent = ancestor.snapshot.isFull ? undefined : ancestor.snapshot.parent;
    }
  }
}

/**
 * `rows` ordered so that each comes before its parent: the newest chain's tip first, then down
 * that chain as far as its rows are freed, then the next chain. Rows on a parent cycle never
 * become ready and go last, by name: a cycle is broken already.
 */
function deletionOrder(rows: PruneRow[]): PruneRow[] {
  const names = new Set(rows.map((r) => r.snapshot.name));
  const parentOf = (r: PruneRow): string | undefined =>
    !r.snapshot.isFull && r.snapshot.parent !== undefined && names.has(r.snapshot.parent)
      ? r.snapshot.parent
      : undefined;
  const children = new Map<string, number>();
  for (const r of rows) {
    const parent = parentOf(r);
    if (parent !== undefined) children.set(parent, (children.get(parent) ?? 0) + 1);
  }
  const byName = new Map(rows.map((r) => [r.snapshot.name, r]));
  // A stack, newest on top: a freed parent is pushed and so deleted next, down its chain.
  const ready = rows
    .filter((r) => !children.has(r.snapshot.name))
    .sort((a, b) => newestFirst(b, a));
  const order: PruneRow[] = [];
  for (let row = ready.pop(); row !== undefined; row = ready.pop()) {
    order.push(row);
    const parent = parentOf(row);
    if (parent === undefined) continue;
    const left = (children.get(parent) ?? 1) - 1;
    children.set(parent, left);
    if (left === 0) ready.push(byName.get(parent) as PruneRow);
  }
  const done = new Set(order);
  const cycles = rows
    .filter((r) => !done.has(r))
    .sort((a, b) => (a.snapshot.name < b.snapshot.name ? -1 : 1));
  return [...order, ...cycles];
}

function earlyDeletion(snapshot: RemoteSnapshot, now: number): PruneRow['earlyDeletion'] {
  const storageClass = snapshot.storageClass;
  const minimumDays = storageClass === undefined ? undefined : MIN_BILLED_DAYS[storageClass];
  const modified = Date.parse(snapshot.lastModified ?? '');
  if (storageClass === undefined || minimumDays === undefined || Number.isNaN(modified)) {
    return undefined;
  }
  const ageDays = Math.floor((now - modified) / DAY_MS);
  return ageDays < minimumDays ? { storageClass, ageDays, minimumDays } : undefined;
}
