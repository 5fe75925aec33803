/**
 * How `z3 cleanup` shows its decisions: one line per pending write (age, bytes, key, id, and why
 * a kept one is kept), then a summary line; or `pending` events for `--json`. Pure: strings
 * out, the command writes them.
 */
import type { CleanupRow, KeepReason } from '../plan/cleanup.js';
import { formatAge } from '../plan/status-check.js';
import type { PendingEvent } from './events.js';
import { humanizeSize } from './humanize.js';

/** A row of the plan with the bytes its write holds (the sum of its chunks). */
export type CleanupEntry = CleanupRow & { bytes: number };

export interface CleanupReportOptions {
  /** Say `would abort` rather than `abort`. */
  dryRun: boolean;
  /** `--older-than` as the user wrote it (or the default), for `younger than 7d`. */
  olderThan: string;
}

/**
 * `abort  8d  12 M  <key>  (upload <id>)` per write, kept ones with their reason, aborted ones
 * first; then `abort 2 (24 M), keep 1` (`would abort …` with --dry-run).
 */
export function renderCleanupPlan(
  entries: readonly CleanupEntry[],
  options: CleanupReportOptions,
): string {
  const verb = options.dryRun ? 'would abort' : 'abort';
  const cells = inReportOrder(entries).map((e) => [
    e.action === 'abort' ? verb : 'keep',
    e.age === undefined ? '?' : formatAge(Math.max(0, e.age)),
    humanizeSize(e.bytes),
    `${e.pending.key}  (upload ${e.pending.id})`,
    e.reason === undefined ? '' : reasonText(e.reason, options.olderThan),
  ]);
  const width = (i: number): number => Math.max(0, ...cells.map((row) => row[i]!.length));
  const [actionWidth, ageWidth, sizeWidth] = [width(0), width(1), width(2)];
  const lines = cells.map(([action = '', age = '', size = '', what = '', why = '']) =>
    [action.padEnd(actionWidth), age.padEnd(ageWidth), size.padStart(sizeWidth), what, why]
      .join('  ')
      .trimEnd(),
  );
  return [...lines, summaryOf(entries, verb)].join('\n') + '\n';
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
