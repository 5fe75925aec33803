// End to end on real OpenZFS (the test VM), to a real S3 server and to a local directory
// (issue 9): a full backup of 200 MiB of incompressible data killed with SIGKILL once about half
// its parts are on the target resumes on the next run, verifying the parts there and sending at
// most 60 % of the bytes again; a compressor whose output differs on the second run still yields
// exactly the second run's stream; SIGTERM exits 130 keeping the upload. Every restore is
// byte-identical.
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJournals } from '../../src/resume/journal.js';
import type { Backend, ListedChunk, PendingWrite } from '../../src/storage/backend.js';
import { createLocalBackend } from '../../src/storage/local/backend.js';
import { uniquePrefix } from '../s3-env.js';
import { injected } from '../../src/testing/faults.js';
import {
  createPool,
  destroyPool,
  requireVm,
  runCli,
  snapshot,
  vm,
  writeRandomFiles,
  ZFS_SHIM_DIR,
  type CliOptions,
  type ProcessResult,
} from './harness.js';
import { expectOk, SNAP_PREFIX, treeOf, z3Run } from './z3-helpers.js';

const POOL = 'z3resume';
const DATASET = `${POOL}/data`;
const SNAP = `${SNAP_PREFIX}-1`;
const MiB = 1024 * 1024;
const PART = 5 * MiB; // the part size z3 picks for this estimate (CHUNK_SIZE unset)

let stateRoot: string;
beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 640); // the data, one restored copy, and ZFS's slop space
  await vm().shOk(`zfs create ${DATASET}`);
  await writeRandomFiles(DATASET, 25, 8 * 1024); // 200 MiB of /dev/urandom
  await snapshot(`${DATASET}@${SNAP}`);
  stateRoot = mkdtempSync(join(tmpdir(), 'z3-resume-e2e-'));
});

afterAll(async () => {
  await destroyPool(POOL);
  rmSync(stateRoot, { recursive: true, force: true });
});

/** Where one scenario backs up: z3 bound to a fresh prefix there, and the backend to look at it. */
interface Target {
  prefix: string;
  backend: Backend;
  z3(args: readonly string[], options?: CliOptions): Promise<ProcessResult>;
}

/** The test S3 server, a fresh prefix. */
async function s3Target(label: string): Promise<Target> {
  const run = await z3Run(label, DATASET);
  return { prefix: run.prefix, backend: run.backend, z3: (args, options) => run.z3(args, options) };
}

/** A fresh local directory (BACKUP_DIR, no bucket). */
function localTarget(label: string): Promise<Target> {
  const dir = mkdtempSync(join(stateRoot, 'backup-dir-'));
  const prefix = uniquePrefix(label);
  return Promise.resolve({
    prefix,
    backend: createLocalBackend(dir),
    z3: (args, options = {}) =>
      runCli('z3', ['--s3-prefix', prefix, '--dataset', DATASET, ...args], {
        ...options,
        withS3: false,
        env: { Z3_CONFIG: '/dev/null', BACKUP_DIR: dir, CACHE_DIR: 'off', ...options.env },
      }),
  });
}

/** The objects under the run's prefix, but for z3's own bookkeeping under `.z3/` (the index). */
async function keysOf(target: Target): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of target.backend.list(`${target.prefix}/`)) {
    if (!o.key.startsWith(`${target.prefix}/.z3/`)) keys.push(o.key);
  }
  return keys;
}

const pendingOf = (target: Target): Promise<PendingWrite[]> =>
  target.backend.listPending(`${target.prefix}/`);

/** The environment of one scenario: its own STATE_DIR, few workers (the kill lands mid-upload). */
function scenarioEnv(label: string, extra: Record<string, string> = {}): Record<string, string> {
  return { STATE_DIR: join(stateRoot, label), CONCURRENCY: '4', COMPRESSOR: 'none', ...extra };
}

/** The parts of the one pending upload under the run's prefix (none when there is no upload). */
async function listedParts(run: Target): Promise<ListedChunk[]> {
  const [pending] = await pendingOf(run);
  return pending === undefined ? [] : run.backend.listChunks(pending);
}

/**
 * Start `z3 backup --full`, and once `parts` parts are on the server send it `signal`. Resolves
 * with its result and the server's part list right after it ended.
 */
async function interruptedBackup(
  run: Target,
  env: Record<string, string>,
  input: { parts: number; signal: NodeJS.Signals },
): Promise<{ result: ProcessResult; listed: ListedChunk[] }> {
  let pid = 0;
  const result = run.z3(['backup', '--full'], { env, onSpawn: (p) => (pid = p) });
  for (let i = 0; (await listedParts(run)).length < input.parts; i++) {
    if (i > 1500) throw new Error(`${input.parts} parts never reached the server`);
    await sleep(100);
  }
  process.kill(pid, input.signal);
  const done = await result;
  return { result: done, listed: await listedParts(run) };
}

/** How many parts 1, 2, 3, … the list holds without a gap (what a resume can reuse at most). */
function leadingRun(listed: readonly ListedChunk[]): number {
  let n = 0;
  while (listed.some((c) => c.number === n + 1)) n += 1;
  return n;
}

/** `resuming <key>: K of M parts (…) already on the server, verified…`, parsed. */
function resumeReport(stderr: string, key: string): { kept: number; total: number; line: string } {
  const line = stderr
    .split('\n')
    .find((l) => l.startsWith(`z3: resuming ${key}: `) && l.includes(' of '));
  const m = line && /: (\d+) of (\d+) parts \(.*\) already on the server, verified/.exec(line);
  if (!m) throw new Error(`no resume report in stderr:\n${stderr}`);
  return { kept: Number(m[1]), total: Number(m[2]), line: m.input };
}

/** The part count of a multipart ETag (`"<hex>-<n>"`). */
function partsOfEtag(etag: string): number {
  return Number(/-(\d+)"?$/.exec(etag)?.[1] ?? NaN);
}

async function sha256OfObject(run: Target, key: string): Promise<string> {
  const info = await run.backend.stat(key);
  const hash = createHash('sha256');
  for (let start = 0; start < (info?.size ?? 0); start += 64 * MiB) {
    const end = Math.min(info!.size, start + 64 * MiB) - 1;
    hash.update(await run.backend.readRange({ key, start, end }));
  }
  return hash.digest('hex');
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file) as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Restore the backup into a new dataset, compare every file, then drop the copy. */
async function expectRestoredIdentical(run: Target, target: string): Promise<void> {
  expectOk(await run.z3(['restore', SNAP, '--target', target]));
  expect(await treeOf(`/${target}`)).toEqual(await treeOf(`/${DATASET}`));
  await vm().shOk(`zfs destroy -r ${target}`);
}

describe.each([
  ['S3', s3Target],
  ['a local directory', localTarget],
] as const)('resume of an interrupted z3 backup to %s (real OpenZFS)', (where, targetOf) => {
  it(
    'kill -9 at about half the parts: the next run resumes, re-sends at most 60 %, restores identical',
    { tags: ['faults'] },
    async () => {
      const run = await targetOf('resume-kill');
      const key = `${run.prefix}/${DATASET}@${SNAP}`;
      const env = scenarioEnv(`kill-${where}`);
      const first = await interruptedBackup(run, env, { parts: 21, signal: 'SIGKILL' });
      injected('kill -9');
      expect(first.result.signal).toBe('SIGKILL');
      expect(await keysOf(run)).toEqual([]); // nothing half-written listed as a backup
      expect((await listJournals(env.STATE_DIR!)).map((j) => j.journal?.key)).toEqual([key]);
      const reusable = leadingRun(first.listed);
      expect(reusable).toBeGreaterThanOrEqual(15);

      const second = await run.z3(['backup', '--full'], { env });
      expectOk(second);
      const report = resumeReport(second.stderr, key);
      const info = await run.backend.stat(key);
      // its own report, against the server's part list before it and the object's ETag after it
      expect(report.kept).toBe(reusable);
      expect(report.total).toBe(partsOfEtag(info!.etag));
      expect(report.line).not.toContain('differed');
      const resent = info!.size - report.kept * PART;
      expect(resent / info!.size).toBeLessThanOrEqual(0.6);
      expect(await pendingOf(run)).toEqual([]);
      expect(await listJournals(env.STATE_DIR!)).toEqual([]);
      await expectRestoredIdentical(run, `${POOL}/restored-kill`);
    },
  );

  it(
    'a compressor whose output differs on the second run: the object is exactly the second stream',
    { tags: ['faults'] },
    async () => {
      const run = await targetOf('resume-differs');
      const key = `${run.prefix}/${DATASET}@${SNAP}`;
      const tools = mkdtempSync(join(stateRoot, 'pigz-'));
      const second = join(tools, 'second.gz');
      // pigz without timestamps; with Z3_TEST_INJECT set, a new gzip member starts after 64 MiB
      // of input (a multiple of pigz's 4 MiB blocks), so the output differs from about there on
      writeFileSync(
        join(tools, 'pigz'),
        `#!/bin/bash
if [[ " $* " == *" -d "* ]]; then exec /usr/bin/pigz "$@"; fi
if [ -n "$Z3_TEST_INJECT" ]; then
  { head -c ${64 * MiB} | /usr/bin/pigz -m "$@"; /usr/bin/pigz -m "$@"; } | tee ${second}
else
  exec /usr/bin/pigz -m "$@"
fi
`,
      );
      chmodSync(join(tools, 'pigz'), 0o755);
      const path = { PATH: `${tools}:${ZFS_SHIM_DIR}:${process.env['PATH'] ?? ''}` };
      const env = scenarioEnv(`differs-${where}`, { COMPRESSOR: 'pigz1', ...path });
      const first = await interruptedBackup(run, env, { parts: 21, signal: 'SIGKILL' });
      injected('kill -9');
      expect(first.result.signal).toBe('SIGKILL');

      const again = await run.z3(['backup', '--full'], { env: { ...env, Z3_TEST_INJECT: '1' } });
      expectOk(again);
      const report = resumeReport(again.stderr, key);
      expect(report.line).toMatch(
        /; part \d+ differed, so it and every later part were sent again$/,
      );
      expect(report.kept).toBeGreaterThanOrEqual(5);
      expect(await sha256OfObject(run, key)).toBe(await sha256OfFile(second));
      await expectRestoredIdentical(run, `${POOL}/restored-differs`);
    },
  );

  it(
    'SIGTERM during backup: exit 130, journal and pending upload kept, the next run resumes',
    { tags: ['faults'] },
    async () => {
      const run = await targetOf('resume-term');
      const key = `${run.prefix}/${DATASET}@${SNAP}`;
      const env = scenarioEnv(`term-${where}`);
      const first = await interruptedBackup(run, env, { parts: 8, signal: 'SIGTERM' });
      injected('signal');
      expect(first.result.code, first.result.stderr).toBe(130);
      expect(first.result.stderr).toMatch(
        new RegExp(`z3: interrupted; \\d+ parts of ${key} kept for the next run \\(journal .*\\)`),
      );
      expect(first.listed.length).toBeGreaterThanOrEqual(8);
      expect(await keysOf(run)).toEqual([]);
      expect(await listJournals(env.STATE_DIR!)).toHaveLength(1);

      const second = await run.z3(['backup', '--full'], { env });
      expectOk(second);
      expect(resumeReport(second.stderr, key).kept).toBe(leadingRun(first.listed));
      expect(await keysOf(run)).toEqual([key]);
    },
  );
});
