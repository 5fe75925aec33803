/**
 * When a backup's snapshot was taken, for the retention policy. Objects carry no such time in
 * the original's metadata, so it is found, in order, from:
 * 1. metadata `creation`: the snapshot's `creation` in seconds since the epoch (as `zfs get -p
 *    creation` prints it), which newer backups record, or an ISO 8601 time with its zone;
 * 2. the snapshot name, where it follows zfs-auto-snapshot (`…-2026-11-26-0000`, `%F-%H%M`) or
 *    sanoid (`autosnap_2026-11-26_00:00:02_daily`), read as UTC;
 * 3. the object's LastModified (when it was uploaded, which may be long after the snapshot).
 * Pure: no clock, no environment.
 */

/** Where a backup's time came from (shown by `z3 prune --dry-run --verbose`). */
export type TimeSource = 'creation' | 'zfs-auto-snapshot name' | 'sanoid name' | 'LastModified';

/** A backup's time and where it came from. */
export interface BackupTime {
  /** Milliseconds since the epoch. */
  time: number;
  source: TimeSource;
}

/** What a backup's time may be found from. */
export interface BackupTimeInput {
  /** The full `<dataset>@<snapshot>` name. */
  name: string;
  /** Raw metadata `creation`; undefined when the object has none. */
  creation?: string | undefined;
  /** LastModified, ISO 8601; undefined or `""` when the listing gives none. */
  lastModified?: string | undefined;
}

/** `…-2026-11-26-0000` at the end of the snapshot name. */
const ZFS_AUTO_SNAPSHOT = /-(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})$/;
/** An ISO 8601 date-time with `Z` or an offset (a time without a zone would be read as local). */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** `autosnap_2026-11-26_00:00:02_<type>`. */
const SANOID = /^autosnap_(\d{4})-(\d{2})-(\d{2})_(\d{2}):(\d{2}):(\d{2})_[A-Za-z0-9]+$/;

/** The time of a backup; undefined when none of the three sources gives one. */
export function backupTime(input: BackupTimeInput): BackupTime | undefined {
  const creation = parseCreation(input.creation);
  if (creation !== undefined) return { time: creation, source: 'creation' };
  const snapshot = input.name.slice(input.name.indexOf('@') + 1);
  const sanoid = utcFromMatch(SANOID.exec(snapshot));
  if (sanoid !== undefined) return { time: sanoid, source: 'sanoid name' };
  const autoSnap = utcFromMatch(ZFS_AUTO_SNAPSHOT.exec(snapshot));
  if (autoSnap !== undefined) return { time: autoSnap, source: 'zfs-auto-snapshot name' };
  const modified = Date.parse(input.lastModified ?? '');
  return Number.isNaN(modified) ? undefined : { time: modified, source: 'LastModified' };
}

/** Seconds since the epoch, or ISO 8601 with a zone (`2026-11-26T00:00:02Z`); else undefined. */
function parseCreation(raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? '';
  if (/^\d{1,12}$/.test(text)) return Number(text) * 1000;
  if (!ISO_WITH_ZONE.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/** The UTC time of year, month, day, hour, minute[, second] captures; undefined if not a real date. */
function utcFromMatch(match: RegExpExecArray | null): number | undefined {
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((s) => Number(s ?? 0));
  const time = Date.UTC(year!, month! - 1, day, hour, minute, second ?? 0);
  const d = new Date(time);
  const isReal =
    d.getUTCMonth() === month! - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute;
  return isReal ? time : undefined;
}
