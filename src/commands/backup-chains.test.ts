/**
 * `z3 backup --max-chain` / `--full-if-older-than` through the command, with the scripted `zfs`
 * (snapshots a day apart) and the memory backend: which objects are committed as fulls, and bad
 * values refused (exit 2) before anything is read or sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, EXIT } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup, type BackupOptions } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts } from './testing/ports.js';

const SNAPS = Array.from({ length: 7 }, (_, i) => `tank/data@snap-${i + 1}`);

function options(over: Partial<BackupOptions> = {}): BackupOptions {
  return backupOptions({ quiet: true, ...over });
}

/** A week, one snapshot a day, with a full every third backup. */
const FULL_EVERY_THIRD = [
  'snap-1 F',
  'snap-2 <snap-1',
  'snap-3 <snap-2',
  'snap-4 F',
  'snap-5 <snap-4',
  'snap-6 <snap-5',
  'snap-7 F',
];

/** Each committed object as `snap-N F` or `snap-N <parent N>`, in snapshot order. */
function shapes(mem: MemBackend): string[] {
  return SNAPS.flatMap((name) => {
    const meta = mem.objects.get(`z3-backup/${name}`)?.metadata;
    if (meta === undefined) return [];
    const short = name.slice(name.indexOf('@') + 1);
    return [meta['isfull'] === 'true' ? `${short} F` : `${short} <${meta['parent']?.slice(-6)}`];
  });
}

describe('runBackup ends chains', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it('--max-chain 3 over a week, one run a day: a full every third backup', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': [] } });
    const mem = new MemBackend();
    for (let day = 1; day <= SNAPS.length; day++) {
      zfs.cleanup();
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, day) } });
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      const mode = day === 1 ? 'full' : 'incremental';
      expect(await runBackup(options({ mode, maxChain: '3' }), ports)).toBe(EXIT.OK);
    }
    expect(shapes(mem)).toEqual(FULL_EVERY_THIRD);
  });

  it("FULL_EVERY from the environment, by the snapshots' creation (a day apart)", async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    const env = { FULL_EVERY: '2d' };
    const ports = testPorts({ backend: mem, zfs: zfs.program, env });
    expect(await runBackup(options({ mode: 'full', snapshot: 'snap-1' }), ports)).toBe(EXIT.OK);
    const next = testPorts({ backend: mem, zfs: zfs.program, env });
    expect(await runBackup(options(), next)).toBe(EXIT.OK);
    expect(shapes(mem)).toEqual(FULL_EVERY_THIRD);
  });

  it.each([
    [{ maxChain: '-3' }, {}, '--max-chain MAX_CHAIN: expected a whole number'],
    [{}, { MAX_CHAIN: 'ten' }, 'environment MAX_CHAIN: expected a whole number'],
    [{ fullEvery: '30 days' }, {}, '--full-if-older-than FULL_EVERY: expected a duration'],
  ])(
    'refuses %j %j with exit 2 before running zfs',
    { tags: ['faults'] },
    async (flags, env, message) => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
      const mem = new MemBackend();
      const ports = testPorts({ backend: mem, zfs: zfs.program, env });
      const failure = await runBackup(options(flags), ports).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).exitCode).toBe(EXIT.USAGE);
      expect((failure as ConfigError).message).toContain(message);
      expect(zfs.state().calls).toEqual([]);
      expect(mem.objects.size).toBe(0);
      injected('bad input');
    },
  );
});
