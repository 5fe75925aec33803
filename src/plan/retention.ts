/**
 * Which backups a retention policy keeps: restic's `forget` policy (restic
 * internal/restic/snapshot_policy.go, `ApplyPolicy`), applied to backups with a time. Pure: the
 * caller passes the time to compare against (`now`), and calendar periods are taken in UTC.
 *
 * The rules, as restic has them: backups are walked newest first; `last` keeps the newest n;
 * `hourly`/`daily`/`weekly`/`monthly`/`yearly` keep the newest backup of each of the newest n
 * periods that hold a backup (a period without one does not count); `within` keeps every backup
 * less than the duration older than the newest backup. A count left over when the backups run
 * out keeps the oldest backup as well (`oldest daily snapshot`), which stretches the history
 * kept. A backup is kept when any rule keeps it. Chains are not this module's concern
 * (./prune.ts adds the ancestors a kept backup needs).
 */

/** A count of a calendar rule: a number of periods, or `unlimited` (every period). */
export type KeepCount = number | 'unlimited';

/** A restic duration, `1y5m7d2h`: calendar years, months, days, then hours. */
export interface KeepDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

/** The `--keep-*` options; an absent (or 0) count and an absent duration keep nothing. */
export interface RetentionPolicy {
  last?: KeepCount | undefined;
  hourly?: KeepCount | undefined;
  daily?: KeepCount | undefined;
  weekly?: KeepCount | undefined;
  monthly?: KeepCount | undefined;
  yearly?: KeepCount | undefined;
  within?: KeepDuration | undefined;
}

/** The counted rules, in restic's order (which is the order reasons are listed in). */
export const COUNT_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type CountRule = (typeof COUNT_RULES)[number];

/** One backup as the policy sees it. */
export interface DatedItem {
  name: string;
  /** Milliseconds since the epoch. */
  time: number;
}

/** True when the policy keeps nothing at all (restic refuses such a policy, and so do we). */
export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  const hasCount = COUNT_RULES.some((rule) => isActive(policy[rule]));
  return !hasCount && (policy.within === undefined || isZeroDuration(policy.within));
}

/** `1y2m`, `30d`: the duration as restic writes it. */
export function formatDuration(d: KeepDuration): string {
  const parts: [number, string][] = [
    [d.years, 'y'],
    [d.months, 'm'],
    [d.days, 'd'],
    [d.hours, 'h'],
  ];
  const text = parts.flatMap(([n, unit]) => (n === 0 ? [] : [`${n}${unit}`])).join('');
  return text === '' ? '0h' : text;
}

/**
 * The reasons each item is kept for, by name (restic's wording: `last snapshot`, `daily
 * snapshot`, `oldest daily snapshot`, `within 30d`); an item absent from the map is not kept.
 * Items are walked newest first; equal times are ordered by name, the greater first.
 */
export function applyRetention(
  items: readonly DatedItem[],
  policy: RetentionPolicy,
  now: number,
): Map<string, string[]> {
  const sorted = [...items].sort((a, b) => b.time - a.time || compareNames(b.name, a.name));
  const buckets = COUNT_RULES.map((rule) => ({
    rule,
    left: policy[rule] ?? 0,
    last: undefined as number | undefined,
  }));
  const cutoff = policy.within === undefined ? undefined : withinCutoff(sorted, policy.within, now);
  const kept = new Map<string, string[]>();
  sorted.forEach((item, index) => {
    const reasons: string[] = [];
    if (cutoff !== undefined && policy.within !== undefined && item.time > cutoff) {
      reasons.push(`within ${formatDuration(policy.within)}`);
    }
    const isOldest = index === sorted.length - 1;
    for (const bucket of buckets) {
      if (!isActive(bucket.left)) continue;
      const period = periodOf(bucket.rule, item.time, index);
      if (period === bucket.last && !isOldest) continue;
      const label = `${bucket.rule} snapshot`;
      reasons.push(period === bucket.last ? `oldest ${label}` : label);
      bucket.last = period;
      if (typeof bucket.left === 'number') bucket.left -= 1;
    }
    if (reasons.length > 0) kept.set(item.name, reasons);
  });
  return kept;
}

function isActive(count: KeepCount | undefined): boolean {
  return count === 'unlimited' || (count !== undefined && count > 0);
}

function isZeroDuration(d: KeepDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Items newer than this are kept by `within`: the newest item not in the future, minus the
 * duration (calendar arithmetic, as Go's AddDate: 31 March minus a month is 3 March). With no
 * such item, everything is kept (the cutoff is -Infinity), as restic does.
 */
function withinCutoff(sorted: readonly DatedItem[], within: KeepDuration, now: number): number {
  if (isZeroDuration(within)) return Infinity;
  const latest = sorted.find((item) => item.time < now);
  if (latest === undefined) return -Infinity;
  const d = new Date(latest.time);
  const shifted = Date.UTC(
    d.getUTCFullYear() - within.years,
    d.getUTCMonth() - within.months,
    d.getUTCDate() - within.days,
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
  return shifted - within.hours * 3_600_000;
}

/** The period `time` falls in for `rule`, as one number (`last`: every item its own period). */
function periodOf(rule: CountRule, time: number, index: number): number {
  const d = new Date(time);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  switch (rule) {
    case 'last':
      return index;
    case 'hourly':
      return ((year * 100 + month) * 100 + d.getUTCDate()) * 100 + d.getUTCHours();
    case 'daily':
      return (year * 100 + month) * 100 + d.getUTCDate();
    case 'weekly':
      return isoWeek(d);
    case 'monthly':
      return year * 100 + month;
    case 'yearly':
      return year;
  }
}

/** ISO 8601 week as `YYYYWW` (weeks run Monday to Sunday; week 1 holds the first Thursday). */
function isoWeek(d: Date): number {
  const day = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const weekYear = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / (7 * 86_400_000)) + 1;
  return weekYear * 100 + week;
}
