/** `z3 prune` on the memory backend (wrapped in FaultyBackend to see and fail deletions). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../lock/acquire.js';
import { lockName } from '../lock/name.js';
import { storageOf } from '../storage/open.js';
import { EXIT, InterruptedError, StorageError, Z3Error } from '../errors.js';
import { computeHealth } from '../plan/health.js';
import { parseRemoteSnapshots } from '../plan/remote.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runPrune } from './prune.js';
import { bucket, options, PREFIX, snap } from './testing/prune-fixture.js';
import { ENV } from './testing/prune-fixture.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts, type TestPorts } from './testing/ports.js';

function remainingDays(mem: MemBackend): number[] {
  return [...mem.objects.keys()].map((k) => Number(k.slice(-7, -5))).sort((a, b) => a - b);
}

async function exitOf(run: Promise<number>): Promise<number> {
  try {
    return await run;
  } catch (err) {
    if (err instanceof Z3Error) return err.exitCode;
    throw err;
  }
}

describe('runPrune', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  function setup(
    mem: MemBackend,
    env: Record<string, string> = {},
  ): {
    faulty: FaultyBackend;
    ports: TestPorts;
  } {
    zfs = createScriptedZfs({ datasets: { 'tank/data': [] } });
    const faulty = new FaultyBackend(mem);
    return {
      faulty,
      ports: testPorts({ backend: faulty, zfs: zfs.program, env: { ...ENV, ...env } }),
    };
  }

  it('deletes what --keep-daily does not keep, children first, and never runs zfs', async () => {
    const mem = bucket(10, 4); // fulls on days 1, 5, 9
    const { faulty, ports } = setup(mem);
    expect(await runPrune(options({ keep: { keepDaily: '2' } }), ports)).toBe(EXIT.OK);
    expect(remainingDays(mem)).toEqual([9, 10]);
    expect(faulty.ops('remove').map((c) => Number(c.key.slice(-7, -5)))).toEqual([
      8, 7, 6, 5, 4, 3, 2, 1,
    ]);
    expect(zfs.state().calls).toEqual([]);
    expect(ports.out()).toContain(`keep    ${snap(10)}  newest, daily snapshot\n`);
    expect(ports.out()).toContain(`keep    ${snap(9)}  daily snapshot, ancestor of ${snap(10)}\n`);
    expect(ports.out()).toMatch(/^keep 2, delete 8 \(0\.01 M freed\), broken 0$/m);
    expect(ports.locks.map((l) => l.releases)).toEqual([1]);
  });

  it('--dry-run prints the plan, the time sources with --verbose, and deletes nothing', async () => {
    const mem = bucket(6, 3);
    mem.objects.get(`${PREFIX}${snap(1)}`)!.storageClass = 'GLACIER_IR';
    const { faulty, ports } = setup(mem);
    const run = runPrune(options({ keep: { keepLast: '1' }, dryRun: true, verbose: true }), ports);
    expect(await run).toBe(EXIT.OK);
    expect(faulty.ops('remove')).toEqual([]);
    expect(remainingDays(mem)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ports.out()).toContain(
      `keep          ${snap(4)}  2026-11-04 00:00:00 UTC (zfs-auto-snapshot name)  ancestor of ${snap(6)}`,
    );
    expect(ports.out()).toContain(
      `would delete  ${snap(1)}  2026-11-01 00:00:00 UTC (zfs-auto-snapshot name)\n`,
    );
    expect(ports.out()).toMatch(/^keep 3, would delete 3 \(0 M freed\), broken 0$/m);
    expect(ports.err()).toContain(
      `z3: warning: tank/data@${snap(1)} is a 0-day-old GLACIER_IR object: deleting it now is billed as 90 days of storage`,
    );
    expect(ports.locks).toEqual([]);
  });

  it('reads KEEP_* from the environment (and the config layers)', async () => {
    const mem = bucket(4, 1);
    const { ports } = setup(mem, { KEEP_LAST: '3' });
    expect(await runPrune(options(), ports)).toBe(EXIT.OK);
    expect(remainingDays(mem)).toEqual([2, 3, 4]);
  });

  it.each([
    [{}, 'no policy'],
    [{ keepDaily: '-1' }, 'a negative count'],
    [{ keepWithin: 'a week' }, 'a garbage duration'],
    [{ keepWeekly: 'some' }, 'a count that is no number'],
  ])('refuses %j (%s) with exit 2 and deletes nothing', async (keep, _) => {
    const mem = bucket(3, 1);
    const { faulty, ports } = setup(mem);
    expect(await exitOf(runPrune(options({ keep }), ports))).toBe(EXIT.USAGE);
    expect(faulty.ops('remove')).toEqual([]);
    expect(faulty.ops('list')).toEqual([]);
  });

  it('keeps broken backups unless --broken, and says so', async () => {
    const mem = bucket(3, 3);
    mem.seed(`${PREFIX}${snap(20)}`, Buffer.alloc(5), { parent: 'tank/data@gone' });
    const first = setup(mem);
    expect(await runPrune(options({ keep: { keepLast: '1' } }), first.ports)).toBe(EXIT.OK);
    expect(remainingDays(mem)).toEqual([1, 2, 3, 20]);
    expect(first.ports.err()).toContain('1 broken backup(s) kept');
    zfs.cleanup();
    const second = setup(mem);
    expect(await runPrune(options({ keep: { keepLast: '1' }, broken: true }), second.ports)).toBe(
      EXIT.OK,
    );
    expect(remainingDays(mem)).toEqual([1, 2, 3]);
  });

  it('refuses (exit 2) while a backup of the dataset holds the lock, deleting nothing', async () => {
    const lockDir = mkdtempSync(join(tmpdir(), 'z3-prune-lock-'));
    const mem = bucket(4, 1);
    const { faulty } = setup(mem);
    const ports = testPorts({
      backend: faulty,
      zfs: zfs.program,
      env: { ...ENV, LOCK_DIR: lockDir },
      lock: acquireLock,
    });
    const identity = storageOf(faulty, 'test-bucket').identity;
    const held = await acquireLock({
      dir: lockDir,
      name: lockName('backup', [identity, 'z3-backup/', 'tank/data']),
      description: 'z3 backup of tank/data to test-bucket/z3-backup/',
      wait: false,
      signal: new AbortController().signal,
    });
    try {
      const error = await runPrune(options({ keep: { keepLast: '1' } }), ports).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Z3Error);
      expect((error as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((error as Z3Error).message).toMatch(
        /^another z3 backup of tank\/data to test-bucket\/z3-backup\/ is running/,
      );
      expect(faulty.ops('remove')).toEqual([]);
    } finally {
      held.release();
      rmSync(lockDir, { recursive: true, force: true });
    }
  });

  it(
    'a prune that fails after k deletions leaves no backup without its parent, for every k',
    { tags: ['faults'] },
    async () => {
      const deletions = 8; // bucket(10, 4) with --keep-daily 2 deletes 8 backups
      for (let k = 0; k < deletions; k += 1) {
        const mem = bucket(10, 4);
        const { faulty, ports } = setup(mem);
        faulty.script = (call) => {
          if (call.op === 'remove' && faulty.ops('remove').length > k) {
            throw new StorageError('injected: InternalError (HTTP 500)');
          }
        };
        const run = runPrune(options({ keep: { keepDaily: '2' } }), ports);
        expect(await exitOf(run)).toBe(EXIT.STORAGE);
        injected('S3 error', faulty.thrown);
        expect(mem.objects.size).toBe(10 - k);
        const left = parseRemoteSnapshots(
          'z3-backup/',
          [...mem.objects.keys()].map((key) => ({
            key,
            size: 0,
            etag: '',
            metadata: mem.objects.get(key)!.metadata,
          })),
        );
        const health = computeHealth(left);
        expect(left.filter((s) => health.get(s.name) !== 'ok').map((s) => s.name)).toEqual([]);
        expect(ports.err()).toContain(`prune stopped after deleting ${k} of ${deletions} backups`);
        zfs.cleanup();
      }
    },
  );

  it(
    'SIGTERM between deletions stops the prune (exit 130) with every chain whole',
    { tags: ['faults'] },
    async () => {
      const mem = bucket(10, 4);
      const { faulty, ports } = setup(mem);
      faulty.script = (call) => {
        // What the entry point's SIGTERM handler does, after the third deletion started.
        if (call.op === 'remove' && faulty.ops('remove').length === 3) {
          ports.controller.abort(new InterruptedError('interrupted by SIGTERM'));
        }
      };
      const run = runPrune(options({ keep: { keepDaily: '2' } }), ports);
      expect(await exitOf(run)).toBe(EXIT.INTERRUPTED);
      injected('signal', 1);
      expect(remainingDays(mem)).toEqual([1, 2, 3, 4, 5, 9, 10]);
    },
  );
});
