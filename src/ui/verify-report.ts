/**
 * Output of `z3 verify`: one row per object, `ok` or the reason it is not, as a table or as
 * `verified` events for `--json`.
 */
import type { VerifiedEvent } from './events.js';

/** The result of verifying one object. */
export interface VerifyRow {
  /** `<dataset>@<snapshot>`. */
  name: string;
  /** The object key. */
  key: string;
  /**
   * How far it was checked: `head` (metadata, health, size, ETag), `data` (the stream read and
   * parsed), `object` (bytes against the ETag only, e.g. gpg without its key).
   */
  checked: 'head' | 'object' | 'data';
  /** Why the object is not sound; undefined when it is. */
  reason?: string;
  /** What limited the check, e.g. `gpg key not available: bytes checked against the ETag only`. */
  note?: string;
}

const HEADER = ['NAME', 'CHECKED', 'RESULT'] as const;

/**
 * A header and one line per row: name, what was checked, `ok` or the reason, and any note after
 * the result in parentheses. Columns padded to their widest cell and joined by ` | ` like the
 * status table; the last column is not padded.
 */
export function renderVerifyTable(rows: readonly VerifyRow[]): string {
  const lines = [[...HEADER], ...rows.map(verifyCells)];
  const widths = [0, 1].map((column) =>
    lines.reduce((widest, cells) => Math.max(widest, (cells[column] ?? '').length), 0),
  );
  return lines
    .map((cells) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ') + '\n')
    .join('');
}

function verifyCells(row: VerifyRow): string[] {
  const result = row.reason ?? 'ok';
  return [row.name, row.checked, row.note === undefined ? result : `${result} (${row.note})`];
}

/** The `verified` event of `row`, an object of `bytes` bytes. */
export function verifiedEvent(row: VerifyRow, bytes: number): VerifiedEvent {
  return {
    event: 'verified',
    snapshot: row.name,
    key: row.key,
    checked: row.checked,
    ok: row.reason === undefined,
    reason: row.reason ?? null,
    note: row.note ?? null,
    bytes,
  };
}
