/**
 * Parsers of `zfs` output. Pure: text in, data out. Names are whatever sits between the tabs
 * (ZFS names may contain spaces; no tab or newline), never interpreted.
 */
import { CommandFailedError } from '../errors.js';

/** One line of `zfs list -H -p -o name,createtxg,used,referenced,creation,guid`. */
export interface ZfsSnapshot {
  /** Full name `<dataset>@<snapshot>`. */
  name: string;
  /** Transaction group that created it: increases with creation order. */
  createtxg: number;
  /** Bytes unique to this snapshot. */
  used: number;
  /** Bytes referenced by this snapshot. */
  referenced: number;
  /** When it was taken, in seconds since the epoch (`-p` prints the property so). */
  creation: number;
  /** Its 64-bit guid in decimal, kept as text: it does not fit a double. */
  guid: string;
}

/** The columns of `zfs list` that `parseZfsList` reads, in order: the name, then numbers. */
export const ZFS_LIST_COLUMNS = 'name,createtxg,used,referenced,creation,guid';

/**
 * Parse `zfs list -H -p -o <ZFS_LIST_COLUMNS>` output. The five numbers are taken from the
 * right, so the name is everything before them. Throws a CommandFailedError for a line that
 * does not have that shape.
 */
export function parseZfsList(text: string): ZfsSnapshot[] {
  const rows: ZfsSnapshot[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const row = parseListLine(line);
    if (row === undefined) {
      throw new CommandFailedError(
        `unexpected output from zfs list, line ${index + 1}: ${JSON.stringify(line)}`,
      );
    }
    rows.push(row);
  }
  return rows;
}

function parseListLine(line: string): ZfsSnapshot | undefined {
  const fields = line.split('\t');
  const name = fields.slice(0, -5).join('\t');
  const [createtxg, used, referenced, creation] = fields.slice(-5, -1).map(parseCount);
  const guid = fields.at(-1) ?? '';
  const isComplete =
    name !== '' &&
    createtxg !== undefined &&
    used !== undefined &&
    referenced !== undefined &&
    creation !== undefined &&
    /^\d+$/.test(guid);
  return isComplete ? { name, createtxg, used, referenced, creation, guid } : undefined;
}

/** One stream of a `zfs send -nvP` estimate. */
export interface SendEstimateStream {
  kind: 'full' | 'incremental';
  /** Incremental source as zfs prints it (full name, or the short name after `@` for -I). */
  from: string | undefined;
  to: string;
  size: number;
}

export interface SendEstimate {
  /** Total estimated stream size in bytes: the `size` line. */
  size: number;
  streams: SendEstimateStream[];
}

/**
 * Parse the output of `zfs send -nvP`. Every OpenZFS from 0.7 to 2.3 prints one line per stream
 * (`full\t<snap>\t<bytes>` or `incremental\t<from>\t<snap>\t<bytes>`) and then `size\t<bytes>`;
 * the total is the last `size` line (spec 6.2), or the sum of the streams if a version omits it.
 * Other lines (warnings, resume-token dumps) are ignored. undefined when there is no estimate.
 */
export function parseSendEstimate(text: string): SendEstimate | undefined {
  const streams: SendEstimateStream[] = [];
  let total: number | undefined;
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/\r$/, '').split('\t');
    const size = parseCount(fields.at(-1) ?? '');
    if (size === undefined) continue;
    const [kind, a, b] = fields;
    if (kind === 'size' && fields.length === 2) total = size;
    else if (kind === 'full' && fields.length === 3 && a !== undefined) {
      streams.push({ kind, from: undefined, to: a, size });
    } else if (
      kind === 'incremental' &&
      fields.length === 4 &&
      a !== undefined &&
      b !== undefined
    ) {
      streams.push({ kind, from: a, to: b, size });
    }
  }
  if (total === undefined && streams.length === 0) return undefined;
  return { size: total ?? streams.reduce((sum, s) => sum + s.size, 0), streams };
}

/** A non-negative integer as `-p` prints it; undefined for anything else (`-`, `1.5K`). */
function parseCount(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
