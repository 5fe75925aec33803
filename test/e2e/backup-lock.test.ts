// End to end on real OpenZFS (the test VM) and a real S3 server: two `z3 backup` runs of one
// dataset at once (a cron job overlapping a slow upload). The first run's `zfs send` is held at a
// gate until the test has started the second, so the overlap is certain, not a timing guess:
// exactly one run sends and uploads, the other exits 2 naming the first's pid, or with --wait
// waits and then sends only what the first did not; the chain stays healthy and restores. A
// holder killed -9 mid-send leaves no lock behind.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { testS3 } from '../s3-env.js';
import {
  createPool,
  destroyPool,
  listSnapshots,
  requireVm,
  snapshot,
  vm,
  writeRandomFiles,
  ZFS_SHIM_DIR,
  type ProcessResult,
} from './harness.js';
import {
  expectOk,
  makeHistory,
  pathWith,
  SNAP_PREFIX,
  treeOf,
  z3Run,
  type Z3Run,
} from './z3-helpers.js';

const POOL = 'z3lock';
const snapOf = (full: string): string => full.slice(full.indexOf('@') + 1);

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
});

/** Gated runs of the current test: a failing test must not leave one waiting at its gate. */
const gated: { gate: SendGate; result: Promise<ProcessResult> }[] = [];
/** The current test's gate and lock directories. */
const temporaries: string[] = [];
afterEach(async () => {
  for (const { gate } of gated) gate.open();
  await Promise.allSettled(gated.splice(0).map(({ result }) => result));
  for (const dir of temporaries.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temporaryDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `z3-lock-${label}-`));
  temporaries.push(dir);
  return dir;
}

/**
 * A `zfs` to put first on PATH that logs every real `zfs send` (`<Z3_TEST_RUN> <snapshot>`) and,
 * for the run labelled `first`, holds each send until the gate is opened (or that run is gone).
 * Every other zfs command, and the `-nvP` estimate, goes straight to the shim.
 */
interface SendGate {
  dir: string;
  /** Resolves once the first run's `zfs send` has started (it holds the lock by then). */
  started(run: Promise<ProcessResult>): Promise<void>;
  open(): void;
  /** The sends so far, as `<run> <snapshot>` lines. */
  sends(): string[];
}

function sendGate(): SendGate {
  const dir = temporaryDir('gate');
  const log = join(dir, 'sends.log');
  const script = `#!/bin/bash
if [ "$1" = send ] && [[ " $* " != *" -nvP "* ]]; then
  echo "$Z3_TEST_RUN \${@: -1}" >> ${JSON.stringify(log)}
  if [ "$Z3_TEST_RUN" = first ]; then
    touch ${JSON.stringify(join(dir, 'started'))}
    while [ ! -e ${JSON.stringify(join(dir, 'open'))} ]; do kill -0 $PPID || exit 1; sleep 0.05; done
  fi
fi
exec ${JSON.stringify(join(ZFS_SHIM_DIR, 'zfs'))} "$@"
`;
  writeFileSync(join(dir, 'zfs'), script);
  chmodSync(join(dir, 'zfs'), 0o755);
  return {
    dir,
    async started(run) {
      let ended = false;
      void run.finally(() => (ended = true));
      while (!existsSync(join(dir, 'started'))) {
        if (ended)
          throw new Error(`the first run ended before its zfs send: ${(await run).stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    open: () => writeFileSync(join(dir, 'open'), ''),
    sends: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
  };
}

/** A run's environment: its label for the gate's log, the gate first on PATH, the lock dir. */
function runEnv(gate: SendGate, label: string, lockDir: string): Record<string, string> {
  return { ...pathWith(gate.dir), Z3_TEST_RUN: label, LOCK_DIR: lockDir };
}

/** Start the first run (gated) and resolve once it holds the lock and its send has started. */
async function startFirst(
  run: Z3Run,
  gate: SendGate,
  lockDir: string,
  args: readonly string[],
): Promise<{ pid: number; result: Promise<ProcessResult> }> {
  let pid = 0;
  const result = run.z3(args, { env: runEnv(gate, 'first', lockDir), onSpawn: (p) => (pid = p) });
  gated.push({ gate, result });
  await gate.started(result);
  const locks = readdirSync(lockDir);
  expect(locks).toEqual([expect.stringMatching(/^backup-[0-9a-f]{16}\.lock$/)]);
  expect(readFileSync(join(lockDir, locks[0]!), 'utf8')).toMatch(new RegExp(`^${pid}\\n`));
  return { pid, result };
}

/** The message of a run refused (or waiting) because `pid` backs up `dataset` to `run`'s target. */
function holderText(run: Z3Run, dataset: string, pid: number): string {
  return `another z3 backup of ${dataset} to ${testS3().bucket}/${run.prefix} is running (pid ${pid})`;
}

/** What a run with --wait says while `pid` holds the lock. */
function waitingText(run: Z3Run, dataset: string, pid: number): string {
  return `z3: waiting for ${holderText(run, dataset, pid).replace(' is running', '')} to finish`;
}

/** Every snapshot healthy, the latest restores into a new dataset with the same files. */
async function expectIntactAndRestorable(run: Z3Run, dataset: string, snaps: string[]) {
  expect((await run.keys()).sort()).toEqual(snaps.map((s) => `${run.prefix}/${s}`).sort());
  const rows = await run.status();
  expect(rows.map((r) => [r['name'], r['health']])).toEqual(snaps.map((s) => [snapOf(s), 'ok']));
  const target = `${POOL}/restored-${dataset.split('/').pop()!}`;
  expectOk(await run.z3(['restore', snapOf(snaps.at(-1)!), '--target', target]));
  expect(await treeOf(`/${target}`)).toEqual(await treeOf(`/${dataset}`));
  expect(await listSnapshots(target)).toEqual(snaps.map((s) => `${target}@${snapOf(s)}`));
}

/** A new dataset with `count` selected snapshots, its z3 runner, a fresh LOCK_DIR and a gate. */
async function setUp(name: string, count: number) {
  const dataset = `${POOL}/${name}`;
  await vm().shOk(`zfs create ${dataset}`);
  const snaps = await makeHistory(dataset, count);
  const run = await z3Run(`lock-${name}`, dataset);
  const lockDir = temporaryDir('dir');
  return { dataset, snaps, run, lockDir, gate: sendGate() };
}

/** `backup --full --snapshot <snap>` of a full name. */
const fullOf = (snap: string): string[] => ['backup', '--full', '--snapshot', snapOf(snap)];

describe('two z3 backup runs of one dataset at once', () => {
  it(
    'the second exits 2 naming the first by pid; only the first sends; the chain is intact and restores',
    { tags: ['faults'] },
    async () => {
      const { dataset, snaps, run, lockDir, gate } = await setUp('overlap', 3);

      const first = await startFirst(run, gate, lockDir, fullOf(snaps[0]!));
      const second = await run.z3(fullOf(snaps[0]!), {
        env: runEnv(gate, 'second', lockDir),
      });
      injected('concurrent writer');
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toBe(
        `z3: ${holderText(run, dataset, first.pid)}\nhint: wait for it, or pass --wait\n`,
      );
      expect(second.stdout).toBe('');

      gate.open();
      const done = await first.result;
      expectOk(done);
      expect(done.stdout).toMatch(new RegExp(`^Successfuly backed up ${snaps[0]!}: `));
      // the incrementals, by a later run that finds the lock free again
      expectOk(await run.z3(['backup'], { env: runEnv(gate, 'later', lockDir) }));
      expect(gate.sends()).toEqual([
        `first ${snaps[0]!}`,
        `later ${snaps[1]!}`,
        `later ${snaps[2]!}`,
      ]);
      expect(await run.pending()).toEqual([]);
      await expectIntactAndRestorable(run, dataset, snaps);
    },
  );

  it(
    'with --wait the second waits for the first, then sends only the snapshot taken meanwhile',
    { tags: ['faults'] },
    async () => {
      const { dataset, snaps, run, lockDir, gate } = await setUp('waiting', 2);
      expectOk(
        await run.z3(fullOf(snaps[0]!), {
          env: { LOCK_DIR: lockDir },
        }),
      );

      const first = await startFirst(run, gate, lockDir, ['backup']);
      await writeRandomFiles(dataset, 2, 256, { prefix: 'gen3-' });
      const third = `${dataset}@${SNAP_PREFIX}-3`;
      await snapshot(third);
      let stderr = '';
      let isWaiting!: () => void;
      const waiting = new Promise<void>((resolve) => (isWaiting = resolve));
      const second = run.z3(['backup', '--wait'], {
        env: runEnv(gate, 'second', lockDir),
        onStderr: (text) => {
          stderr += text;
          if (stderr.includes(waitingText(run, dataset, first.pid))) isWaiting();
        },
      });
      await Promise.race([
        waiting,
        second.then((r) => expect.fail(`ended without waiting: ${r.stderr}`)),
      ]);
      injected('concurrent writer');
      expect(gate.sends()).toEqual([`first ${snaps[1]!}`]);

      gate.open();
      const firstDone = await first.result;
      expectOk(firstDone);
      expect(firstDone.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^Successfuly backed up ${snaps[1]!}: `)),
      ]);
      const secondDone = await second;
      expectOk(secondDone);
      expect(secondDone.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^Successfuly backed up ${third}: `)),
      ]);
      expect(gate.sends()).toEqual([`first ${snaps[1]!}`, `second ${third}`]);
      expect(await run.pending()).toEqual([]);
      await expectIntactAndRestorable(run, dataset, [...snaps, third]);
    },
  );

  it(
    'a run killed -9 mid-send leaves no lock behind: the next run backs up at once, nothing half-written',
    { tags: ['faults'] },
    async () => {
      const { dataset, snaps, run, lockDir, gate } = await setUp('killed', 2);

      const first = await startFirst(run, gate, lockDir, fullOf(snaps[0]!));
      process.kill(first.pid, 'SIGKILL');
      injected('kill -9');
      const killed = await first.result;
      expect(killed.signal).toBe('SIGKILL');
      expect(await run.keys()).toEqual([]);

      const next = await run.z3(fullOf(snaps[0]!), {
        env: runEnv(gate, 'next', lockDir),
      });
      expectOk(next);
      expectOk(await run.z3(['backup'], { env: runEnv(gate, 'next', lockDir) }));
      expect(gate.sends()).toEqual([
        `first ${snaps[0]!}`,
        `next ${snaps[0]!}`,
        `next ${snaps[1]!}`,
      ]);
      await expectIntactAndRestorable(run, dataset, snaps);
      // kill -9 gives z3 no chance to abort: at most the killed run's multipart upload is left,
      // under the first snapshot's key; it is no object (a bucket lifecycle rule removes it)
      const left = await run.pending();
      expect(left.map((p) => p.key).filter((k) => k !== `${run.prefix}/${snaps[0]!}`)).toEqual([]);
      expect(left.length).toBeLessThanOrEqual(1);
      for (const p of left) await run.backend.abortPending(p);
    },
  );
});
