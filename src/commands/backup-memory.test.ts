/**
 * MEMORY_LIMIT through `z3 backup` (scripted zfs, memory backend): a part size of which two do
 * not fit the budget is refused before `zfs send` runs and before any upload.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts } from './testing/ports.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';

describe('backup with MEMORY_LIMIT', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it(
    'refuses parts of which two do not fit, before zfs send and before any upload (exit 2)',
    { tags: ['faults'] },
    async () => {
      injected('bad input');
      zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@snap-1'] } });
      const mem = new MemBackend();
      const env = { CHUNK_SIZE: '8M', MEMORY_LIMIT: '15M', COMPRESSOR: 'none' };
      const ports = testPorts({ backend: mem, zfs: zfs.program, env });
      const code = await runBackup(backupOptions({ quiet: true, mode: 'full' }), ports).catch(
        (e: { exitCode?: number; message: string }) => {
          expect(e.message).toMatch(/^MEMORY_LIMIT 15M holds fewer than 2 parts of 8M/);
          return e.exitCode;
        },
      );
      expect(code).toBe(EXIT.USAGE);
      const sends = (zfs.state().calls ?? []).filter((a) => a[0] === 'send' && !a.includes('-nvP'));
      expect(sends).toEqual([]);
      expect(mem.objects.size + mem.pending.size).toBe(0);
    },
  );

  it('backs up within a budget of exactly two parts', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@snap-1'] } });
    const mem = new MemBackend();
    const env = { CHUNK_SIZE: '5M', MEMORY_LIMIT: '10M', COMPRESSOR: 'none' };
    const ports = testPorts({ backend: mem, zfs: zfs.program, env });
    expect(await runBackup(backupOptions({ quiet: true, mode: 'full' }), ports)).toBe(EXIT.OK);
    expect([...mem.objects.keys()]).toContain('z3-backup/tank/data@snap-1');
  });
});
