/**
 * The dataset index (./dataset-index.ts) through the commands, on the memory backend: written
 * after backup and prune, read by status and restore with no HEAD of an object it still
 * describes, and never believed where the listing says otherwise. Requests are counted through
 * FaultyBackend, which records every call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { StorageError } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runBackup } from './backup.js';
import { runPrune } from './prune.js';
import { runRestore } from './restore.js';
import { runStatus } from './status.js';
import { backupOptions } from './testing/backup-options.js';
import { bucket, ENV, options as pruneOptions, snap } from './testing/prune-fixture.js';
import { restoreOptions } from './testing/restore-options.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts, type TestPorts } from './testing/ports.js';

const INDEX = 'z3-backup/.z3/index/tank/data.json';
const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-3'];
const key = (n: number): string => `z3-backup/tank/data@snap-${n}`;
const flags = {
  config: undefined,
  s3Prefix: undefined,
  filesystem: undefined,
  snapshotPrefix: undefined,
};

interface IndexJson {
  format: string;
  version: number;
  dataset: string;
  backups: Record<string, { etag: string; size: number; lastModified: string; metadata: object }>;
}

function indexOf(mem: MemBackend): IndexJson {
  const stored = mem.objects.get(INDEX);
  expect(stored, 'the index object').toBeDefined();
  return JSON.parse(stored!.data.toString('utf8')) as IndexJson;
}

describe('the dataset index', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  /** snap-1..3 backed up by z3 (one full, two incrementals), with the index it wrote. */
  async function backedUp(): Promise<{ mem: MemBackend; faulty: FaultyBackend }> {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
    const mem = new MemBackend();
    const faulty = new FaultyBackend(mem);
    const full = testPorts({ backend: faulty, zfs: zfs.program });
    expect(await runBackup(backupOptions({ quiet: true, mode: 'full' }), full)).toBe(EXIT.OK);
    const state = zfs.state();
    zfs.cleanup();
    zfs = createScriptedZfs({ ...state, datasets: { 'tank/data': SNAPS }, calls: [] });
    const incremental = testPorts({ backend: faulty, zfs: zfs.program });
    expect(await runBackup(backupOptions({ quiet: true }), incremental)).toBe(EXIT.OK);
    faulty.calls.length = 0;
    return { mem, faulty };
  }

  /** `z3 status` on `backend` (CACHE_DIR off: a machine with an empty cache). */
  async function status(backend: FaultyBackend | MemBackend): Promise<TestPorts> {
    const ports = testPorts({ backend, zfs: zfs.program });
    await runStatus({ ...flags, json: false, chainLength: true }, ports);
    return ports;
  }

  const statted = (faulty: FaultyBackend): string[] =>
    faulty
      .ops('stat')
      .map((c) => c.key)
      .sort();

  it('backup writes every backup with its ETag, size and metadata', async () => {
    const { mem } = await backedUp();
    const index = indexOf(mem);
    expect(index).toMatchObject({ format: 'z3-index', version: 1, dataset: 'tank/data' });
    expect(Object.keys(index.backups)).toEqual(SNAPS);
    for (const [n, name] of SNAPS.entries()) {
      const object = mem.objects.get(key(n + 1))!;
      expect(index.backups[name]).toEqual({
        etag: object.etag,
        size: object.data.byteLength,
        lastModified: object.lastModified,
        metadata: object.metadata,
      });
    }
  });

  it('status with an empty cache HEADs nothing the index describes, and prints the same', async () => {
    const { mem, faulty } = await backedUp();
    const withIndex = await status(faulty);
    expect(statted(faulty)).toEqual([INDEX]);
    expect(faulty.ops('readRange').map((c) => c.key)).toEqual([INDEX]);
    mem.objects.delete(INDEX);
    const without = await status(mem);
    expect(withIndex.out()).toBe(without.out());
    expect(withIndex.err()).toBe('');
  });

  it('HEADs an object the listing shows changed (another ETag) and reports what it says now', async () => {
    const { mem, faulty } = await backedUp();
    // rewritten by hand: other bytes, and a parent that is not there
    mem.seed(key(3), Buffer.from('other bytes'), { parent: 'tank/data@gone', size: '5' });
    const ports = await status(faulty);
    expect(statted(faulty)).toEqual([INDEX, key(3)]);
    expect(ports.out()).toMatch(/^snap-3 +\| gone +\| incremental \| missing parent/m);
  });

  it('HEADs what the index does not know (written by Python z3) and ignores what is gone', async () => {
    const { mem, faulty } = await backedUp();
    mem.seed(key(4), Buffer.alloc(5), { parent: 'tank/data@snap-3', size: '5' });
    mem.objects.delete(key(2));
    const ports = await status(faulty);
    expect(statted(faulty)).toEqual([INDEX, key(4)]);
    // snap-2 is only local now, snap-4 is on S3 only
    expect(ports.out()).toMatch(/^snap-2 +\| - +\| missing +\| - /m);
    expect(ports.out()).toMatch(/^snap-4 +\| snap-3 +\| incremental \| parent broken +\| missing/m);
    expect(ports.out()).toMatch(/^snap-3 +\| snap-2 +\| incremental \| missing parent/m);
  });

  it('restore reads it too: no HEAD of a backup it describes', async () => {
    const { faulty } = await backedUp();
    const ports = testPorts({ backend: faulty, zfs: zfs.program });
    const run = runRestore(restoreOptions({ target: 'tank/copy', dryRun: true }), ports);
    expect(await run).toBe(EXIT.OK);
    expect(statted(faulty)).toEqual([INDEX]);
    expect(ports.out().split('\n').filter(Boolean)).toHaveLength(3);
  });

  const unusable: [string, (mem: MemBackend) => void, string][] = [
    ['corrupt', (mem) => mem.seed(INDEX, Buffer.from('{"format":"z3-in')), 'not JSON'],
    [
      'foreign',
      (mem) => {
        const index = indexOf(mem);
        mem.seed(INDEX, Buffer.from(JSON.stringify({ ...index, dataset: 'tank/other' })));
      },
      'the index of "tank/other", not of tank/data',
    ],
    [
      'newer-version',
      (mem) => mem.seed(INDEX, Buffer.from(JSON.stringify({ ...indexOf(mem), version: 2 }))),
      'written by a newer z3 (format version 2, this z3 reads 1)',
    ],
  ];

  it.each(unusable)(
    'a %s index: one warning, every backup HEADed, the same output; the next backup rewrites it',
    { tags: ['faults'] },
    async (_, spoil, reason) => {
      const { mem, faulty } = await backedUp();
      const good = await status(mem);
      spoil(mem);
      injected('corrupt data', 1);
      const ports = await status(faulty);
      expect(ports.err()).toBe(
        `z3: warning: index ${INDEX} unusable (${reason}); HEADing each backup instead; the next backup rewrites it\n`,
      );
      expect(statted(faulty)).toEqual([INDEX, key(1), key(2), key(3)]);
      expect(ports.out()).toBe(good.out());
      // nothing new to back up: the run still replaces the index it could not use
      const backup = testPorts({ backend: mem, zfs: zfs.program });
      expect(await runBackup(backupOptions({ quiet: true }), backup)).toBe(EXIT.OK);
      expect(Object.keys(indexOf(mem).backups)).toEqual(SNAPS);
      faulty.calls.length = 0;
      expect((await status(faulty)).err()).toBe('');
      expect(statted(faulty)).toEqual([INDEX]);
    },
  );

  it('a missing index (a bucket of Python z3) is no warning, and the next backup writes it', async () => {
    const { mem, faulty } = await backedUp();
    mem.objects.delete(INDEX);
    const ports = await status(faulty);
    expect(ports.err()).toBe('');
    expect(statted(faulty)).toEqual([INDEX, key(1), key(2), key(3)]);
    expect(
      await runBackup(
        backupOptions({ quiet: true }),
        testPorts({ backend: mem, zfs: zfs.program }),
      ),
    ).toBe(EXIT.OK);
    expect(Object.keys(indexOf(mem).backups)).toEqual(SNAPS);
  });

  it('a backup with nothing new leaves an index that is still right untouched', async () => {
    const { mem } = await backedUp();
    const before = mem.objects.get(INDEX)!;
    expect(
      await runBackup(
        backupOptions({ quiet: true }),
        testPorts({ backend: mem, zfs: zfs.program }),
      ),
    ).toBe(EXIT.OK);
    expect(mem.objects.get(INDEX)).toBe(before);
  });

  it(
    'a failed write of the index is a warning: the backup succeeds',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
      const mem = new MemBackend();
      const faulty = new FaultyBackend(mem, (call) => {
        if (call.op === 'put' && call.key.includes('/.z3/index/'))
          throw new StorageError('put refused: AccessDenied');
      });
      const ports = testPorts({ backend: faulty, zfs: zfs.program });
      expect(await runBackup(backupOptions({ quiet: true, mode: 'full' }), ports)).toBe(EXIT.OK);
      injected('S3 error', faulty.thrown);
      expect(faulty.thrown).toBe(1);
      expect(ports.out()).toBe('Successfuly backed up tank/data@snap-1: 0 M.\n');
      expect(ports.err()).toBe(
        `z3: warning: cannot write the index ${INDEX}: put refused: AccessDenied; the backups are stored, the next backup writes it\n`,
      );
      expect([...mem.objects.keys()]).toEqual([key(1)]);
    },
  );

  it('prune writes it, and rewrites it without the backups it deleted', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': [] } });
    const mem = bucket(6, 3); // fulls on days 1 and 4
    const prune = (keepLast: string): Promise<number> =>
      runPrune(
        pruneOptions({ keep: { keepLast } }),
        testPorts({ backend: mem, zfs: zfs.program, env: ENV }),
      );
    const indexed = (): string[] => Object.keys(indexOf(mem).backups);
    expect(await prune('6')).toBe(EXIT.OK);
    expect(indexed()).toEqual([1, 2, 3, 4, 5, 6].map((d) => `tank/data@${snap(d)}`));
    expect(await prune('1')).toBe(EXIT.OK);
    expect(indexed()).toEqual([4, 5, 6].map((d) => `tank/data@${snap(d)}`));
    expect(mem.objects.size).toBe(4);
  });
});
