import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { findSection, parseIni, type IniFile } from './ini.js';

function entries(file: IniFile, section: string): Record<string, string> {
  const found = findSection(file, section);
  if (found === undefined) throw new Error(`no section ${section}`);
  return Object.fromEntries([...found.entries].map(([k, e]) => [k, e.value]));
}

function parseError(text: string): string {
  try {
    parseIni(text, 'z3.conf');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseIni', () => {
  it('keeps sections in order and upper-cases keys', () => {
    const file = parseIni('[main]\nbucket = b\n[fs:tank/a]\nCompressor=pigz4\n', 'z3.conf');
    expect(file.fileName).toBe('z3.conf');
    expect(file.sections.map((s) => s.name)).toEqual(['main', 'fs:tank/a']);
    expect(entries(file, 'main')).toEqual({ BUCKET: 'b' });
    expect(entries(file, 'fs:tank/a')).toEqual({ COMPRESSOR: 'pigz4' });
  });

  it('takes section names with / . : - _ and spaces as written', () => {
    const names = ['fs:tank/v1.2:x', 'fs:pool/my data-set_1', 'fs:a:b:c'];
    const file = parseIni(names.map((n) => `[${n}]\nK = ${n}\n`).join(''), 'z3.conf');
    expect(file.sections.map((s) => s.name)).toEqual(names);
    for (const n of names) expect(entries(file, n)).toEqual({ K: n });
  });

  it('splits on the first = or : (configparser style)', () => {
    const file = parseIni(
      '[main]\nSNAPSHOT_PREFIX: zfs-auto-snap:daily\nHOST = http://h:9000\nA=b=c\nEMPTY =\n',
      'f',
    );
    expect(entries(file, 'main')).toEqual({
      SNAPSHOT_PREFIX: 'zfs-auto-snap:daily',
      HOST: 'http://h:9000',
      A: 'b=c',
      EMPTY: '',
    });
  });

  it('skips # and ; comment lines and blank lines, keeps text after the value', () => {
    const file = parseIni(
      '# top\n; also\n[main]\n  # indented comment\n\nK = v ; not a comment\n',
      'f',
    );
    expect(entries(file, 'main')).toEqual({ K: 'v ; not a comment' });
  });

  it('turns %% into % and rejects a lone %', () => {
    expect(entries(parseIni('[main]\nP = 100%%-sure%%\n', 'f'), 'main')).toEqual({
      P: '100%-sure%',
    });
    expect(parseError('[main]\n\nGPG_RECIPIENT = 50%off\n')).toBe(
      'z3.conf:3: GPG_RECIPIENT: a literal "%" must be written "%%"',
    );
    expect(parseError('[main]\nK = %(other)s\n')).toMatch(/^z3\.conf:2: K: /);
    expect(parseError('[main]\nK = trailing%\n')).toMatch(/^z3\.conf:2: K: /);
  });

  it('rejects keys before any section', () => {
    expect(parseError('\nBUCKET = b\n[main]\n')).toBe(
      'z3.conf:2: key BUCKET appears before any [section] header',
    );
  });

  it('rejects lines that are neither header nor key', () => {
    expect(parseError('[main]\njust words\n')).toBe(
      'z3.conf:2: expected "[section]" or "key = value"',
    );
    expect(parseError('[main]\n= v\n')).toBe('z3.conf:2: missing key name before "="');
    expect(parseError('[fs:tank/a] # note\n')).toBe(
      'z3.conf:1: malformed section header "[fs:tank/a] # note"',
    );
    expect(parseError('[]\n')).toMatch(/^z3\.conf:1: malformed section header/);
  });

  it('lets the last duplicate key win and merges repeated sections', () => {
    const file = parseIni('[main]\nK = 1\nk = 2\n[x]\n[main]\nL = 3\n', 'f');
    expect(file.sections.map((s) => s.name)).toEqual(['main', 'x']);
    expect(entries(file, 'main')).toEqual({ K: '2', L: '3' });
    expect(findSection(file, 'main')?.entries.get('K')?.line).toBe(3);
  });

  it('refuses an indented line after a key, naming file, line and key, not the line', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY';
    const message = parseError(`[main]\nBUCKET = x\n    S3_SECRET = ${secret}\n`);
    expect(message).toBe(
      'z3.conf:3: an indented line would continue the value of BUCKET; every value takes one line',
    );
    expect(parseError('[main]\nSSH_OPTIONS = -o A=1\n    -o B=2\n')).toMatch(
      /^z3.conf:3: .* SSH_OPTIONS;/,
    );
  });

  it('reads an indented key after a header, and keys indented alike, as keys', () => {
    const file = parseIni('[main]\n  K = 1\n  L = 2\n', 'f');
    expect(entries(file, 'main')).toEqual({ K: '1', L: '2' });
  });

  it('handles CRLF line ends, a BOM and an empty file', () => {
    expect(entries(parseIni('\uFEFF[main]\r\nK = v\r\n', 'f'), 'main')).toEqual({ K: 'v' });
    expect(parseIni('', '/dev/null').sections).toEqual([]);
  });

  it('keeps section names case-sensitive', () => {
    const file = parseIni('[Main]\nK = v\n', 'f');
    expect(findSection(file, 'main')).toBeUndefined();
    expect(findSection(file, 'Main')).toBeDefined();
  });
});
