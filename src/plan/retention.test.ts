import { describe, expect, it } from 'vitest';
import { applyRetention, isEmptyPolicy, type RetentionPolicy } from './retention.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

/** Items named by their UTC time, e.g. `2026-11-26T10:00`. */
function items(...times: string[]): { name: string; time: number }[] {
  return times.map((t) => ({ name: t, time: Date.parse(`${t}Z`) }));
}

function kept(times: string[], policy: RetentionPolicy, now = NOW): Record<string, string[]> {
  return Object.fromEntries(applyRetention(items(...times), policy, now));
}

/** restic's documented example: one backup every Sunday for 12 weeks. */
const SUNDAYS = [
  '2019-09-01T11:00',
  '2019-09-08T11:00',
  '2019-09-15T11:00',
  '2019-09-22T11:00',
  '2019-09-29T11:00',
  '2019-10-06T11:00',
  '2019-10-13T11:00',
  '2019-10-20T11:00',
  '2019-10-27T11:00',
  '2019-11-03T11:00',
  '2019-11-10T11:00',
  '2019-11-17T11:00',
];

describe('applyRetention (restic forget semantics)', () => {
  it('--keep-daily 4 on weekly backups keeps the last four Sundays (restic docs example)', () => {
    expect(Object.keys(kept(SUNDAYS, { daily: 4 })).sort()).toEqual(SUNDAYS.slice(8));
  });

  it('a period counts only if it holds a backup, and keeps its newest backup', () => {
    const times = ['2026-11-20T01:00', '2026-11-20T23:00', '2026-11-23T05:00', '2026-11-23T06:00'];
    expect(kept(times, { daily: 2 })).toEqual({
      '2026-11-23T06:00': ['daily snapshot'],
      '2026-11-20T23:00': ['daily snapshot'],
    });
  });

  it('a count left when the backups run out keeps the oldest too', () => {
    const times = ['2026-11-26T01:00', '2026-11-26T02:00', '2026-11-26T03:00'];
    expect(kept(times, { daily: 3 })).toEqual({
      '2026-11-26T03:00': ['daily snapshot'],
      '2026-11-26T01:00': ['oldest daily snapshot'],
    });
  });

  it('--keep-last keeps the newest n; ties in time are ordered by name', () => {
    const same = [
      { name: 'a', time: 5 },
      { name: 'c', time: 5 },
      { name: 'b', time: 5 },
    ];
    expect([...applyRetention(same, { last: 2 }, NOW).keys()]).toEqual(['c', 'b']);
  });

  it('reasons accumulate: a backup kept by several rules lists them all', () => {
    expect(
      kept(['2026-11-22T10:00', '2026-11-29T10:00'], { last: 1, daily: 1, weekly: 1 }),
    ).toEqual({
      '2026-11-29T10:00': ['last snapshot', 'daily snapshot', 'weekly snapshot'],
    });
  });

  it('weeks run Monday to Sunday (ISO weeks), across a year boundary', () => {
    // 2026-12-31 (Thursday) and 2027-01-03 (Sunday) are both in ISO week 2026-53.
    const times = ['2026-12-27T12:00', '2026-12-31T12:00', '2027-01-03T12:00', '2027-01-04T12:00'];
    expect(Object.keys(kept(times, { weekly: 3 })).sort()).toEqual([
      '2026-12-27T12:00',
      '2027-01-03T12:00',
      '2027-01-04T12:00',
    ]);
  });

  it('hourly, monthly, yearly and unlimited', () => {
    const times = ['2024-03-01T10:10', '2025-02-01T10:20', '2025-02-05T10:30', '2025-02-05T11:00'];
    expect(Object.keys(kept(times, { hourly: 2 })).sort()).toEqual(times.slice(2));
    expect(Object.keys(kept(times, { monthly: 1 }))).toEqual(['2025-02-05T11:00']);
    expect(Object.keys(kept(times, { monthly: 3 }))).toEqual(['2025-02-05T11:00', times[0]]);
    expect(Object.keys(kept(times, { yearly: 'unlimited' })).sort()).toEqual([times[0], times[3]]);
  });

  it('--keep-within keeps everything less than the duration older than the newest backup', () => {
    const times = ['2026-10-25T23:00', '2026-10-26T01:00', '2026-11-26T00:00'];
    expect(kept(times, { within: { years: 0, months: 1, days: 0, hours: 0 } })).toEqual({
      '2026-11-26T00:00': ['within 1m'],
      '2026-10-26T01:00': ['within 1m'],
    });
  });

  it('--keep-within measures from the newest backup not in the future', () => {
    const times = ['2026-11-01T00:00', '2026-11-20T00:00', '2031-01-01T00:00'];
    const within = { years: 0, months: 0, days: 10, hours: 0 };
    expect(Object.keys(kept(times, { within })).sort()).toEqual(times.slice(1));
  });

  it('an empty policy is recognised (0 counts and a zero duration keep nothing)', () => {
    expect(isEmptyPolicy({})).toBe(true);
    expect(isEmptyPolicy({ last: 0, within: { years: 0, months: 0, days: 0, hours: 0 } })).toBe(
      true,
    );
    expect(isEmptyPolicy({ daily: 'unlimited' })).toBe(false);
    expect(isEmptyPolicy({ within: { years: 0, months: 0, days: 0, hours: 1 } })).toBe(false);
  });
});
