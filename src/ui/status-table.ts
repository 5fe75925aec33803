/**
 * Text output of `z3 status` (spec 5). The table format is part of the compatibility contract:
 * scripts parse it, so it matches the original byte for byte, trailing spaces included.
 */
import { snapshotPart } from '../plan/names.js';
import { parseRecordedSendFlags, streamModeOf } from '../plan/send-flags.js';
import type { StatusRow } from '../plan/status.js';
import { humanizeSize } from './humanize.js';

/** When `z3 verify` last found a backup ok, and how far it looked (`head`, `object`, `data`). */
export interface LastVerified {
  at: string;
  level: string;
}

const HEADER = ['NAME', 'PARENT', 'TYPE', 'HEALTH', 'LOCAL STATE', 'SIZE'] as const;

/** What the title line names. */
export interface StatusTitleInput {
  filesystem: string;
  snapshotPrefix: string;
  bucket: string;
  /** S3_PREFIX exactly as the user gave it (not normalised), as the original prints it. */
  s3PrefixRaw: string;
}

/** `backup status for <FILESYSTEM>@<SNAPSHOT_PREFIX>* on <bucket>/<s3-prefix as given>`, without a newline. */
export function renderStatusTitle(input: StatusTitleInput): string {
  return `backup status for ${input.filesystem}@${input.snapshotPrefix}* on ${input.bucket}/${input.s3PrefixRaw}`;
}

/**
 * The header line and one line per row, in the given order, each ending in a newline; with
 * `withChainLength`, a seventh column CHAIN: the row's chain length, empty when it has none. Every
 * column is as wide as its longest cell (header included), counted in code points as Python
 * does; cells are left-aligned and padded with spaces, the last one too; columns are joined by
 * ` | `; there is no separator line.
 */
export function renderStatusTable(
  rows: readonly StatusRow[],
  options: { withChainLength?: boolean; withMode?: boolean } = {},
): string {
  const header: string[] = [...HEADER];
  const lines: string[][] = [header, ...rows.map(statusCells)];
  // Opt-in (`status --chain-length`, `--mode`): the six columns are the original's, which
  // scripts parse.
  if (options.withChainLength === true) {
    header.push('CHAIN');
    rows.forEach((row, i) => lines[i + 1]?.push(row.chainLength?.toString() ?? ''));
  }
  if (options.withMode === true) {
    header.push('MODE');
    rows.forEach((row, i) => lines[i + 1]?.push(modeOf(row) ?? ''));
  }
  const widths = header.map((_, column) =>
    lines.reduce((widest, cells) => Math.max(widest, codePointLength(cells[column] ?? '')), 0),
  );
  return lines
    .map((cells) => cells.map((cell, column) => pad(cell, widths[column] ?? 0)).join(' | ') + '\n')
    .join('');
}

/**
 * The six cells of a row. A backup: NAME, parent's snapshot part (the raw value when it has no
 * `@`, where the original crashed; empty for a full backup), `full`/`incremental`, health, LOCAL
 * STATE, human size or empty. A local-only snapshot: NAME, `-`, `missing`, `-`, `ok`, empty.
 */
export function statusCells(row: StatusRow): string[] {
  const localState = localStateOf(row);
  if (row.type === 'missing') return [row.name, '-', 'missing', '-', localState, ''];
  return [
    row.name,
    row.parent === undefined ? '' : snapshotPart(row.parent),
    row.type,
    row.health ?? '-',
    localState,
    row.size === undefined ? '' : humanizeSize(row.size),
  ];
}

/**
 * JSON Lines: one object per row, each on its own line, for `z3 status --json`. Keys: `name`,
 * `parent` (snapshot part, null when none), `type`, `health` (null when not on S3),
 * `localState` (`ok`/`missing`), `size` (estimated uncompressed bytes, null when unknown),
 * `objectSize` (stored bytes, null when not on S3), `snapshot` (full `<dataset>@<snapshot>`),
 * `chainLength` (objects a restore receives, the full included; null when broken or not on S3),
 * `verified` (the last `z3 verify` that found this very object ok, `{ at, level }`, else null),
 * `mode` (`plain`, `raw`, `compressed` or `raw+compressed`; null when not on S3) and `sendFlags`
 * (the recorded `zfs send` letters, `''` for none; null when not on S3).
 */
export function renderStatusJson(
  rows: readonly StatusRow[],
  verified: ReadonlyMap<string, LastVerified> = new Map(),
): string {
  return rows
    .map(
      (row) =>
        JSON.stringify({
          name: row.name,
          parent: row.parent === undefined ? null : snapshotPart(row.parent),
          type: row.type,
          health: row.health ?? null,
          localState: localStateOf(row),
          size: row.size ?? null,
          objectSize: row.objectSize ?? null,
          snapshot: row.snapshot,
          chainLength: row.chainLength ?? null,
          mode: modeOf(row) ?? null,
          sendFlags: row.type === 'missing' ? null : (row.sendFlags ?? ''),
          verified: verified.get(row.snapshot) ?? null,
        }) + '\n',
    )
    .join('');
}

/**
 * LOCAL STATE: `ok` / `missing` as the original prints; `differs` (ours) when the local snapshot
 * of that name has another guid than the one backed up, so it is not the same snapshot.
 */
function localStateOf(row: StatusRow): 'ok' | 'missing' | 'differs' {
  if (!row.isLocal) return 'missing';
  return row.isGuidDifferent ? 'differs' : 'ok';
}

/** The stream mode a backup was sent with; undefined for a snapshot not on S3. */
function modeOf(row: StatusRow): string | undefined {
  if (row.type === 'missing') return undefined;
  return streamModeOf(parseRecordedSendFlags(row.sendFlags));
}

function codePointLength(text: string): number {
  return Array.from(text).length;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - codePointLength(text)));
}
