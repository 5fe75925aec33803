// End to end on real OpenZFS with a local-directory target (BACKUP_DIR, as a backup disk or an
// NFS mount would be): backup → status → destroy → restore gives the same files and snapshots,
// the objects sit at the same keys as on S3 with their metadata beside them, and a send that
// dies mid-stream leaves nothing that lists as a backup.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, destroyPool, listSnapshots, requireVm, runCli, vm } from './harness.js';
import {
  destroyDataset,
  expectOk,
  faultDir,
  makeHistory,
  pathWith,
  SNAP_PREFIX,
  treeOf,
  SEGMENT_METADATA,
} from './z3-helpers.js';
import { injected } from '../../src/testing/faults.js';

const POOL = 'z3e2eloc';
const PREFIX = 'z3-backup';
const snapOf = (full: string): string => full.slice(full.indexOf('@') + 1);

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('a local-directory target (BACKUP_DIR)', () => {
  let backupDir: string;
  beforeAll(async () => {
    await requireVm();
    await createPool(POOL, 256);
    backupDir = mkdtempSync(join(tmpdir(), 'z3-backup-dir-'));
  });
  afterAll(async () => {
    await destroyPool(POOL);
    rmSync(backupDir, { recursive: true, force: true });
  });

  /** z3 with BACKUP_DIR and no bucket (the S3 variables are not passed at all). */
  const z3 = (dataset: string, args: string[], env: Record<string, string> = {}) =>
    runCli('z3', ['--dataset', dataset, ...args], {
      withS3: false,
      env: { Z3_CONFIG: '/dev/null', BACKUP_DIR: backupDir, CACHE_DIR: 'off', ...env },
    });

  it('backs up, shows status, restores byte-identical; keys and metadata as on S3', async () => {
    const dataset = `${POOL}/data`;
    await vm().shOk(`zfs create ${dataset}`);
    const snaps = await makeHistory(dataset, 3);
    expectOk(await z3(dataset, ['backup', '--full', '--snapshot', snapOf(snaps[0]!)]));
    const incr = await z3(dataset, ['backup']);
    expectOk(incr);
    expect(incr.stdout.trim().split('\n')).toHaveLength(2);

    const status = await z3(dataset, ['status', '--json']);
    expectOk(status);
    const rows = status.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r['name'], r['type'], r['health']])).toEqual(
      snaps.map((s, i) => [snapOf(s), i === 0 ? 'full' : 'incremental', 'ok']),
    );
    expect(filesUnder(backupDir)).toEqual(
      snaps.flatMap((s) => [`${PREFIX}/${s}`, `${PREFIX}/${s}.z3meta`]).sort(),
    );
    const sidecar = JSON.parse(
      readFileSync(join(backupDir, `${PREFIX}/${snaps[1]!}.z3meta`), 'utf8'),
    ) as { metadata: Record<string, string> };
    expect(sidecar.metadata).toEqual({
      parent: snaps[0],
      size: expect.stringMatching(/^\d+$/) as unknown,
      compressor: 'pigz1',
      creation: expect.stringMatching(/^\d+$/) as unknown,
      guid: expect.stringMatching(/^\d+$/) as unknown,
      ...SEGMENT_METADATA,
    });

    const before = await treeOf(`/${dataset}`);
    await destroyDataset(dataset);
    expectOk(await z3(dataset, ['restore', snapOf(snaps[2]!)]));
    expect(await treeOf(`/${dataset}`)).toEqual(before);
    expect(await listSnapshots(dataset)).toEqual(snaps);
  });

  it(
    'a send that dies mid-stream leaves nothing that lists as a backup',
    { tags: ['faults'] },
    async () => {
      const dataset = `${POOL}/dies`;
      await vm().shOk(`zfs create ${dataset}`);
      const [snap] = await makeHistory(dataset, 1, 2048);
      const r = await z3(dataset, ['backup', '--full'], pathWith(faultDir('zfs', 300_000)));
      expect(r.code).toBe(4);
      expect(existsSync(join(backupDir, PREFIX, snap!))).toBe(false);
      expect(filesUnder(join(backupDir, PREFIX, POOL)).filter((f) => f.startsWith('dies'))).toEqual(
        [],
      );
      const status = await z3(dataset, ['status', '--json']);
      expectOk(status);
      // listed locally only: no stored object, so no type and no health
      const row = JSON.parse(status.stdout.trim()) as Record<string, unknown>;
      expect([row['name'], row['health']]).toEqual([`${SNAP_PREFIX}-1`, null]);
      expectOk(await z3(dataset, ['backup', '--full']));
      expect(existsSync(join(backupDir, PREFIX, snap!))).toBe(true);
      injected('kill -9'); // zfs send, SIGKILL after 300 kB
    },
  );
});
