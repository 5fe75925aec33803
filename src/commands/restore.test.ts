/**
 * `z3 restore` orchestration on the memory backend with a scripted `zfs receive`: the chain
 * received in order, the bytes it got, dry-run lines, refusals before anything runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, StorageError, UsageError, type Z3Error } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { runRestore, type RestoreOptions } from './restore.js';
import { createScriptedZfs, scriptedStream, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts } from './testing/ports.js';
import { restoreOptions } from './testing/restore-options.js';
import { injected } from '../testing/faults.js';

function options(over: Partial<RestoreOptions> = {}): RestoreOptions {
  return restoreOptions({ ...over });
}

/** A chain snap-1 (full) → snap-2 → snap-3 as `z3 backup` stores it with COMPRESSOR none. */
function storedChain(): MemBackend {
  const mem = new MemBackend();
  let parent = '';
  for (const n of [1, 2, 3]) {
    const snap = `tank/data@snap-${n}`;
    const meta = parent === '' ? { isfull: 'true' } : { parent };
    const size = 100_000 * n;
    mem.seed(`z3-backup/${snap}`, scriptedStream(snap, parent, size), {
      ...meta,
      size: String(size),
      compressor: 'none',
    });
    parent = snap;
  }
  return mem;
}

describe('runRestore', () => {
  let zfs: ScriptedZfs;
  let mem: MemBackend;
  beforeEach(() => {
    mem = storedChain();
  });
  afterEach(() => zfs.cleanup());

  it('receives the whole chain, oldest first, byte for byte', async () => {
    zfs = createScriptedZfs({ datasets: {} });
    const ports = testPorts({ backend: mem, zfs: zfs.program, env: { CHUNK_SIZE: '5M' } });
    expect(await runRestore(options(), ports)).toBe(EXIT.OK);
    expect(zfs.state().received).toMatchObject([
      {
        target: 'tank/data@snap-1',
        force: false,
        snapshot: 'tank/data@snap-1',
        from: '',
        bytes: 100_000,
      },
      {
        target: 'tank/data@snap-2',
        force: false,
        snapshot: 'tank/data@snap-2',
        from: 'tank/data@snap-1',
        bytes: 200_000,
      },
      {
        target: 'tank/data@snap-3',
        force: false,
        snapshot: 'tank/data@snap-3',
        from: 'tank/data@snap-2',
        bytes: 300_000,
      },
    ]);
  });

  it('starts from the newest snapshot the target already has', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': ['tank/data@snap-1', 'tank/data@snap-2'] },
    });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runRestore(options(), ports)).toBe(EXIT.OK);
    expect(zfs.state().received?.map((r) => r.snapshot)).toEqual(['tank/data@snap-3']);
  });

  it('prints z3_get | zfs receive lines on --dry-run and receives nothing', async () => {
    zfs = createScriptedZfs({ datasets: {} });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runRestore(options({ dryRun: true, target: 'backup/copy' }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe(
      'z3_get z3-backup/tank/data@snap-1 | zfs receive backup/copy@snap-1\n' +
        'z3_get z3-backup/tank/data@snap-2 | zfs receive backup/copy@snap-2\n' +
        'z3_get z3-backup/tank/data@snap-3 | zfs receive backup/copy@snap-3\n',
    );
    expect(zfs.state().received).toEqual([]);
  });

  it(
    'refuses a full stream into an existing dataset without --force, before receiving',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': ['tank/data@unrelated'] } });
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      const failure = await runRestore(options(), ports).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UsageError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect(zfs.state().received).toEqual([]);
      injected('bad input');
    },
  );

  it(
    'fails with exit 5 and receives nothing more when an object cannot be read',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: {} });
      let refused = 0;
      const broken = Object.assign(Object.create(mem) as MemBackend, {
        readRange: () => {
          refused += 1;
          return Promise.reject(new StorageError('reading: AccessDenied (HTTP 403)'));
        },
      });
      const ports = testPorts({ backend: broken, zfs: zfs.program });
      const failure = await runRestore(options(), ports).catch((e: unknown) => e);
      expect((failure as Z3Error).exitCode).toBe(EXIT.STORAGE);
      expect((failure as Error).message).toContain('AccessDenied');
      expect(zfs.state().received).toEqual([]);
      injected('S3 error', refused);
    },
  );
});
