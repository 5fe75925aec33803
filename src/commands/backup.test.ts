/**
 * `z3 backup` orchestration on the memory backend with a scripted `zfs` (a real child process):
 * the order of steps, what is committed, the commit gate, dry-run output and exit codes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandFailedError, EXIT, IntegrityError, Z3Error } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { runBackup, type BackupOptions } from './backup.js';
import { createScriptedZfs, scriptedStream, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts } from './testing/ports.js';

const SNAPS = ['tank/data@snap-1', 'tank/data@other', 'tank/data@snap-2', 'tank/data@snap-3'];

function options(over: Partial<BackupOptions> = {}): BackupOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    snapshot: undefined,
    dryRun: false,
    compressor: undefined,
    gpgRecipient: undefined,
    parseable: false,
    mode: 'incremental',
    concurrency: undefined,
    chunkSize: undefined,
    storageClass: undefined,
    quiet: true,
    ...over,
  };
}

describe('runBackup', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it('sends a full, then one incremental per new snapshot, each committed with its metadata', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 2) } });
    const mem = new MemBackend();
    const first = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(options({ mode: 'full' }), first)).toBe(EXIT.OK);
    expect(first.out()).toBe('Successfuly backed up tank/data@snap-1: 0 M.\n');

    zfs = reuse(zfs, { 'tank/data': SNAPS });
    const second = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(options({ parseable: true }), second)).toBe(EXIT.OK);
    expect(second.out()).toBe('tank/data@snap-2\u00003000\ntank/data@snap-3\u00003000\n');

    expect([...mem.objects.keys()].sort()).toEqual([
      'z3-backup/tank/data@snap-1',
      'z3-backup/tank/data@snap-2',
      'z3-backup/tank/data@snap-3',
    ]);
    expect(mem.objects.get('z3-backup/tank/data@snap-1')?.metadata).toEqual({
      isfull: 'true',
      size: '3000',
    });
    const third = mem.objects.get('z3-backup/tank/data@snap-3');
    expect(third?.metadata).toEqual({
      parent: 'tank/data@snap-2',
      size: '3000',
    });
    expect(third?.data.equals(scriptedStream('tank/data@snap-3', 'tank/data@snap-2', 3000))).toBe(
      true,
    );
    // estimate, then send, for each snapshot in order
    const sends = zfs.state().calls!.filter((c) => c[0] === 'send');
    expect(sends.map((c) => c.join(' '))).toEqual([
      'send -nvP -i tank/data@snap-1 tank/data@snap-2',
      'send -i tank/data@snap-1 tank/data@snap-2',
      'send -nvP -i tank/data@snap-2 tank/data@snap-3',
      'send -i tank/data@snap-2 tank/data@snap-3',
    ]);
    expect(mem.pending.size).toBe(0);
  });

  it('commits nothing when zfs send dies mid-stream (the commit gate), exit 4', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS.slice(0, 1) },
      sends: { 'tank/data@snap-1': { size: 20_000_000, failAfter: 7_000_000, exitCode: 2 } },
    });
    const backend = new FaultyBackend(new MemBackend({ limits: smallParts() }));
    const ports = testPorts({ backend, zfs: zfs.program });
    const failure = await runBackup(options({ mode: 'full' }), ports).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CommandFailedError);
    expect((failure as Z3Error).exitCode).toBe(EXIT.COMMAND_FAILED);
    expect((failure as Error).message).toMatch(/zfs send .*tank\/data@snap-1.*exit(ed with)? .*2/);
    const mem = backend.inner as MemBackend;
    expect(mem.objects.size).toBe(0);
    expect(mem.pending.size).toBe(0);
    expect(backend.ops('complete')).toHaveLength(0);
    expect(backend.ops('abort')).toHaveLength(1);
  });

  it('prints the pipeline on --dry-run and sends nothing', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    mem.put('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(options({ dryRun: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe(
      'zfs send -i tank/data@snap-1 tank/data@snap-2 | pput --quiet --estimated 3000 ' +
        '--meta size=3000 --meta parent=tank/data@snap-1 z3-backup/tank/data@snap-2\n' +
        'zfs send -i tank/data@snap-2 tank/data@snap-3 | pput --quiet --estimated 3000 ' +
        '--meta size=3000 --meta parent=tank/data@snap-2 z3-backup/tank/data@snap-3\n',
    );
    expect(zfs.state().calls!.filter((c) => c[0] === 'send' && c[1] !== '-nvP')).toEqual([]);
    expect(mem.objects.size).toBe(1);
  });

  it('refuses to extend a broken chain: exit 3, nothing sent', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    mem.put('z3-backup/tank/data@snap-2', Buffer.from('x'), { parent: 'tank/data@snap-1' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    const failure = await runBackup(options(), ports).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as Z3Error).exitCode).toBe(EXIT.INTEGRITY);
    expect(zfs.state().calls!.filter((c) => c[0] === 'send')).toEqual([]);
    expect(mem.objects.size).toBe(1);
  });

  it('has nothing to do when the newest snapshot is already stored', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    const mem = new MemBackend();
    mem.put('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(options({ quiet: false }), ports)).toBe(EXIT.OK);
    expect(ports.err()).toContain('tank/data@snap-1 is already backed up; nothing to do');
    expect(ports.out()).toBe('');
  });
});

/** Parts of 5 MiB allowed down to 1 byte, so a 20 MB stream spans several parts. */
function smallParts(): MemBackend['limits'] {
  return { ...new MemBackend().limits, minPartSize: 1 };
}

/** The same script with new datasets (a later day on the same host). */
function reuse(zfs: ScriptedZfs, datasets: Record<string, string[]>): ScriptedZfs {
  const state = zfs.state();
  zfs.cleanup();
  return createScriptedZfs({ ...state, datasets, calls: [] });
}
