// End to end: `z3 backup --all` over three real OpenZFS datasets (the test VM) to a real S3
// server, the second of which has COMPRESSOR = zstd in its [fs:] section and no zstd on PATH:
// the other two are backed up and restore byte-identical, the summary shows the failure, the
// exit code is the failing dataset's (2), and nothing of the failed one is stored; then
// `status --all --jobs 2 --json` shows the three datasets' rows on stdout.
import { existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { createPool, destroyPool, requireVm, runCli, vm, ZFS_SHIM_DIR } from './harness.js';
import { expectOk, makeHistory, treeOf, z3Run } from './z3-helpers.js';

const POOL = 'z3all';
const [A, B, C] = ['a', 'b', 'c'].map((name) => `${POOL}/${name}`) as [string, string, string];
const snapOf = (full: string): string => full.slice(full.indexOf('@') + 1);

/** The PATH of the CLI with `program` taken out of every directory that holds it. */
function pathWithout(program: string): string {
  const dirs = [ZFS_SHIM_DIR, ...(process.env['PATH'] ?? '').split(':')];
  return dirs
    .map((dir) => {
      if (!existsSync(join(dir, program))) return dir;
      const mirror = mkdtempSync(join(tmpdir(), 'z3-path-'));
      for (const name of readdirSync(dir)) {
        if (name !== program) symlinkSync(join(dir, name), join(mirror, name));
      }
      return mirror;
    })
    .join(':');
}

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
});

describe('z3 backup --all', { tags: ['faults'] }, () => {
  it('a dataset whose compressor is missing fails; the other two are backed up and restore', async () => {
    const snaps = new Map<string, string>();
    for (const dataset of [A, B, C]) {
      await vm().shOk(`zfs create ${dataset}`);
      snaps.set(dataset, (await makeHistory(dataset, 1, 128))[0]!);
    }
    const config = join(mkdtempSync(join(tmpdir(), 'z3-all-')), 'z3.conf');
    writeFileSync(config, `[main]\nDATASETS = ${A}\n[fs:${B}]\nCOMPRESSOR = zstd\n[fs:${C}]\n`);
    const run = await z3Run('all', A);
    const env = { Z3_CONFIG: config, PATH: pathWithout('zstd') };
    injected('bad input'); // B's compressor, zstd, is not installed

    const r = await runCli('z3', ['--s3-prefix', run.prefix, 'backup', '--all', '--full'], { env });

    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^z3: ${B}: .*'zstd'.*\\nhint: .*apt-get install zstd`, 'm'),
    );
    const summary = r.stderr.slice(r.stderr.indexOf('DATASET'));
    expect(summary.split('\n').map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['DATASET', 'RESULT', 'EXIT'],
      [A, 'ok', '0'],
      [B, 'usage/config', '2'],
      [C, 'ok', '0'],
      [''],
    ]);
    expect((await run.keys()).sort()).toEqual([
      `${run.prefix}/${snaps.get(A)!}`,
      `${run.prefix}/${snaps.get(C)!}`,
    ]);
    expect(await run.pending()).toEqual([]);

    const status = await runCli(
      'z3',
      ['--s3-prefix', run.prefix, 'status', '--all', '--jobs', '2', '--json'],
      { env },
    );
    expectOk(status);
    const rows = status.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { snapshot: string; type: string });
    expect(rows.map((row) => [row.snapshot, row.type]).sort()).toEqual([
      [snaps.get(A)!, 'full'],
      [snaps.get(B)!, 'missing'],
      [snaps.get(C)!, 'full'],
    ]);

    for (const dataset of [A, C]) {
      const target = `${dataset}-restored`;
      const restore = ['--s3-prefix', run.prefix, '--dataset', dataset, 'restore'];
      expectOk(await runCli('z3', [...restore, snapOf(snaps.get(dataset)!), '--target', target]));
      expect(await treeOf(`/${target}`), dataset).toEqual(await treeOf(`/${dataset}`));
    }
  });
});
