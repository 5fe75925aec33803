import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT } from '../errors.js';
import { injected } from '../testing/faults.js';
import { parseIni } from './ini.js';
import { resolveSettings, type SettingFlags } from './settings.js';

const FILE = '/etc/z3_backup/z3.conf';

function limits(text: string, flags: SettingFlags = {}, env: Record<string, string> = {}) {
  const file = parseIni(text, FILE);
  return resolveSettings({ filePath: FILE, file, env }, flags).chainLimits;
}

describe('FULL_EVERY and MAX_CHAIN', () => {
  it('read from [main], [fs:] over [main], environment and flags over both', () => {
    const text =
      '[main]\nFILESYSTEM = tank/a\nFULL_EVERY = 30d\nMAX_CHAIN = 30\n' +
      '[fs:tank/a]\nMAX_CHAIN = 7\n';
    expect(limits(text)).toEqual({
      fullEvery: { years: 0, months: 0, days: 30, hours: 0 },
      maxChain: 7,
    });
    expect(limits(text, { fullEvery: '1m', maxChain: '3' })).toEqual({
      fullEvery: { years: 0, months: 1, days: 0, hours: 0 },
      maxChain: 3,
    });
    expect(limits(text, {}, { MAX_CHAIN: '0' }).maxChain).toBe(0);
  });

  it('unset, or empty in [fs:] to turn off what [main] sets: no limits', () => {
    expect(limits('[main]\nFILESYSTEM = tank/a\n')).toEqual({});
    const text = '[main]\nFILESYSTEM = tank/a\nFULL_EVERY = 30d\n[fs:tank/a]\nFULL_EVERY =\n';
    expect(limits(text)).toEqual({});
  });

  it.each([
    [
      { maxChain: '-1' },
      '--max-chain MAX_CHAIN: expected a whole number of backups from 1 to 1000000 (0: no limit)',
    ],
    [{ maxChain: '3.5' }, '--max-chain MAX_CHAIN: expected a whole number'],
    [{ maxChain: '1000001' }, '--max-chain MAX_CHAIN: expected a whole number'],
    [{ fullEvery: '30' }, '--full-if-older-than FULL_EVERY: expected a duration like 30d or 1y6m'],
    [{ fullEvery: '2w' }, '--full-if-older-than FULL_EVERY: expected a duration like 30d'],
    [{ fullEvery: 'd30' }, '--full-if-older-than FULL_EVERY: expected a duration like 30d'],
  ] as const)(
    '%j is a ConfigError (exit 2) naming the flag and key',
    { tags: ['faults'] },
    (flags, message) => {
      const run = (): unknown => limits('[main]\n', flags);
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(message);
      expect(run).toThrow(expect.objectContaining({ exitCode: EXIT.USAGE }));
      injected('bad input');
    },
  );

  it('names the file and section of a bad value', { tags: ['faults'] }, () => {
    const run = (): unknown => limits('[main]\nMAX_CHAIN = many\n');
    expect(run).toThrow(`${FILE} [main] MAX_CHAIN: expected a whole number`);
    injected('bad input');
  });
});
