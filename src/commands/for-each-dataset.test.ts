/**
 * `--all`, `--jobs` and `--recursive` over the real backup and status commands, on the memory
 * backend with a scripted `zfs`: every dataset runs with its own `[fs:…]` settings, a failed one
 * does not stop the others, and the run exits with the worst code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT, InterruptedError, Z3Error } from '../errors.js';
import type { HeldLock, LockRequest } from '../lock/acquire.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup } from './backup.js';
import { runForEachDataset, type EachDatasetFlags } from './for-each-dataset.js';
import type { GlobalFlags } from './context.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts, type TestPorts } from './testing/ports.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { runStatus } from './status.js';
import { backupKeys } from './testing/backup-keys.js';

const NO_FLAGS: GlobalFlags = {
  config: undefined,
  s3Prefix: undefined,
  filesystem: undefined,
  snapshotPrefix: undefined,
};

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'z3-each-')), 'z3.conf');
  writeFileSync(path, text);
  return path;
}

function backupEach(
  each: Partial<EachDatasetFlags>,
  ports: TestPorts,
  flags: GlobalFlags = NO_FLAGS,
): Promise<number> {
  return runForEachDataset(
    {
      command: 'backup',
      flags,
      each: { all: false, recursive: false, jobs: undefined, ...each },
      run: (global, p) => runBackup(backupOptions({ ...global, mode: 'full' }), p),
    },
    ports,
  );
}

const THREE = {
  'tank/a': ['tank/a@snap-1'],
  'tank/b': ['tank/b@snap-1'],
  'tank/c': ['tank/c@snap-1'],
};

describe('runForEachDataset', () => {
  let zfs: ScriptedZfs;
  afterEach(() => {
    zfs.cleanup();
    vi.unstubAllEnvs();
  });

  function setup(input: { datasets: Record<string, string[]>; config: string }): {
    mem: MemBackend;
    ports: TestPorts;
  } {
    zfs = createScriptedZfs({ datasets: input.datasets });
    const mem = new MemBackend();
    const defaults = '[DEFAULT]\nCOMPRESSOR = none\nSNAPSHOT_PREFIX = snap\n';
    const env = { Z3_CONFIG: configFile(defaults + input.config), FILESYSTEM: '' };
    const ports = testPorts({ backend: mem, zfs: zfs.program, env });
    // From the config file instead, so that [fs:…] sections can override them.
    delete ports.env['COMPRESSOR'];
    delete ports.env['SNAPSHOT_PREFIX'];
    return { mem, ports };
  }

  it(
    '--all: a dataset whose [fs:] compressor is missing fails, the other two are backed up',
    { tags: ['faults'] },
    async () => {
      const { mem, ports } = setup({
        datasets: THREE,
        config: '[main]\nDATASETS = tank/a\n[fs:tank/b]\nCOMPRESSOR = zstd\n[fs:tank/c]\n',
      });
      // zstd is not on this PATH; the scripted zfs is run by its absolute path.
      vi.stubEnv('PATH', mkdtempSync(join(tmpdir(), 'z3-empty-path-')));
      injected('bad input'); // tank/b's compressor is not installed

      const code = await backupEach({ all: true }, ports);

      expect(code).toBe(EXIT.USAGE);
      expect(backupKeys(mem).sort()).toEqual([
        'z3-backup/tank/a@snap-1',
        'z3-backup/tank/c@snap-1',
      ]);
      expect(ports.err()).toMatch(/^z3: tank\/b: .*'zstd'.*\nhint: .*apt-get install zstd/m);
      const summary = ports.err().slice(ports.err().indexOf('DATASET'));
      expect(summary.split('\n').map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
        ['DATASET', 'RESULT', 'EXIT'],
        ['tank/a', 'ok', '0'],
        ['tank/b', 'usage/config', '2'],
        ['tank/c', 'ok', '0'],
        [''],
      ]);
      expect(summary).toMatch(/^tank\/a .* 2\.93 KiB$/m);
      expect(summary).toMatch(/^tank\/b .* 0 B$/m);
    },
  );

  it('--all: the worst code wins (a storage failure over a usage one)', async () => {
    const { ports } = setup({
      datasets: THREE,
      config: '[fs:tank/a]\nCOMPRESSOR = zstd\n[fs:tank/b]\n[fs:tank/c]\n',
    });
    vi.stubEnv('PATH', mkdtempSync(join(tmpdir(), 'z3-empty-path-')));
    const code = await runForEachDataset(
      {
        command: 'backup',
        flags: NO_FLAGS,
        each: { all: true, recursive: false, jobs: undefined },
        run: (global, p) =>
          global.filesystem === 'tank/c'
            ? Promise.resolve(EXIT.STORAGE)
            : runBackup(backupOptions({ ...global, mode: 'full' }), p),
      },
      ports,
    );
    expect(code).toBe(EXIT.STORAGE);
  });

  it(
    '--jobs 2 runs two datasets at the same time; --jobs 1 one after another',
    { timeout: 40_000 },
    async () => {
      for (const [jobs, expected] of [
        ['2', 2],
        ['1', 1],
      ] as const) {
        const { mem, ports } = setup({
          datasets: THREE,
          config: '[main]\nDATASETS = tank/a tank/b\n',
        });
        const lock = barrierLock({ parties: expected });
        const code = await backupEach({ all: true, jobs }, { ...ports, lock: lock.take });
        expect(code).toBe(EXIT.OK);
        expect(lock.mostAtOnce()).toBe(expected);
        // run at the same time, each dataset's messages are tagged with it
        const tagged = /^tank\/a: tank\/a@snap-1: /m;
        expect(ports.err()).toMatch(jobs === '2' ? tagged : /^tank\/a@snap-1: /m);
        if (jobs === '1') expect(ports.err()).not.toMatch(tagged);
        expect(backupKeys(mem).length).toBe(2);
        zfs.cleanup();
      }
    },
  );

  it(
    'interrupted during the first dataset: its upload aborted, the others not run, exit 130',
    { tags: ['faults'] },
    async () => {
      const { mem, ports } = setup({ datasets: THREE, config: '[fs:tank/a]\n[fs:tank/b]\n' });
      injected('signal'); // SIGTERM while tank/a's backup holds its lock
      const lock = (request: LockRequest): Promise<HeldLock> => {
        ports.controller.abort(new InterruptedError('interrupted by SIGTERM'));
        return Promise.resolve({ path: `${request.dir}/${request.name}`, release: () => {} });
      };
      const code = await backupEach({ all: true }, { ...ports, lock });
      expect(code).toBe(EXIT.INTERRUPTED);
      expect(mem.objects.size).toBe(0);
      expect(await mem.listPending('')).toEqual([]);
      expect(ports.err()).toMatch(/^tank\/a +interrupted +130 /m);
      expect(ports.err()).toMatch(/^tank\/b +not run +130 +- +-$/m);
    },
  );

  it('--recursive: each child is its own dataset, keys as when run one by one', async () => {
    const { mem, ports } = setup({
      datasets: {
        'tank/r': ['tank/r@snap-1'],
        'tank/r/x': ['tank/r/x@snap-1'],
        'tank/r/x/y': ['tank/r/x/y@snap-1'],
        'tank/rr': ['tank/rr@snap-1'],
      },
      config: '',
    });
    const code = await backupEach({ recursive: true }, ports, {
      ...NO_FLAGS,
      filesystem: 'tank/r',
    });
    expect(code).toBe(EXIT.OK);
    expect(backupKeys(mem).sort()).toEqual([
      'z3-backup/tank/r/x/y@snap-1',
      'z3-backup/tank/r/x@snap-1',
      'z3-backup/tank/r@snap-1',
    ]);
    expect(zfs.state().calls).toContainEqual([
      'list',
      '-H',
      '-o',
      'name',
      '-r',
      '-t',
      'filesystem,volume',
      'tank/r',
    ]);
  });

  it('--recursive: a root that does not exist fails, the next root still runs', async () => {
    const { mem, ports } = setup({
      datasets: { 'tank/a': ['tank/a@snap-1'] },
      config: '[main]\nDATASETS = tank/gone tank/a\n',
    });
    const code = await backupEach({ all: true, recursive: true }, ports);
    expect(code).toBe(EXIT.USAGE);
    expect(backupKeys(mem)).toEqual(['z3-backup/tank/a@snap-1']);
    expect(ports.err()).toContain("z3: tank/gone: dataset 'tank/gone' does not exist");
  });

  it('status --all: each dataset with its own [fs:] SNAPSHOT_PREFIX; stdout is each table', async () => {
    const { ports } = setup({
      datasets: { 'tank/a': ['tank/a@daily-1'], 'tank/b': ['tank/b@hourly-1'] },
      config: '[fs:tank/a]\nSNAPSHOT_PREFIX = daily\n[fs:tank/b]\nSNAPSHOT_PREFIX = hourly\n',
    });
    const code = await runForEachDataset(
      {
        command: 'status',
        flags: NO_FLAGS,
        each: { all: true, recursive: false, jobs: '2' },
        run: (global, p) =>
          runStatus({ ...global, json: true, chainLength: false, mode: false }, p),
      },
      ports,
    );
    expect(code, ports.err()).toBe(EXIT.OK);
    const names = ports
      .out()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { snapshot: string }).snapshot)
      .sort();
    expect(names).toEqual(['tank/a@daily-1', 'tank/b@hourly-1']);
  });

  it.each([
    ['--dataset', { ...NO_FLAGS, filesystem: 'tank/a' }, {}, /leave out --dataset/],
    ['FILESYSTEM', NO_FLAGS, { FILESYSTEM: 'tank/a' }, /FILESYSTEM set \(tank\/a\)/],
    ['no datasets', NO_FLAGS, {}, /no datasets are configured/],
  ] as const)(
    '--all with %s: exit 2 before anything runs',
    { tags: ['faults'] },
    async (_name, flags, env, message) => {
      injected('bad input');
      const { mem, ports } = setup({ datasets: THREE, config: '[main]\n' });
      Object.assign(ports.env, env);
      const err = await backupEach({ all: true }, ports, flags).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Z3Error);
      expect((err as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((err as Z3Error).message).toMatch(message);
      expect(mem.objects.size).toBe(0);
    },
  );

  it.each(['0', 'two', '65'])('--jobs %s: exit 2', async (jobs) => {
    const { ports } = setup({ datasets: THREE, config: '[main]\nDATASETS = tank/a\n' });
    await expect(backupEach({ all: true, jobs }, ports)).rejects.toThrow(
      '--jobs: expected a whole number from 1 to 64',
    );
  });
});

/**
 * A lock port that hands out a lock only once `parties` locks are wanted at the same time, so a
 * run that never has them at once fails (after 5 s) instead of passing by luck; it records the
 * most locks held at once.
 */
function barrierLock(input: { parties: number }): {
  take: (request: LockRequest) => Promise<HeldLock>;
  mostAtOnce: () => number;
} {
  let held = 0;
  let most = 0;
  let waiting: (() => void)[] = [];
  const take = async (request: LockRequest): Promise<HeldLock> => {
    held += 1;
    most = Math.max(most, held);
    const arrived = new Promise<void>((resolve, reject) => {
      waiting.push(resolve);
      // generous: under a loaded CI machine the second dataset's scripted zfs may start late
      setTimeout(() => reject(new Error('the datasets did not run at the same time')), 15_000);
    });
    if (waiting.length >= input.parties) {
      for (const resolve of waiting) resolve();
      waiting = [];
    }
    await arrived;
    return {
      path: `${request.dir}/${request.name}`,
      release: () => {
        held -= 1;
      },
    };
  };
  return { take, mostAtOnce: () => most };
}
