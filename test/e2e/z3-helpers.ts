/**
 * Shared pieces of the z3 end-to-end files: a z3 runner bound to one S3 prefix, the object-store
 * checks that every failure scenario asserts (no object, no pending upload), and a history of
 * snapshots with unrelated ones between the selected ones.
 */
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Backend, PendingWrite } from '../../src/storage/backend.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { ensureBucket, testClient, testS3, uniquePrefix } from '../s3-env.js';
import {
  checksumTree,
  runCli,
  shq,
  snapshot,
  vm,
  writeRandomFiles,
  ZFS_SHIM_DIR,
  type CliOptions,
  type ProcessResult,
} from './harness.js';

export const SNAP_PREFIX = 'zfs-auto-snap:daily';

/**
 * The segment layout every z3 backup records (src/plan/segments.ts): the capacity of a segment
 * and the run's segment directory under `<prefix>.z3/segments/`.
 */
export const SEGMENT_METADATA = {
  segmentsize: expect.stringMatching(/^\d+$/) as unknown,
  segmentdir: expect.stringMatching(/\.z3\/segments\/.+@.+\/[0-9a-f]{12}\/$/) as unknown,
};

export interface Z3Run {
  prefix: string;
  backend: Backend;
  /** `z3 --s3-prefix <prefix> --dataset <dataset> ARGS`. */
  z3(args: readonly string[], options?: CliOptions): Promise<ProcessResult>;
  /** Every backup's key under the prefix (not z3's own objects under `<prefix>/.z3/`: the index). */
  keys(): Promise<string[]>;
  /** Pending multipart uploads under the prefix. */
  pending(): Promise<PendingWrite[]>;
  /** Parsed `z3 status --json`, which must exit `expectedCode` (default 0; 3: a broken chain). */
  status(expectedCode?: number): Promise<Record<string, unknown>[]>;
}

export async function z3Run(label: string, dataset: string): Promise<Z3Run> {
  const s3 = testS3();
  await ensureBucket(testClient(s3), s3.bucket);
  const backend = createS3Backend(s3.connection, s3.bucket);
  const prefix = uniquePrefix(label);
  const run: Z3Run = {
    prefix,
    backend,
    z3: (args, options) =>
      runCli('z3', ['--s3-prefix', prefix, '--dataset', dataset, ...args], options),
    async keys() {
      const out: string[] = [];
      for await (const o of backend.list(`${prefix}/`)) out.push(o.key);
      return out.filter((key) => !key.startsWith(`${prefix}/.z3/`));
    },
    pending: () => backend.listPending(`${prefix}/`),
    async status(expectedCode = 0) {
      const r = await run.z3(['status', '--json']);
      expect(r.code, `exit ${r.code ?? r.signal}; stderr:\n${r.stderr}`).toBe(expectedCode);
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
  return run;
}

/** Assert a CLI run exited 0, showing its stderr when it did not. */
export function expectOk(r: ProcessResult): void {
  expect(r.code, `exit ${r.code ?? r.signal}; stderr:\n${r.stderr}`).toBe(0);
}

/**
 * Give `dataset` (mounted) a history: `count` selected snapshots `<SNAP_PREFIX>-<n>` with new
 * data before each, and an unrelated snapshot (other prefix) between every two of them; the
 * last snapshot taken is the last selected one, so the live tree equals its contents.
 * Returns the selected snapshots' full names, oldest first.
 */
export async function makeHistory(
  dataset: string,
  count: number,
  sizeKiB = 256,
): Promise<string[]> {
  const names: string[] = [];
  for (let i = 1; i <= count; i++) {
    if (i > 1) {
      await writeRandomFiles(dataset, 1, 16, { prefix: `between${i}-` });
      await snapshot(`${dataset}@zfs-auto-snap:hourly-${i}`);
    }
    await writeRandomFiles(dataset, 2, sizeKiB, { prefix: `gen${i}-` });
    const name = `${dataset}@${SNAP_PREFIX}-${i}`;
    await snapshot(name);
    names.push(name);
  }
  return names;
}

/** Checksums of every file of a mounted dataset. */
export function treeOf(mountpoint: string): Promise<Map<string, string>> {
  return checksumTree(mountpoint);
}

/**
 * A directory with one fault-injecting program to put first on PATH:
 * - `zfs`: send streams are cut after `bytes` and the stage then dies by SIGKILL; every other
 *   zfs command goes to the real shim;
 * - `pigz`: passes `bytes` through, then exits 1.
 */
export function faultDir(culprit: 'zfs' | 'pigz', bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'z3-faults-'));
  const realZfs = JSON.stringify(join(ZFS_SHIM_DIR, 'zfs'));
  const script =
    culprit === 'zfs'
      ? `#!/bin/bash
# a zfs send that dies mid-stream: the first ${bytes} bytes, then SIGKILL
if [ "$1" = send ] && [[ " $* " != *" -nvP "* ]]; then
  ${realZfs} "$@" | head -c ${bytes}
  kill -KILL $$
fi
exec ${realZfs} "$@"
`
      : `#!/bin/bash
# a compressor that fails after ${bytes} bytes
head -c ${bytes}
echo "pigz: simulated failure" >&2
exit 1
`;
  const path = join(dir, culprit);
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return dir;
}

/** The environment that puts `dir` before the zfs shims on PATH. */
export function pathWith(dir: string): Record<string, string> {
  return { PATH: `${dir}:${ZFS_SHIM_DIR}:${process.env['PATH'] ?? ''}` };
}

/** PATH without the zfs shims, with a `zfs` first that only records that it ran. */
export function noZfsPath(): { env: Record<string, string>; ran: () => boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'z3-verify-nozfs-'));
  const marker = join(dir, 'ran');
  for (const name of ['zfs', 'zpool']) {
    writeFileSync(join(dir, name), `#!/bin/sh\ntouch '${marker}'\nexit 99\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { env: { PATH: `${dir}:${process.env['PATH'] ?? ''}` }, ran: () => existsSync(marker) };
}

export interface VerifyRow {
  name: string;
  checked: string;
  ok: boolean;
  reason: string | null;
}

/** `z3 verify --read-data --json` of `run`'s dataset with `env`, and its `verified` events. */
export async function verifyReadData(run: Z3Run, env: Record<string, string>) {
  const r = await run.z3(['verify', '--read-data', '--json'], { env });
  const rows = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as VerifyRow & { event: string; snapshot: string })
    .filter((e) => e.event === 'verified')
    .map((e) => ({ ...e, name: e.snapshot }));
  return { r, rows };
}

/** Every hold on `name` (a snapshot) or on the snapshots of `name` (a dataset, recursively). */
export async function holdsOn(name: string): Promise<{ snapshot: string; tag: string }[]> {
  const script = name.includes('@')
    ? `zfs holds -H ${shq(name)}`
    : `zfs list -H -t snapshot -o name -r ${shq(name)} | xargs -r zfs holds -H`;
  return (await vm().shOk(script))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [snapshot = '', tag = ''] = l.split('\t');
      return { snapshot, tag };
    });
}

/**
 * Release the holds z3 backup placed (tag `z3:…`) on `name` or its snapshots, as a user must
 * before destroying them: zfs refuses to destroy a held snapshot ("dataset is busy").
 */
export async function releaseZ3Holds(name: string): Promise<void> {
  const releases = (await holdsOn(name))
    .filter((h) => h.tag.startsWith('z3:'))
    .map((h) => `zfs release ${shq(h.tag)} ${shq(h.snapshot)}`);
  if (releases.length > 0) await vm().shOk(releases.join(' && '));
}

/** `zfs destroy -r <dataset>` after `releaseZ3Holds`. */
export async function destroyDataset(dataset: string): Promise<void> {
  await releaseZ3Holds(dataset);
  await vm().shOk(`zfs destroy -r ${shq(dataset)}`);
}
