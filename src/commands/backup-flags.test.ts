/**
 * Send flags and GUIDs through the commands, with the scripted `zfs` and the memory backend:
 * `backup --raw` sends `zfs send -w` and records `sendflags`, a chain keeps its mode (exit 2),
 * a re-created base snapshot is refused (exit 3) and shown as `differs`, and `restore` of a raw
 * chain says how to load the key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, IntegrityError, UsageError } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup, type BackupOptions } from './backup.js';
import { runRestore, type RestoreOptions } from './restore.js';
import { runStatus } from './status.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts } from './testing/ports.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { backupKeys } from './testing/backup-keys.js';

const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-3'];
const GLOBAL = { config: undefined, s3Prefix: undefined, filesystem: undefined };
const options = (over: Partial<BackupOptions> = {}): BackupOptions =>
  backupOptions({ quiet: true, ...over });

/** `z3 restore <snapshot> --target <target> --quiet`. */
function restoreInto(target: string, snapshot: string): RestoreOptions {
  return {
    ...GLOBAL,
    snapshotPrefix: undefined,
    snapshot,
    dryRun: false,
    force: false,
    target,
    concurrency: undefined,
    chunkSize: undefined,
    quiet: true,
  };
}

/** The argv of every real (not -nvP) `zfs send` the script saw. */
function sends(zfs: ScriptedZfs): string[] {
  return (zfs.state().calls ?? [])
    .filter((argv) => argv[0] === 'send' && !argv.includes('-nvP'))
    .map((argv) => argv.join(' '));
}

describe('backup with send flags', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it('--raw --large-blocks: zfs send -w -L, recorded as sendflags=wL along the chain', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 2) } });
    const mem = new MemBackend();
    const ports = (): ReturnType<typeof testPorts> => testPorts({ backend: mem, zfs: zfs.program });
    const flags = { sendFlags: ['raw', 'large-blocks'] as const };
    expect(await runBackup(options({ mode: 'full', snapshot: 'snap-1', ...flags }), ports())).toBe(
      EXIT.OK,
    );
    expect(await runBackup(options(flags), ports())).toBe(EXIT.OK);
    expect(sends(zfs)).toEqual([
      'send -w -L tank/data@snap-1',
      'send -w -L -i tank/data@snap-1 tank/data@snap-2',
    ]);
    const meta = (n: number): Record<string, string> | undefined =>
      mem.objects.get(`z3-backup/tank/data@snap-${n}`)?.metadata;
    expect([meta(1)?.['sendflags'], meta(2)?.['sendflags']]).toEqual(['wL', 'wL']);
  });

  it('SEND_FLAGS from the environment; --dry-run shows the exact argv and metadata', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    const ports = testPorts({
      backend: new MemBackend(),
      zfs: zfs.program,
      env: { SEND_FLAGS: 'compressed,-e' },
    });
    expect(await runBackup(options({ mode: 'full', dryRun: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toMatch(/^zfs send -c -e tank\/data@snap-1 \| pput .*--meta sendflags=ce /);
    expect(sends(zfs)).toEqual([]);
  });

  it('a command-line send flag replaces SEND_FLAGS', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    const env = { SEND_FLAGS: 'compressed' };
    const ports = testPorts({ backend: new MemBackend(), zfs: zfs.program, env });
    const run = options({ mode: 'full', dryRun: true, sendFlags: ['raw'] });
    expect(await runBackup(run, ports)).toBe(EXIT.OK);
    expect(ports.out()).toMatch(/^zfs send -w tank\/data@snap-1 \|/);
  });

  it(
    'a raw incremental on a plain chain is refused (exit 2) before anything is sent',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 2) } });
      const mem = new MemBackend();
      const full = options({ mode: 'full', snapshot: 'snap-1' });
      expect(await runBackup(full, testPorts({ backend: mem, zfs: zfs.program }))).toBe(EXIT.OK);
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      const failure = await runBackup(options({ sendFlags: ['raw'] }), ports).catch(
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(UsageError);
      expect((failure as UsageError).exitCode).toBe(EXIT.USAGE);
      expect((failure as UsageError).message).toBe(
        "cannot append a raw incremental to tank/data@snap-1, a plain send: a chain keeps its raw and compressed mode; run 'z3 backup --full' to start a new chain with these flags",
      );
      expect(backupKeys(mem)).toEqual(['z3-backup/tank/data@snap-1']);
      expect(sends(zfs)).toEqual(['send tank/data@snap-1']);
      injected('bad input');
    },
  );
});

describe('backup and status with a re-created snapshot (another guid)', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it(
    'status shows differs; backup refuses the incremental (exit 3, use --full)',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
      const mem = new MemBackend();
      const first = testPorts({ backend: mem, zfs: zfs.program });
      expect(await runBackup(options({ mode: 'full' }), first)).toBe(EXIT.OK);
      expect(mem.objects.get('z3-backup/tank/data@snap-1')?.metadata['guid']).toBe('1000');
      zfs.cleanup();
      // snap-1 destroyed and taken again: same name, new guid; then snap-2 on top of it.
      zfs = createScriptedZfs({
        datasets: { 'tank/data': SNAPS.slice(0, 2) },
        guids: { 'tank/data@snap-1': '5555' },
      });
      const status = testPorts({ backend: mem, zfs: zfs.program });
      expect(await runStatus({ ...GLOBAL, snapshotPrefix: undefined, json: false }, status)).toBe(
        EXIT.OK,
      );
      const rows = status.out().split('\n').slice(2, 4);
      expect(rows).toEqual([
        'snap-1 |        | full    | ok     | differs     | 0 M ',
        'snap-2 | -      | missing | -      | ok          |     ',
      ]);
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      const failure = await runBackup(options(), ports).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(IntegrityError);
      expect((failure as IntegrityError).exitCode).toBe(EXIT.INTEGRITY);
      expect((failure as IntegrityError).message).toContain(
        'tank/data@snap-1 is not the snapshot backed up under that name (guid 5555',
      );
      expect((failure as IntegrityError).hint).toBe("run 'z3 backup --full' to start a new chain");
      expect(backupKeys(mem).length).toBe(1);
      expect(sends(zfs)).toEqual([]);
      injected('corrupt data');
    },
  );
});

describe('restore of a raw chain', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it('receives it and says how to load the key; status --mode shows raw', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 2) } });
    const mem = new MemBackend();
    const raw = { sendFlags: ['raw'] as const };
    const backup = (over: Partial<BackupOptions>): Promise<number> =>
      runBackup(options({ ...raw, ...over }), testPorts({ backend: mem, zfs: zfs.program }));
    expect(await backup({ mode: 'full', snapshot: 'snap-1' })).toBe(EXIT.OK);
    expect(await backup({})).toBe(EXIT.OK);
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runRestore(restoreInto('tank/restored', 'snap-2'), ports)).toBe(EXIT.OK);
    expect(zfs.state().datasets['tank/restored']).toEqual([
      'tank/restored@snap-1',
      'tank/restored@snap-2',
    ]);
    expect(ports.err()).toBe(
      "z3: tank/restored was received encrypted (raw send); load its key with 'zfs load-key tank/restored', then 'zfs mount tank/restored'\n",
    );
    const status = testPorts({ backend: mem, zfs: zfs.program });
    const statusFlags = { ...GLOBAL, snapshotPrefix: undefined, json: false, mode: true };
    expect(await runStatus(statusFlags, status)).toBe(EXIT.OK);
    expect(status.out().split('\n').slice(1, 4)).toEqual([
      'NAME   | PARENT | TYPE        | HEALTH | LOCAL STATE | SIZE | MODE',
      'snap-1 |        | full        | ok     | ok          | 0 M  | raw ',
      'snap-2 | snap-1 | incremental | ok     | ok          | 0 M  | raw ',
    ]);
  });

  it('a plain chain restores without the key notice', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    const mem = new MemBackend();
    const full = options({ mode: 'full' });
    expect(await runBackup(full, testPorts({ backend: mem, zfs: zfs.program }))).toBe(EXIT.OK);
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runRestore(restoreInto('tank/restored', 'snap-1'), ports)).toBe(EXIT.OK);
    expect(zfs.state().datasets['tank/restored']).toEqual(['tank/restored@snap-1']);
    expect(ports.err()).toBe('');
  });
});
