import { describe, expect, it } from 'vitest';
import { computeHealth } from './health.js';
import { checkBackups, CHECK_EXIT, formatAge, parseAge, type CheckState } from './status-check.js';
import { fullBackup, incrementalBackup } from './testing.js';
import type { RemoteSnapshot } from './types.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-26T12:00:00Z');
const CREATED = (hoursAgo: number): { creation: string } => ({
  creation: String((NOW - hoursAgo * HOUR) / 1000),
});

/** A healthy chain whose newest backup is `hoursAgo` old (its full a day before). */
function chainAged(hoursAgo: number): RemoteSnapshot[] {
  return [
    fullBackup('tank/data@a', CREATED(hoursAgo + 24)),
    incrementalBackup('tank/data@b', 'tank/data@a', CREATED(hoursAgo)),
  ];
}

function check(remote: RemoteSnapshot[]): { state: CheckState; line: string } {
  const health = computeHealth(remote);
  return checkBackups({
    dataset: 'tank/data',
    remote,
    health,
    now: NOW,
    warnAfter: 26 * HOUR,
    critAfter: 50 * HOUR,
  });
}

describe('checkBackups (--warn 26h --crit 50h)', () => {
  it.each<[string, RemoteSnapshot[], CheckState, string]>([
    [
      '3h old',
      chainAged(3),
      'OK',
      'OK: tank/data newest backup 3h ago, chain healthy | age=10800s;93600;180000;0 backups=2',
    ],
    [
      'just under warn',
      chainAged(25.99),
      'OK',
      'OK: tank/data newest backup 25h ago, chain healthy',
    ],
    [
      'exactly warn',
      chainAged(26),
      'WARNING',
      'WARNING: tank/data newest backup 26h ago, chain healthy',
    ],
    [
      'between',
      chainAged(49),
      'WARNING',
      'WARNING: tank/data newest backup 49h ago, chain healthy',
    ],
    [
      'exactly crit',
      chainAged(50),
      'CRITICAL',
      'CRITICAL: tank/data newest backup 50h ago, chain healthy',
    ],
    [
      'a week old',
      chainAged(24 * 7),
      'CRITICAL',
      'CRITICAL: tank/data newest backup 7d ago, chain healthy',
    ],
    ['no backup', [], 'CRITICAL', 'CRITICAL: tank/data has no backup'],
    [
      'fresh but broken',
      [...chainAged(1), incrementalBackup('tank/data@c', 'tank/data@gone', CREATED(0.5))],
      'CRITICAL',
      'CRITICAL: tank/data newest backup 30m ago, 1 broken backup (tank/data@c: missing parent)',
    ],
    [
      'an old broken one counts too',
      [incrementalBackup('tank/data@0', 'tank/data@x', CREATED(900)), ...chainAged(2)],
      'CRITICAL',
      'CRITICAL: tank/data newest backup 2h ago, 1 broken backup (tank/data@0: missing parent)',
    ],
    [
      'time from the name when no creation',
      [fullBackup('tank/data@zfs-auto-snap_daily-2026-11-26-0900')],
      'OK',
      'OK: tank/data newest backup 3h ago, chain healthy',
    ],
    [
      'no time at all',
      [fullBackup('tank/data@plain')],
      'UNKNOWN',
      'UNKNOWN: tank/data: no backup tells its time',
    ],
  ])('%s → %s', (_, remote, state, line) => {
    const result = check(remote);
    expect(result.state).toBe(state);
    expect(result.line.startsWith(line)).toBe(true);
  });

  it('a backup from the future (clock skew) is age 0, not negative', () => {
    expect(check(chainAged(-2)).line).toContain('newest backup 0m ago');
  });

  it('exit codes follow the plugin convention', () => {
    expect(CHECK_EXIT).toEqual({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 });
  });
});

describe('parseAge / formatAge', () => {
  it.each<[string, number | undefined]>([
    ['26h', 26 * HOUR],
    ['2d', 48 * HOUR],
    ['90m', 1.5 * HOUR],
    ['1d2h', 26 * HOUR],
    [' 30s ', 30_000],
    ['0h', undefined],
    ['26', undefined],
    ['h', undefined],
    ['-1h', undefined],
    ['1w', undefined],
  ])('parseAge(%j) = %s', (text, ms) => {
    expect(parseAge(text)).toBe(ms);
  });

  it.each<[number, string]>([
    [59_999, '0m'],
    [HOUR - 1, '59m'],
    [HOUR, '1h'],
    [71.9 * HOUR, '71h'],
    [72 * HOUR, '3d'],
  ])('formatAge(%d) = %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
