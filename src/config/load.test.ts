import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { findSection } from './ini.js';
import { DEFAULT_CONFIG_PATH, loadConfigSources } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'z3-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function loadError(options: Parameters<typeof loadConfigSources>[0]): ConfigError {
  try {
    loadConfigSources(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfigSources', () => {
  it('prefers --config over Z3_CONFIG', () => {
    const flagged = writeConfig('flag.conf', '[main]\nBUCKET = from-flag\n');
    const fromEnv = writeConfig('env.conf', '[main]\nBUCKET = from-env\n');
    const sources = loadConfigSources({ configFlag: flagged, env: { Z3_CONFIG: fromEnv } });
    expect(sources.filePath).toBe(flagged);
    expect(findSection(sources.file!, 'main')?.entries.get('BUCKET')?.value).toBe('from-flag');
  });

  it('uses Z3_CONFIG and snapshots the environment', () => {
    const fromEnv = writeConfig('env2.conf', '[main]\nBUCKET = from-env\n');
    const env = { Z3_CONFIG: fromEnv, BUCKET: 'b' };
    const sources = loadConfigSources({ env });
    expect(sources.filePath).toBe(fromEnv);
    expect(sources.env).toEqual(env);
    expect(sources.env).not.toBe(env);
  });

  it('accepts Z3_CONFIG=/dev/null as an empty config', () => {
    const sources = loadConfigSources({ env: { Z3_CONFIG: '/dev/null' } });
    expect(sources.filePath).toBe('/dev/null');
    expect(sources.file?.sections).toEqual([]);
  });

  it('falls back to the default path when Z3_CONFIG is empty', () => {
    expect(loadConfigSources({ env: { Z3_CONFIG: '' } }).filePath).toBe(DEFAULT_CONFIG_PATH);
    expect(DEFAULT_CONFIG_PATH).toBe('/etc/z3_backup/z3.conf');
  });

  it('runs without a file when the default is missing', () => {
    const defaultPath = join(dir, 'absent-default.conf');
    expect(loadConfigSources({ env: {}, defaultPath })).toEqual({
      filePath: defaultPath,
      file: undefined,
      env: {},
    });
  });

  it('reads process.env when no env is passed', () => {
    expect(loadConfigSources({ configFlag: '/dev/null' }).env['PATH']).toBe(process.env['PATH']);
  });

  it('fails on a missing file that was named', () => {
    const missing = join(dir, 'nope.conf');
    expect(loadError({ configFlag: missing }).message).toBe(
      `${missing}: cannot read config file: no such file`,
    );
    expect(loadError({ env: { Z3_CONFIG: missing } }).message).toBe(
      `${missing}: cannot read config file: no such file`,
    );
  });

  it('fails on a directory and on an unreadable file', () => {
    expect(loadError({ configFlag: dir }).message).toBe(
      `${dir}: cannot read config file: is a directory`,
    );
    const locked = writeConfig('locked.conf', '[main]\n');
    chmodSync(locked, 0o000);
    // root reads any file, so only check the message when the read really fails
    if (process.getuid?.() !== 0) {
      expect(loadError({ configFlag: locked }).message).toBe(
        `${locked}: cannot read config file: permission denied`,
      );
    }
  });

  it('passes syntax errors through with the file name', () => {
    const bad = writeConfig('bad.conf', 'BUCKET = b\n');
    expect(loadError({ configFlag: bad }).message).toBe(
      `${bad}:1: key BUCKET appears before any [section] header`,
    );
  });
});
