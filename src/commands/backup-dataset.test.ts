/**
 * `z3 backup` of a dataset that does not exist is an error (a typo, a pool not imported), so
 * monitoring notices that backups stopped; a dataset with no snapshot under the prefix keeps the
 * original's soft error (exit 0) and names the prefix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, UsageError, type Z3Error } from '../errors.js';
import { injected } from '../testing/faults.js';
import { MemBackend } from '../storage/mem/backend.js';
import { runBackup } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts } from './testing/ports.js';

describe('runBackup of a dataset', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it.each([false, true])(
    'that does not exist: exit 2 naming it, nothing sent (dry run %s)',
    { tags: ['faults'] },
    async (dryRun) => {
      injected('bad input');
      zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@snap-1'] } });
      const mem = new MemBackend();
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      const failure = await runBackup(
        backupOptions({ filesystem: 'tank/nope', dryRun }),
        ports,
      ).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UsageError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((failure as Error).message).toBe("dataset 'tank/nope' does not exist");
      expect((failure as Z3Error).hint).toMatch(/--dataset.*FILESYSTEM.*zfs list/);
      expect(zfs.state().calls!.filter((c) => c[0] === 'send')).toEqual([]);
      expect(ports.out() + ports.err()).toBe('');
    },
  );

  it('with no snapshot under the prefix: the original soft error naming the prefix, exit 0', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@other-1'] } });
    const ports = testPorts({ backend: new MemBackend(), zfs: zfs.program });
    expect(await runBackup(backupOptions(), ports)).toBe(EXIT.OK);
    expect(ports.err()).toBe(
      'Nothing to backup for filesystem "tank/data". Are you sure SNAPSHOT_PREFIX="snap" is correct?\n',
    );
  });
});
