// One rule for a missing program, whichever command meets it: exit 2 with the package to
// install, before any listing or transfer starts (was: exit 4 from the first spawn of `zfs`).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSshSync } from './ssh-sync-program.js';
import { EXIT, UsageError } from '../errors.js';
import type { MainContext } from './run-main.js';
import { runZ3 } from './z3-program.js';
import { injected } from '../testing/faults.js';

const ENV = {
  Z3_CONFIG: '/dev/null',
  BUCKET: 'b',
  FILESYSTEM: 'tank/a',
  // Nothing listens on port 9: a request that is made anyway fails fast, with another error.
  HOST: 'http://127.0.0.1:9',
  S3_KEY_ID: 'id',
  S3_SECRET: 'secret',
  MAX_RETRIES: '1',
  CACHE_DIR: 'off',
};

async function usageError(
  main: (ctx: MainContext) => Promise<number>,
  argv: string[],
): Promise<UsageError> {
  const err: unknown = await main({ argv, signal: new AbortController().signal }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(EXIT.USAGE);
  return err as UsageError;
}

describe('a missing program', () => {
  beforeEach(() => {
    for (const [key, value] of Object.entries(ENV)) vi.stubEnv(key, value);
    vi.stubEnv('BACKUP_DIR', undefined);
    vi.stubEnv('PATH', mkdtempSync(join(tmpdir(), 'z3-empty-path-')));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([[['status']], [['backup']], [['backup', '--dry-run']], [['restore', 'snap']]])(
    'z3 %j: zfs, exit 2, with the package',
    { tags: ['faults'] },
    async (argv) => {
      const err = await usageError(runZ3, argv);
      expect(err.message).toMatch(/^(not installed: )?'zfs'/);
      expect(err.hint).toMatch(/apt-get install zfsutils-linux/);
      injected('bad input'); // zfs not on PATH
    },
  );

  it('z3_ssh_sync: zfs and ssh, exit 2, with the packages', { tags: ['faults'] }, async () => {
    const err = await usageError(runSshSync, ['host']);
    expect(err.message).toBe("not installed: 'zfs', 'ssh'");
    expect(err.hint).toBe('apt-get install zfsutils-linux openssh-client');
    injected('bad input', 2); // zfs and ssh not on PATH
  });
});
