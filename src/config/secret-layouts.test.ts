/** A secret written in a malformed config layout never reaches an error message. */
import { describe, expect, it } from 'vitest';
import { redact } from '../cli/secrets.js';
import { ConfigError } from '../errors.js';
import { parseIni } from './ini.js';
import { resolveSettings } from './settings.js';

const FILE = '/etc/z3_backup/z3.conf';
/** Shaped like an AWS secret, without "/" or "+" so that it could pass for other values. */
const SECRET = 'wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1';

/** The message and hint of the ConfigError that reading `text` (and `env`) must raise. */
function errorText(text: string, env: Record<string, string> = {}): string {
  try {
    resolveSettings({ filePath: FILE, file: parseIni(text, FILE), env }, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return `${(err as ConfigError).message}\n${(err as ConfigError).hint ?? ''}`;
  }
  throw new Error('expected a ConfigError');
}

describe('secrets in malformed config layouts', () => {
  it.each([
    ['an indented S3_SECRET after BUCKET', `[main]\nBUCKET = x\n    S3_SECRET = ${SECRET}\n`],
    ['an indented S3_SECRET after HOST', `[main]\nHOST = h\n\tS3_SECRET = ${SECRET}\n`],
    ['S3_SECRET without its "="', `[main]\nS3_SECRET ${SECRET}\n`],
    ['S3_SECRET without its "=" and a "=" inside', `[main]\nS3_SECRET ${SECRET}=x\n`],
    ['the secret pasted into BUCKET', `[main]\nBUCKET = ${SECRET}/x\n`],
    ['the secret alone on a line', `[main]\nBUCKET = b\n${SECRET}\n`],
    ['a lone "%" in the secret', `[main]\nS3_SECRET = ${SECRET}%\n`],
  ])('%s: an error that does not show it', (_label, text) => {
    const shown = errorText(text).toLowerCase();
    expect(shown).not.toContain(SECRET.toLowerCase());
    expect(shown).not.toContain(SECRET.slice(0, 12).toLowerCase());
  });

  it('registers S3_SECRET of every section, and the AWS secret variables, before any check', () => {
    const inOtherSection = 'other-section-secret-value';
    const fromAws = 'aws-env-secret-access-key';
    const token = 'aws-env-session-token';
    errorText(`[main]\nCHUNK_SIZE = lots\n[fs:tank/other]\nS3_SECRET = ${inOtherSection}\n`, {
      AWS_SECRET_ACCESS_KEY: fromAws,
      AWS_SESSION_TOKEN: token,
    });
    expect(redact(`a ${inOtherSection} b ${fromAws} c ${token}`)).toBe('a *** b *** c ***');
  });
});

describe('BUCKET', () => {
  function bucketOf(name: string): string | undefined {
    const file = parseIni(`[main]\nBUCKET = ${name}\n`, FILE);
    return resolveSettings({ filePath: FILE, file, env: {} }, {}).bucket;
  }

  it.each(['my-backups', 'a.b.c', 'b', 'Legacy_Bucket', 'x'.repeat(255)])('accepts %s', (name) => {
    expect(bucketOf(name)).toBe(name);
  });

  it.each(['my bucket', 'a/b', '-abc', 'abc.', 'a+b', 'a=b', 'a:b', 'x'.repeat(256)])(
    'refuses %j without showing it',
    (name) => {
      const shown = errorText(`[main]\nBUCKET = ${name}\n`);
      expect(shown).toMatch(/^\/etc\/z3_backup\/z3\.conf \[main\] BUCKET: expected a bucket name/);
      expect(shown).not.toContain(name);
    },
  );
});
