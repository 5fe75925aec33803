/**
 * The retention policy of `z3 prune` from the KEEP_* settings (flags `--keep-*`, environment,
 * `[fs:<dataset>]`, `[main]`), with restic's value syntax: a count is a whole number or
 * `unlimited` (0 = rule off), a duration is `1y5m7d2h` (years, months, days, hours; `30d`).
 */
import { ConfigError } from '../errors.js';
import type { KeepCount, KeepDuration, RetentionPolicy } from '../plan/retention.js';

/** The KEEP_* keys, each with the policy field it sets. */
export const RETENTION_KEYS = {
  KEEP_LAST: 'last',
  KEEP_HOURLY: 'hourly',
  KEEP_DAILY: 'daily',
  KEEP_WEEKLY: 'weekly',
  KEEP_MONTHLY: 'monthly',
  KEEP_YEARLY: 'yearly',
} as const;

type CountKey = keyof typeof RETENTION_KEYS;
type RetentionKey = CountKey | 'KEEP_WITHIN';

/** A raw value and where it came from (`--keep-daily`, `environment`, `<file> [<section>]`). */
type Lookup = (key: RetentionKey) => { value: string; where: string } | undefined;

/** Whole numbers above this are surely a typo (a million hourly backups is 114 years). */
const MAX_COUNT = 1_000_000;

const DURATION = /^(?:(\d{1,4})y)?(?:(\d{1,5})m)?(?:(\d{1,6})d)?(?:(\d{1,7})h)?$/;

/**
 * The policy the KEEP_* values give; `{}` when none is set (the command refuses to prune then).
 * An empty value counts as unset.
 *
 * @throws ConfigError `<where> KEEP_DAILY: expected …` for the first invalid value.
 */
export function parseRetention(lookup: Lookup): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const [key, field] of Object.entries(RETENTION_KEYS) as [CountKey, keyof typeof policy][]) {
    const count = parseCount(lookup(key), key);
    if (count !== undefined) (policy as Record<string, KeepCount>)[field] = count;
  }
  const within = parseWithin(lookup('KEEP_WITHIN'));
  if (within !== undefined) policy.within = within;
  return policy;
}

function parseCount(
  raw: { value: string; where: string } | undefined,
  key: CountKey,
): KeepCount | undefined {
  const text = raw?.value.trim() ?? '';
  if (raw === undefined || text === '') return undefined;
  if (text.toLowerCase() === 'unlimited') return 'unlimited';
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value <= MAX_COUNT)) {
    throw new ConfigError(
      `${raw.where} ${key}: expected a whole number from 0 to ${MAX_COUNT}, or unlimited`,
    );
  }
  return value;
}

function parseWithin(raw: { value: string; where: string } | undefined): KeepDuration | undefined {
  const text = raw?.value.trim() ?? '';
  if (raw === undefined || text === '') return undefined;
  const match = DURATION.exec(text);
  if (match === null) {
    throw new ConfigError(
      `${raw.where} KEEP_WITHIN: expected a duration like 30d or 1y6m ` +
        '(y years, m months, d days, h hours, in that order)',
    );
  }
  const [years, months, days, hours] = match.slice(1).map((n) => Number(n ?? 0));
  return { years: years ?? 0, months: months ?? 0, days: days ?? 0, hours: hours ?? 0 };
}
