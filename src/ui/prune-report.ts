/**
 * How `z3 prune` shows its plan: one line per backup (kept with the rules that keep it, or
 * deleted, in deletion order), a summary line, and the warnings of the plan; or `prune` events for `--json`.
 * Pure: strings out, the command writes them.
 */
import { snapshotPart } from '../plan/names.js';
import type { PrunePlan, PruneRow } from '../plan/prune.js';
import type { PruneEvent } from './events.js';
import { humanizeSize } from './humanize.js';

export interface PruneReportOptions {
  /** Add each backup's time and where it came from. */
  verbose: boolean;
  /** Say `would delete` rather than `delete`. */
  dryRun: boolean;
}

/** The plan as lines: kept (newest first), then deleted (in deletion order), then a summary. */
export function renderPrunePlan(plan: PrunePlan, options: PruneReportOptions): string {
  const rows: { action: string; row: PruneRow }[] = [
    ...plan.kept.map((row) => ({ action: 'keep', row })),
    ...plan.deleted.map((row) => ({ action: options.dryRun ? 'would delete' : 'delete', row })),
  ];
  const nameWidth = Math.max(0, ...rows.map(({ row }) => nameOf(row).length));
  const actionWidth = Math.max(0, ...rows.map(({ action }) => action.length));
  const lines = rows.map(({ action, row }) => {
    const cells = [action.padEnd(actionWidth), nameOf(row).padEnd(nameWidth)];
    if (options.verbose) cells.push(timeOf(row));
    cells.push(row.reasons.join(', '));
    return cells.join('  ').trimEnd();
  });
  return [...lines, summaryOf(plan, options.dryRun)].join('\n') + '\n';
}

/** `keep 6, delete 14 (1.2 M), broken 0`. */
function summaryOf(plan: PrunePlan, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'delete';
  return (
    `keep ${plan.kept.length}, ${verb} ${plan.deleted.length} ` +
    `(${humanizeSize(plan.bytesFreed)} freed), broken ${plan.broken.length}`
  );
}

/** One warning per deletion before its storage class's minimum billed duration. */
export function earlyDeletionWarnings(plan: PrunePlan): string[] {
  return plan.deleted.flatMap(({ snapshot, earlyDeletion: early }) =>
    early === undefined
      ? []
      : [
          `${snapshot.name} is a ${early.ageDays}-day-old ${early.storageClass} object: ` +
            `deleting it now is billed as ${early.minimumDays} days of storage`,
        ],
  );
}

/** One `prune` event per backup, kept then deleted, as `renderPrunePlan` orders them. */
export function pruneEvents(plan: PrunePlan): PruneEvent[] {
  const event = (action: 'keep' | 'delete', row: PruneRow): PruneEvent => ({
    event: 'prune',
    snapshot: row.snapshot.name,
    action,
    reasons: row.reasons,
    health: row.health,
    bytes: row.snapshot.objectSize,
    snapshotTime: row.time === undefined ? null : new Date(row.time.time).toISOString(),
    timeSource: row.time?.source ?? null,
    storageClass: row.snapshot.storageClass ?? null,
    earlyDeletion: row.earlyDeletion ?? null,
  });
  return [
    ...plan.kept.map((row) => event('keep', row)),
    ...plan.deleted.map((row) => event('delete', row)),
  ];
}

function nameOf(row: PruneRow): string {
  return snapshotPart(row.snapshot.name);
}

/** `2026-11-26 00:00:00 UTC (sanoid name)`, or `time unknown`. */
function timeOf(row: PruneRow): string {
  if (row.time === undefined) return 'time unknown';
  const iso = new Date(row.time.time).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC (${row.time.source})`;
}
