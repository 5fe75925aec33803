// End to end on real OpenZFS (the test VM) and a real S3 server: a week of daily snapshots
// backed up one run a day with --max-chain 3 (fulls on days 1, 4 and 7), the snapshots' creation
// and guid recorded as zfs reports them, then `z3 prune --keep-daily 3`, and restores of the
// newest and the oldest kept snapshot (and one in the middle of a kept chain) byte-identical.
// Last, --full-if-older-than against the chain's full.
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  destroyPool,
  requireVm,
  shq,
  snapshot,
  vm,
  writeRandomFiles,
} from './harness.js';
import { expectOk, SNAP_PREFIX, treeOf, z3Run, type Z3Run } from './z3-helpers.js';
import { testClient, testS3 } from '../s3-env.js';

const POOL = 'zchains';
const DATASET = `${POOL}/week`;
const DAYS = [20, 21, 22, 23, 24, 25, 26];
/** zfs-auto-snapshot's name for a day of November 2026, so the name tells its day. */
const snapName = (day: number): string => `${SNAP_PREFIX}-2026-11-${day}-0000`;
const full = (day: number): string => `${DATASET}@${snapName(day)}`;

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
});

/** `zfs get -Hp -o value <property> <name>` in the guest. */
async function zfsGet(property: string, name: string): Promise<string> {
  return (await vm().shOk(`zfs get -Hp -o value ${property} ${shq(name)}`)).trim();
}

/**
 * Date each backup on its snapshot's day, as if the week had really passed: OpenZFS sets
 * `creation` from the clock, so the seven snapshots made in this test all carry today. The
 * object's `creation` metadata is replaced by the name's day (a server-side copy onto itself).
 */
async function backdate(
  run: Z3Run,
  day: number,
  creation = Date.UTC(2026, 10, day) / 1000,
): Promise<void> {
  const s3 = testS3();
  const key = `${run.prefix}/${full(day)}`;
  const info = await run.backend.stat(key);
  const metadata = { ...info?.metadata, creation: String(creation) };
  await testClient(s3).send(
    new CopyObjectCommand({
      Bucket: s3.bucket,
      Key: key,
      CopySource: `${s3.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
      MetadataDirective: 'REPLACE',
      Metadata: metadata,
    }),
  );
}

describe('a week with --max-chain 3, then prune --keep-daily 3', () => {
  it('fulls fall on days 1, 4 and 7; prune keeps whole chains; restores are byte-identical', async () => {
    await vm().shOk(`zfs create ${DATASET}`);
    const run = await z3Run('chains', DATASET);
    const trees = new Map<number, Map<string, string>>();
    for (const day of DAYS) {
      await writeRandomFiles(DATASET, 2, 64, { prefix: `day${day}-` });
      await snapshot(full(day));
      trees.set(day, await treeOf(`/${DATASET}`));
      const mode = day === DAYS[0] ? ['--full'] : [];
      const args = ['backup', ...mode, '--max-chain', '3', '--compressor', 'pigz1', '--quiet'];
      expectOk(await run.z3(args));
    }

    const rows = await run.status();
    expect(rows.map((r) => [r['name'], r['type'], r['health'], r['chainLength']])).toEqual(
      DAYS.map((day, i) => [
        snapName(day),
        i % 3 === 0 ? 'full' : 'incremental',
        'ok',
        (i % 3) + 1,
      ]),
    );
    // creation and guid as zfs itself reports them
    for (const day of DAYS) {
      const meta = (await run.backend.stat(`${run.prefix}/${full(day)}`))?.metadata;
      expect(meta?.['creation']).toBe(await zfsGet('creation', full(day)));
      expect(meta?.['guid']).toBe(await zfsGet('guid', full(day)));
    }

    for (const day of DAYS) await backdate(run, day);
    const prune = await run.z3(['prune', '--keep-daily', '3']);
    expectOk(prune);
    // days 24, 25, 26 by the policy; 23 as the full of 24 and 25's chain
    expect((await run.keys()).sort()).toEqual(
      [23, 24, 25, 26].map((day) => `${run.prefix}/${full(day)}`),
    );

    for (const [day, target] of [
      [26, `${POOL}/newest`],
      [23, `${POOL}/oldest`],
      [25, `${POOL}/middle`],
    ] as const) {
      expectOk(await run.z3(['restore', snapName(day), '--target', target]));
      expect(await treeOf(`/${target}`), `day ${day}`).toEqual(trees.get(day));
    }
    expect(await run.pending()).toEqual([]);
  });

  it("--full-if-older-than: a full when the chain's full is older than that before the snapshot", async () => {
    const run = await z3Run('chains-age', DATASET);
    expectOk(await run.z3(['backup', '--full', '--snapshot', snapName(26), '--quiet']));
    // the full 10 days older than the snapshot, whatever today is
    await backdate(run, 26, Number(await zfsGet('creation', full(26))) - 10 * 86_400);
    for (const day of [27, 28]) {
      await writeRandomFiles(DATASET, 1, 32, { prefix: `day${day}-` });
      await snapshot(full(day));
    }
    const lenient = ['--full-if-older-than', '1y', '--snapshot', snapName(27), '--quiet'];
    expectOk(await run.z3(['backup', ...lenient]));
    expectOk(await run.z3(['backup', '--full-if-older-than', '3d', '--quiet']));
    const meta = async (day: number): Promise<Record<string, string> | undefined> =>
      (await run.backend.stat(`${run.prefix}/${full(day)}`))?.metadata;
    expect((await meta(27))?.['parent']).toBe(full(26));
    expect(await meta(28)).toMatchObject({ isfull: 'true' });

    const bad = await run.z3(['backup', '--full-if-older-than', '2w']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--full-if-older-than FULL_EVERY: expected a duration like 30d/);
  });
});
