import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT } from '../errors.js';
import { parseIni } from './ini.js';
import { resolveSettings, type SettingFlags } from './settings.js';

const FILE = '/etc/z3_backup/z3.conf';

function retention(text: string, flags: SettingFlags = {}, env: Record<string, string> = {}) {
  const file = parseIni(text, FILE);
  return resolveSettings({ filePath: FILE, file, env }, flags).retention;
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(EXIT.USAGE);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('KEEP_* settings', () => {
  it('reads counts, unlimited and a restic duration; [fs:] over [main], flags over both', () => {
    const text =
      '[main]\nFILESYSTEM = tank/a\nKEEP_DAILY = 7\nKEEP_MONTHLY = 12\n' +
      '[fs:tank/a]\nKEEP_DAILY = 14\nKEEP_YEARLY = unlimited\nKEEP_WITHIN = 1y6m2d3h\n';
    expect(retention(text)).toEqual({
      daily: 14,
      monthly: 12,
      yearly: 'unlimited',
      within: { years: 1, months: 6, days: 2, hours: 3 },
    });
    expect(retention(text, { keepDaily: '3', keepLast: '2' })).toMatchObject({ daily: 3, last: 2 });
    expect(retention(text, {}, { KEEP_WITHIN: '30d' }).within).toEqual({
      years: 0,
      months: 0,
      days: 30,
      hours: 0,
    });
  });

  it('is empty when no KEEP_* is set, or set to an empty value', () => {
    expect(retention('[main]\nKEEP_LAST =\n')).toEqual({});
  });

  it.each([
    [
      'KEEP_DAILY = -1',
      `${FILE} [main] KEEP_DAILY: expected a whole number from 0 to 1000000, or unlimited`,
    ],
    [
      'KEEP_LAST = 2.5',
      `${FILE} [main] KEEP_LAST: expected a whole number from 0 to 1000000, or unlimited`,
    ],
    [
      'KEEP_HOURLY = lots',
      `${FILE} [main] KEEP_HOURLY: expected a whole number from 0 to 1000000, or unlimited`,
    ],
    ...['30', '1w', 'd30', '30d1y', '-3d', 'forever'].map((value) => [
      `KEEP_WITHIN = ${value}`,
      `${FILE} [main] KEEP_WITHIN: expected a duration like 30d or 1y6m (y years, m months, d days, h hours, in that order)`,
    ]),
  ])('refuses %s (exit 2)', (line, message) => {
    expect(failure(() => retention(`[main]\n${line}\n`))).toBe(message);
  });

  it('names the flag a bad value came from', () => {
    expect(failure(() => retention('[main]\n', { keepWeekly: '-2' }))).toBe(
      '--keep-weekly KEEP_WEEKLY: expected a whole number from 0 to 1000000, or unlimited',
    );
  });

  it('an unknown KEEP_ key in the file names the nearest known one', () => {
    expect(failure(() => retention('[main]\nKEEP_DAYLY = 3\n'))).toMatch(
      /KEEP_DAYLY: unknown key; did you mean KEEP_DAILY\?/,
    );
  });
});
