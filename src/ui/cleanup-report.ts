/**
 * How `z3 cleanup` shows its decisions: one line per pending write (age, bytes, key, id, and why
 * a kept one is kept) and per orphaned segment directory, then a summary line; or `pending` and
 * `orphan-segments` events for `--json`. Pure: strings out, the command writes them.
 */
import type { CleanupRow, KeepReason, OrphanRow } from '../plan/cleanup.js';
import { formatAge } from '../plan/status-check.js';
import type { OrphanSegments } from '../transfer/segment-orphans.js';
import type { OrphanSegmentsEvent, PendingEvent } from './events.js';
import { humanizeSize } from './humanize.js';

/** A row of the plan with the bytes its write holds (the sum of its chunks). */
export type CleanupEntry = CleanupRow & { bytes: number };

/** An orphaned segment directory with its decision. */
export type OrphanEntry = OrphanRow<OrphanSegments>;

export interface CleanupReportOptions {
  /** Say `would abort` rather than `abort`. */
  dryRun: boolean;
  /** `--older-than` as the user wrote it (or the default), for `younger than 7d`. */
  olderThan: string;
}

/**
 * `abort  8d  12 M  <key>  (upload <id>)` per write, kept ones with their reason, aborted ones
 * first; then `remove  9d  2 M  <dir>  (3 orphaned segment objects of <fs>@<snap>)` per orphaned
 * segment directory, removed ones first; then `abort 2 (24 M), keep 1`, with `; remove 1
 * orphaned segment directory (2 M), keep 0` when there are any (`would …` with --dry-run).
 */
export function renderCleanupPlan(
  entries: readonly CleanupEntry[],
  options: CleanupReportOptions,
  orphans: readonly OrphanEntry[] = [],
): string {
  const verb = options.dryRun ? 'would abort' : 'abort';
  const cells = [
    ...inReportOrder(entries).map((e) => [
      e.action === 'abort' ? verb : 'keep',
      e.age === undefined ? '?' : formatAge(Math.max(0, e.age)),
      humanizeSize(e.bytes),
      `${e.pending.key}  (upload ${e.pending.id})`,
      e.reason === undefined ? '' : reasonText(e.reason, options.olderThan),
    ]),
    ...orphanCells(orphans, options),
  ];
  const width = (i: number): number => Math.max(0, ...cells.map((row) => row[i]!.length));
  const [actionWidth, ageWidth, sizeWidth] = [width(0), width(1), width(2)];
  const lines = cells.map(([action = '', age = '', size = '', what = '', why = '']) =>
    [action.padEnd(actionWidth), age.padEnd(ageWidth), size.padStart(sizeWidth), what, why]
      .join('  ')
      .trimEnd(),
  );
  const summary = summaryOf(entries, verb) + orphanSummary(orphans, options);
  return [...lines, summary].join('\n') + '\n';
}

function orphanCells(orphans: readonly OrphanEntry[], options: CleanupReportOptions): string[][] {
  const verb = options.dryRun ? 'would remove' : 'remove';
  return orphansInReportOrder(orphans).map((o) => [
    o.action === 'remove' ? verb : 'keep',
    o.age === undefined ? '?' : formatAge(Math.max(0, o.age)),
    humanizeSize(o.bytes),
    `${o.dir}  (${o.keys.length} orphaned segment objects of ${o.snapshotName})`,
    o.reason === undefined ? '' : orphanReasonText(o.reason, options.olderThan),
  ]);
}

/** Removed ones first, then kept ones, each in the order given. */
function orphansInReportOrder(orphans: readonly OrphanEntry[]): OrphanEntry[] {
  return [...removed(orphans), ...orphans.filter((o) => o.action === 'keep')];
}

/** The orphaned segment directories to remove, in the order given. */
export function removed(orphans: readonly OrphanEntry[]): OrphanEntry[] {
  return orphans.filter((o) => o.action === 'remove');
}

/** `; remove 1 orphaned segment directory (2 M), keep 0`; nothing when there is none. */
function orphanSummary(orphans: readonly OrphanEntry[], options: CleanupReportOptions): string {
  if (orphans.length === 0) return '';
  const toRemove = removed(orphans);
  const bytes = toRemove.reduce((sum, o) => sum + o.bytes, 0);
  const noun = toRemove.length === 1 ? 'directory' : 'directories';
  const verb = options.dryRun ? 'would remove' : 'remove';
  return (
    `; ${verb} ${toRemove.length} orphaned segment ${noun} (${humanizeSize(bytes)}), ` +
    `keep ${orphans.length - toRemove.length}`
  );
}

/** As `reasonText`, for a segment directory: why a young one may belong to a running backup. */
function orphanReasonText(reason: KeepReason, olderThan: string): string {
  switch (reason) {
    case 'younger':
      return `younger than ${olderThan}: a backup uploading now owns its segments only once it commits`;
    case 'age unknown':
      return 'age unknown: only --older-than 0 removes it';
    case 'journal':
      return reasonText(reason, olderThan);
  }
}

/** Aborted ones first, then kept ones, each in the order given. */
function inReportOrder(entries: readonly CleanupEntry[]): CleanupEntry[] {
  return [...aborted(entries), ...entries.filter((e) => e.action === 'keep')];
}

/** The entries to abort, in the order given. */
export function aborted(entries: readonly CleanupEntry[]): CleanupEntry[] {
  return entries.filter((e) => e.action === 'abort');
}

/** `abort 2 (24 M), keep 1`. */
function summaryOf(entries: readonly CleanupEntry[], verb: string): string {
  const toAbort = aborted(entries);
  const bytes = toAbort.reduce((sum, e) => sum + e.bytes, 0);
  return `${verb} ${toAbort.length} (${humanizeSize(bytes)}), keep ${entries.length - toAbort.length}`;
}

function reasonText(reason: KeepReason, olderThan: string): string {
  switch (reason) {
    case 'journal':
      return 'a journal in STATE_DIR names it: the next backup resumes it';
    case 'younger':
      return `younger than ${olderThan}`;
    case 'age unknown':
      return 'age unknown: only --older-than 0 aborts it';
  }
}

/** One `pending` event per write, in the order `renderCleanupPlan` shows them. */
export function pendingEvents(entries: readonly CleanupEntry[]): PendingEvent[] {
  return inReportOrder(entries).map((e) => ({
    event: 'pending',
    key: e.pending.key,
    id: e.pending.id,
    started: e.age === undefined ? null : e.pending.started,
    action: e.action,
    reason: e.reason ?? null,
    bytes: e.bytes,
  }));
}

/** One `orphan-segments` event per directory, in the order `renderCleanupPlan` shows them. */
export function orphanEvents(orphans: readonly OrphanEntry[]): OrphanSegmentsEvent[] {
  return orphansInReportOrder(orphans).map((o) => ({
    event: 'orphan-segments',
    dir: o.dir,
    snapshot: o.snapshotName,
    newest: o.age === undefined ? null : o.newest,
    action: o.action,
    reason: o.reason ?? null,
    objects: o.keys.length,
    bytes: o.bytes,
  }));
}
