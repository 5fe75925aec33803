import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT } from '../errors.js';
import { parseIni } from './ini.js';
import { closestName, editDistance } from './known-keys.js';
import type { ConfigSources } from './load.js';
import { CONFIG_KEYS, resolveSettings } from './settings.js';

const FILE = '/etc/z3_backup/z3.conf';

function sources(text: string, env: Record<string, string> = {}): ConfigSources {
  return { filePath: FILE, file: parseIni(text, FILE), env };
}

function configError(text: string): ConfigError {
  try {
    resolveSettings(sources(text), {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('unknown config keys', () => {
  it('a typo in [main] is an error naming file, section, key and the nearest key (exit 2)', () => {
    const err = configError('[main]\nBUCKET = b\nCOMPRESOR = gpg\n');
    expect(err.message).toBe(`${FILE} [main] COMPRESOR: unknown key; did you mean COMPRESSOR?`);
    expect(err.exitCode).toBe(EXIT.USAGE);
    expect(err.hint).toContain('line 3');
  });

  it('checks [fs:…] and [DEFAULT] too; key case does not matter', () => {
    expect(configError('[fs:tank/v1.2:x]\ncompresor = gpg\n').message).toBe(
      `${FILE} [fs:tank/v1.2:x] COMPRESOR: unknown key; did you mean COMPRESSOR?`,
    );
    expect(configError('[DEFAULT]\nS3_SECERT = x\n').message).toBe(
      `${FILE} [DEFAULT] S3_SECERT: unknown key; did you mean S3_SECRET?`,
    );
  });

  it('suggests nothing when no key is within two edits', () => {
    expect(configError('[main]\nRETENTION = 30\n').message).toBe(
      `${FILE} [main] RETENTION: unknown key`,
    );
  });

  it('an unknown section is an error, with the nearest section', () => {
    expect(configError('[mian]\nBUCKET = b\n').message).toBe(
      `${FILE}: unknown section [mian]; did you mean [main]?`,
    );
  });

  it('never echoes a "key" that is not a key name: it may be a secret that lost its "="', () => {
    const err = configError('[main]\nS3_SECRET wJalrXUtnFEMIK7MDENG=bPxRfiCY\n');
    expect(err.message).toBe(
      `${FILE} [main] line 2: not a key name (the line is not shown: it may hold a secret)`,
    );
    expect(`${err.message}\n${err.hint ?? ''}`.toUpperCase()).not.toContain('WJALR');
  });

  it('unknown environment variables are not errors', () => {
    expect(() => resolveSettings(sources('[main]\n', { COMPRESOR: 'gpg' }), {})).not.toThrow();
  });
});

describe('closestName', () => {
  it.each([
    ['COMPRESOR', 'COMPRESSOR'],
    ['COMRPESSOR', 'COMPRESSOR'],
    ['bucket', 'BUCKET'],
    ['CHUNKSIZE', 'CHUNK_SIZE'],
    ['CACHEDIR', 'CACHE_DIR'],
    ['XYZ', undefined],
  ])('%s → %s', (typo, expected) => {
    expect(closestName(typo, CONFIG_KEYS)).toBe(expected);
  });

  it('counts a swap of adjacent characters as one edit', () => {
    expect(editDistance('AB', 'BA')).toBe(1);
    expect(editDistance('KITTEN', 'SITTING')).toBe(3);
    expect(editDistance('', 'ABC')).toBe(3);
  });
});

describe('z3.conf.sample', () => {
  const text = readFileSync(new URL('../../z3.conf.sample', import.meta.url), 'utf8');
  // Keys set, and keys shown commented out (";KEY = example").
  const sampleKeys = new Set(
    [...text.matchAll(/^;?([A-Z][A-Z0-9_]*) = /gm)].map((m) => m[1] as string),
  );

  it('documents every key z3 reads', () => {
    expect(CONFIG_KEYS.filter((k) => !sampleKeys.has(k))).toEqual([]);
  });

  it('names no key z3 does not read', () => {
    expect([...sampleKeys].filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k))).toEqual(
      [],
    );
  });
});
