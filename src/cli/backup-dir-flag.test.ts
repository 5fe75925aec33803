// `--backup-dir` on z3, pput and z3_get reaches the config layer as the flag layer of
// BACKUP_DIR: its value is validated there and named by the flag, and it conflicts with a BUCKET
// from a lower layer. Every run below fails in resolveSettings, before any I/O but reading the
// (empty) config file.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors.js';
import { runPput } from './pput-program.js';
import { runZ3Get } from './z3-get-program.js';
import type { MainContext } from './run-main.js';
import { runZ3 } from './z3-program.js';
import { injected } from '../testing/faults.js';

type Main = (ctx: MainContext) => Promise<number>;

const PROGRAMS: [string, Main, string[]][] = [
  ['z3 (before the command)', runZ3, ['--backup-dir', '%', '--dataset', 'tank/a', 'status']],
  ['z3 (after the command)', runZ3, ['status', '--dataset', 'tank/a', '--backup-dir', '%']],
  ['pput', runPput, ['--backup-dir', '%', 'some/key']],
  ['z3_get', runZ3Get, ['--backup-dir', '%', 'some/key']],
];

async function configError(main: Main, argv: string[]): Promise<ConfigError> {
  const err: unknown = await main({ argv, signal: new AbortController().signal }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('--backup-dir', () => {
  beforeEach(() => {
    vi.stubEnv('Z3_CONFIG', '/dev/null');
    vi.stubEnv('BUCKET', undefined);
    vi.stubEnv('BACKUP_DIR', undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(PROGRAMS)(
    '%s: is BACKUP_DIR, validated and named as the flag',
    { tags: ['faults'] },
    async (_, main, argv) => {
      const err = await configError(
        main,
        argv.map((a) => (a === '%' ? 'relative/dir' : a)),
      );
      expect(err.message).toBe('--backup-dir BACKUP_DIR: expected an absolute directory path');
      injected('bad input');
    },
  );

  it.each(PROGRAMS)(
    '%s: conflicts with BUCKET from the environment',
    { tags: ['faults'] },
    async (_, main, argv) => {
      vi.stubEnv('BUCKET', 'b');
      const err = await configError(
        main,
        argv.map((a) => (a === '%' ? '/mnt/backup' : a)),
      );
      expect(err.message).toBe('BUCKET (environment) and BACKUP_DIR (--backup-dir) are both set');
      injected('bad input');
    },
  );
});
