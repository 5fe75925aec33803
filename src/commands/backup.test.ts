/**
 * `z3 backup` orchestration on the memory backend with a scripted `zfs` (a real child process):
 * the order of steps, what is committed, the commit gate, dry-run output and exit codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CommandFailedError,
  CommitConflictError,
  EXIT,
  IntegrityError,
  InterruptedError,
  StorageError,
  Z3Error,
} from '../errors.js';
import { acquireLock, LockBusyError, type HeldLock } from '../lock/acquire.js';
import { lockName } from '../lock/name.js';
import { injected } from '../testing/faults.js';
import { MemBackend } from '../storage/mem/backend.js';
import { storageOf } from '../storage/open.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { runBackup, type BackupOptions } from './backup.js';
import {
  createScriptedZfs,
  SCRIPTED_CREATION_BASE,
  scriptedStream,
  type ScriptedZfs,
} from './testing/scripted-zfs.js';
import { testPorts } from './testing/ports.js';
import { backupOptions } from './testing/backup-options.js';

const SNAPS = ['tank/data@snap-1', 'tank/data@other', 'tank/data@snap-2', 'tank/data@snap-3'];

function options(over: Partial<BackupOptions> = {}): BackupOptions {
  return backupOptions({ quiet: true, ...over });
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
      'z3-backup/.z3/index/tank/data.json',
      'z3-backup/tank/data@snap-1',
      'z3-backup/tank/data@snap-2',
      'z3-backup/tank/data@snap-3',
    ]);
    // creation and guid as zfs list gave them (the scripted zfs: a day apart, guid 1000 + index)
    expect(mem.objects.get('z3-backup/tank/data@snap-1')?.metadata).toEqual({
      isfull: 'true',
      size: '3000',
      creation: String(SCRIPTED_CREATION_BASE),
      guid: '1000',
      // where segments would go had the stream outgrown 10,000 parts of 5 MiB (one object's limit)
      segmentsize: String(10_000 * 5 * 1024 * 1024),
      segmentdir: expect.stringMatching(
        /^z3-backup\/\.z3\/segments\/tank\/data@snap-1\/[0-9a-f]{12}\/$/,
      ) as string,
    });
    const third = mem.objects.get('z3-backup/tank/data@snap-3');
    expect(third?.metadata).toEqual({
      parent: 'tank/data@snap-2',
      size: '3000',
      creation: String(SCRIPTED_CREATION_BASE + 3 * 86_400),
      guid: '1003',
      segmentsize: String(10_000 * 5 * 1024 * 1024),
      segmentdir: expect.stringMatching(
        /^z3-backup\/\.z3\/segments\/tank\/data@snap-3\//,
      ) as string,
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

  it(
    'commits nothing when zfs send dies mid-stream (the commit gate), exit 4',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({
        datasets: { 'tank/data': SNAPS.slice(0, 1) },
        sends: { 'tank/data@snap-1': { size: 20_000_000, failAfter: 7_000_000, exitCode: 2 } },
      });
      const backend = new FaultyBackend(new MemBackend({ limits: smallParts() }));
      const ports = testPorts({ backend, zfs: zfs.program });
      const failure = await runBackup(options({ mode: 'full' }), ports).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CommandFailedError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.COMMAND_FAILED);
      expect((failure as Error).message).toMatch(
        /zfs send .*tank\/data@snap-1.*exit(ed with)? .*2/,
      );
      const mem = backend.inner as MemBackend;
      expect(mem.objects.size).toBe(0);
      expect(mem.pending.size).toBe(0);
      expect(backend.ops('complete')).toHaveLength(0);
      expect(backend.ops('abort')).toHaveLength(1);
      injected('stage death');
    },
  );

  it(
    'commits conditionally: another writer committing the key first wins, exit 3, its object stays',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
      const mem = new MemBackend();
      const other = Buffer.from('another host backed up this snapshot first');
      const key = 'z3-backup/tank/data@snap-1';
      const backend = new FaultyBackend(mem, ({ op, isAfter }) => {
        // the commit of a small stream is a put (single-put.ts), of a larger one a complete
        const isCommit = op === 'complete' || op === 'put';
        if (isCommit && isAfter !== true) mem.seed(key, other, { isfull: 'true' });
      });
      const ports = testPorts({ backend, zfs: zfs.program });
      const failure = await runBackup(options({ mode: 'full' }), ports).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CommitConflictError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.INTEGRITY);
      expect(mem.objects.get(key)?.data.equals(other)).toBe(true);
      expect(mem.pending.size).toBe(0);
      injected('concurrent writer');
    },
  );

  it('prints the pipeline on --dry-run and sends nothing', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(options({ dryRun: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe(
      'zfs send -i tank/data@snap-1 tank/data@snap-2 | pput --quiet --estimated 3000 ' +
        '--meta size=3000 --meta parent=tank/data@snap-1 ' +
        `--meta creation=${SCRIPTED_CREATION_BASE + 2 * 86_400} --meta guid=1002 ` +
        'z3-backup/tank/data@snap-2\n' +
        'zfs send -i tank/data@snap-2 tank/data@snap-3 | pput --quiet --estimated 3000 ' +
        '--meta size=3000 --meta parent=tank/data@snap-2 ' +
        `--meta creation=${SCRIPTED_CREATION_BASE + 3 * 86_400} --meta guid=1003 ` +
        'z3-backup/tank/data@snap-3\n',
    );
    expect(zfs.state().calls!.filter((c) => c[0] === 'send' && c[1] !== '-nvP')).toEqual([]);
    expect(mem.objects.size).toBe(1);
  });

  it('refuses to extend a broken chain: exit 3, nothing sent', { tags: ['faults'] }, async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-2', Buffer.from('x'), { parent: 'tank/data@snap-1' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    const failure = await runBackup(options(), ports).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as Z3Error).exitCode).toBe(EXIT.INTEGRITY);
    expect(zfs.state().calls!.filter((c) => c[0] === 'send')).toEqual([]);
    expect(mem.objects.size).toBe(1);
    injected('corrupt data'); // a stored incremental whose parent is missing
  });

  it('has nothing to do when the newest snapshot is already stored', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(options({ quiet: false }), ports)).toBe(EXIT.OK);
    expect(ports.err()).toContain('tank/data@snap-1 is already backed up; nothing to do');
    expect(ports.out()).toBe('');
  });
});

describe('runBackup lock (one run per dataset and target)', () => {
  let zfs: ScriptedZfs;
  let lockDir: string;
  afterEach(() => {
    zfs.cleanup();
    rmSync(lockDir, { recursive: true, force: true });
  });
  const setUp = (): { backend: FaultyBackend; mem: MemBackend; env: Record<string, string> } => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    lockDir = mkdtempSync(join(tmpdir(), 'z3-backup-lock-'));
    const backend = new FaultyBackend(new MemBackend());
    return { backend, mem: backend.inner as MemBackend, env: { LOCK_DIR: lockDir } };
  };
  /** The lock a backup of tank/data into `backend` takes, held here as another run would. */
  const holdBackupLock = (backend: FaultyBackend): Promise<HeldLock> =>
    acquireLock({
      dir: lockDir,
      name: lockName('backup', [
        storageOf(backend, 'test-bucket').identity,
        'z3-backup/',
        'tank/data',
      ]),
      description: 'z3 backup of tank/data to test-bucket/z3-backup/',
      wait: false,
      signal: new AbortController().signal,
    });

  it('takes the lock before any listing and releases it after the last commit and the index', async () => {
    const { backend, mem, env } = setUp();
    const seen: { atLock?: [number, number]; atRelease?: number } = {};
    const ports = testPorts({
      backend,
      zfs: zfs.program,
      env,
      lock: (request) => {
        expect(request).toMatchObject({
          dir: lockDir,
          name: lockName('backup', [storageOf(backend, 'x').identity, 'z3-backup/', 'tank/data']),
          description: 'z3 backup of tank/data to test-bucket/z3-backup/',
          wait: false,
        });
        seen.atLock = [backend.calls.length, zfs.state().calls!.length];
        return Promise.resolve({ path: '', release: () => (seen.atRelease = mem.objects.size) });
      },
    });
    expect(await runBackup(options({ mode: 'full' }), ports)).toBe(EXIT.OK);
    // the backup and the index (./dataset-index.ts)
    expect(seen).toEqual({ atLock: [0, 0], atRelease: 2 });
  });

  it(
    'releases the lock when the backup fails, and when the listing fails',
    { tags: ['faults'] },
    async () => {
      const { backend, env } = setUp();
      const dying = createScriptedZfs({
        datasets: { 'tank/data': SNAPS.slice(0, 1) },
        sends: { 'tank/data@snap-1': { size: 9000, failAfter: 10, exitCode: 2 } },
      });
      try {
        const ports = testPorts({ backend, zfs: dying.program, env });
        await expect(runBackup(options({ mode: 'full' }), ports)).rejects.toThrow(
          CommandFailedError,
        );
        injected('stage death');
        expect(ports.locks.map((l) => l.releases)).toEqual([1]);
      } finally {
        dying.cleanup();
      }
      backend.script = (call) => {
        if (call.op === 'list') throw new StorageError('listing refused');
      };
      const ports = testPorts({ backend, zfs: zfs.program, env });
      await expect(runBackup(options({ mode: 'full' }), ports)).rejects.toThrow('listing refused');
      injected('S3 error');
      expect(ports.locks.map((l) => l.releases)).toEqual([1]);
    },
  );

  it(
    'refuses with exit 2 while another run holds the lock, before reading anything',
    { tags: ['faults'] },
    async () => {
      const { backend, mem, env } = setUp();
      const other = await holdBackupLock(backend);
      injected('concurrent writer');
      try {
        const ports = testPorts({ backend, zfs: zfs.program, env, lock: acquireLock });
        const failure = await runBackup(options({ mode: 'full' }), ports).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(LockBusyError);
        expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
        expect((failure as Z3Error).message).toBe(
          `another z3 backup of tank/data to test-bucket/z3-backup/ is running (pid ${process.pid})`,
        );
        expect((failure as Z3Error).hint).toBe('wait for it, or pass --wait');
        expect([backend.calls.length, zfs.state().calls!.length, mem.objects.size]).toEqual([
          0, 0, 0,
        ]);
      } finally {
        other.release();
      }
    },
  );

  it(
    'with --wait, says whom it waits for, then backs up once the other run is done',
    { tags: ['faults'] },
    async () => {
      const { backend, mem, env } = setUp();
      const other = await holdBackupLock(backend);
      injected('concurrent writer');
      const ports = testPorts({ backend, zfs: zfs.program, env, lock: acquireLock });
      const run = runBackup(options({ mode: 'full', wait: true, quiet: false }), ports);
      await until(() => ports.err().includes('waiting'));
      expect(ports.err()).toBe(
        `z3: waiting for another z3 backup of tank/data to test-bucket/z3-backup/ (pid ${process.pid}) to finish\n`,
      );
      expect(backend.calls).toEqual([]);
      other.release();
      expect(await run).toBe(EXIT.OK);
      expect([...mem.objects.keys()]).toEqual([
        'z3-backup/tank/data@snap-1',
        'z3-backup/.z3/index/tank/data.json',
      ]);
    },
  );

  it(
    'with --wait, stops waiting on SIGTERM (exit 130) and sends nothing',
    { tags: ['faults'] },
    async () => {
      const { backend, env } = setUp();
      const other = await holdBackupLock(backend);
      injected('concurrent writer');
      try {
        const ports = testPorts({ backend, zfs: zfs.program, env, lock: acquireLock });
        const run = runBackup(options({ mode: 'full', wait: true, quiet: false }), ports);
        await until(() => ports.err().includes('waiting'));
        ports.controller.abort(new InterruptedError('interrupted by SIGTERM'));
        const failure = await run.catch((e: unknown) => e);
        expect((failure as Z3Error).exitCode).toBe(EXIT.INTERRUPTED);
        expect(backend.calls).toEqual([]);
      } finally {
        other.release();
      }
    },
  );

  it('takes no lock on --dry-run, so it runs while a backup holds it', async () => {
    const { backend, env } = setUp();
    const other = await holdBackupLock(backend);
    try {
      const ports = testPorts({ backend, zfs: zfs.program, env });
      expect(await runBackup(options({ mode: 'full', dryRun: true }), ports)).toBe(EXIT.OK);
      expect(ports.locks).toEqual([]);
      expect(ports.out()).toContain('zfs send tank/data@snap-1 | pput');
    } finally {
      other.release();
    }
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

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
