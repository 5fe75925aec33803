// End to end on real OpenZFS (the test VM) and a real S3 server: after two backups exactly one
// snapshot carries z3's hold (tag z3:<target id>) and `zfs destroy` of it fails; once the older
// snapshots are destroyed and the held one released and destroyed too, the next incremental is
// sent from the bookmark z3 made (<dataset>#z3_<snapshot>) and the chain restores
// byte-identical. Two targets keep their own holds; `z3 holds --release-stale` releases a leaked
// hold; a zfs that refuses the hold leaves the backup done (exit 0) with a warning.
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdTag } from '../../src/plan/holds.js';
import { normalizePrefix } from '../../src/plan/remote.js';
import { injected } from '../../src/testing/faults.js';
import { testS3 } from '../s3-env.js';
import {
  createPool,
  destroyPool,
  requireVm,
  shq,
  snapshot,
  vm,
  writeRandomFiles,
  ZFS_SHIM_DIR,
} from './harness.js';
import {
  destroyDataset,
  holdsOn,
  expectOk,
  pathWith,
  SNAP_PREFIX,
  treeOf,
  z3Run,
  type Z3Run,
} from './z3-helpers.js';

const POOL = 'z3holds';
const snap = (dataset: string, n: number): string => `${dataset}@${SNAP_PREFIX}-${n}`;

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
});

/** The tag z3 holds with for `run`'s target (bucket and prefix). */
function tagOf(run: Z3Run): string {
  return holdTag({
    bucket: testS3().bucket,
    backupDir: undefined,
    s3Prefix: normalizePrefix(run.prefix),
  });
}

/** Every hold on the snapshots of `dataset`, as `<snapshot> <tag>`. */
async function holdsOf(dataset: string): Promise<string[]> {
  return (await holdsOn(dataset)).map((h) => `${h.snapshot} ${h.tag}`);
}

/** New data in `dataset`, then snapshot `n`. */
async function takeSnapshot(dataset: string, n: number): Promise<void> {
  await writeRandomFiles(dataset, 2, 128, { prefix: `gen${n}-` });
  await snapshot(snap(dataset, n));
}

async function backUp(run: Z3Run, args: string[] = [], env: Record<string, string> = {}) {
  const r = await run.z3(['backup', '--compressor', 'none', '--quiet', ...args], { env });
  expectOk(r);
  return r;
}

describe('holds and bookmarks', () => {
  it('one hold after two backups; destroyed base: the next incremental comes from the bookmark and restores', async () => {
    const dataset = `${POOL}/fs`;
    await vm().shOk(`zfs create ${dataset}`);
    const run = await z3Run('holds', dataset);
    const tag = tagOf(run);
    expect(tag).toMatch(/^z3:[0-9a-f]{12}$/);
    await takeSnapshot(dataset, 1);
    await backUp(run, ['--full']);
    await takeSnapshot(dataset, 2);
    await backUp(run);

    expect(await holdsOf(dataset)).toEqual([`${snap(dataset, 2)} ${tag}`]);
    const destroy = await vm().sh(`zfs destroy ${shq(snap(dataset, 2))}`);
    expect(destroy.code).not.toBe(0);
    expect(destroy.stderr).toContain('dataset is busy');
    const bookmarks = await vm().shOk(`zfs list -H -t bookmark -o name -d 1 ${dataset}`);
    expect(bookmarks).toContain(`${dataset}#z3_${SNAP_PREFIX}-2\n`);

    // a snapshot tool destroys everything backed up, the held one after its hold is released
    await vm().shOk(
      `zfs destroy ${shq(snap(dataset, 1))} && zfs release ${tag} ${shq(snap(dataset, 2))} && zfs destroy ${shq(snap(dataset, 2))}`,
    );
    await takeSnapshot(dataset, 3);
    const dry = await run.z3(['backup', '--compressor', 'none', '--dry-run']);
    expectOk(dry);
    // `#` needs quoting in a shell, `@` does not
    expect(dry.stdout).toContain(
      `zfs send -i '${dataset}#z3_${SNAP_PREFIX}-2' ${snap(dataset, 3)} | pput`,
    );
    await backUp(run);
    const meta = (await run.backend.stat(`${run.prefix}/${snap(dataset, 3)}`))?.metadata;
    expect(meta?.['parent']).toBe(snap(dataset, 2));
    expect(await holdsOf(dataset)).toEqual([`${snap(dataset, 3)} ${tag}`]);

    const tree = await treeOf(`/${dataset}`);
    const target = `${POOL}/restored`;
    expectOk(await run.z3(['restore', `${SNAP_PREFIX}-3`, '--target', target, '--quiet']));
    expect(await treeOf(`/${target}`)).toEqual(tree);
    // what the other e2e files do before a restore: release z3's holds, destroy the dataset
    await destroyDataset(dataset);
    expect((await vm().sh(`zfs list ${dataset}`)).code).not.toBe(0);
  });

  it('two targets keep their own holds; --release-stale releases a leaked one only', async () => {
    const dataset = `${POOL}/two`;
    await vm().shOk(`zfs create ${dataset}`);
    const a = await z3Run('holds-a', dataset);
    const b = await z3Run('holds-b', dataset);
    await takeSnapshot(dataset, 1);
    await backUp(a, ['--full']);
    await backUp(b, ['--full']);
    await takeSnapshot(dataset, 2);
    await backUp(a);
    // b's hold stays on snapshot 1, its newest backup
    expect((await holdsOf(dataset)).sort()).toEqual(
      [`${snap(dataset, 1)} ${tagOf(b)}`, `${snap(dataset, 2)} ${tagOf(a)}`].sort(),
    );
    // a hold a failed run left behind
    await vm().shOk(`zfs hold ${tagOf(a)} ${shq(snap(dataset, 1))}`);
    const listed = await a.z3(['holds']);
    expectOk(listed);
    expect(listed.stdout).toBe(
      `${tagOf(a)}  stale          ${snap(dataset, 1)}\n${tagOf(a)}  newest backup  ${snap(dataset, 2)}\n`,
    );
    expectOk(await a.z3(['holds', '--release-stale']));
    expect((await holdsOf(dataset)).sort()).toEqual(
      [`${snap(dataset, 1)} ${tagOf(b)}`, `${snap(dataset, 2)} ${tagOf(a)}`].sort(),
    );
  });

  it(
    'a zfs that refuses the hold: backup done, exit 0, a warning, the old hold kept',
    { tags: ['faults'] },
    async () => {
      const dataset = `${POOL}/refuse`;
      await vm().shOk(`zfs create ${dataset}`);
      const run = await z3Run('holds-refused', dataset);
      await takeSnapshot(dataset, 1);
      await backUp(run, ['--full']);
      await takeSnapshot(dataset, 2);
      const r = await backUp(run, [], pathWith(refusingHoldDir()));
      injected('stage death');
      expect(r.stderr).toMatch(
        new RegExp(
          `z3: warning: could not hold ${snap(dataset, 2)} \\(z3:[0-9a-f]{12}\\); the backup is complete`,
        ),
      );
      expect(await run.backend.stat(`${run.prefix}/${snap(dataset, 2)}`)).toBeDefined();
      expect(await holdsOf(dataset)).toEqual([`${snap(dataset, 1)} ${tagOf(run)}`]);
      // --no-hold: nothing changes
      await takeSnapshot(dataset, 3);
      await backUp(run, ['--no-hold']);
      expect(await holdsOf(dataset)).toEqual([`${snap(dataset, 1)} ${tagOf(run)}`]);
    },
  );
});

/** A `zfs` first on PATH that refuses `zfs hold` as a user without the permission would see. */
function refusingHoldDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'z3-refuse-hold-'));
  const realZfs = JSON.stringify(join(ZFS_SHIM_DIR, 'zfs'));
  writeFileSync(
    join(dir, 'zfs'),
    `#!/bin/bash
if [ "$1" = hold ]; then echo "cannot hold snapshot '$3': permission denied" >&2; exit 1; fi
exec ${realZfs} "$@"
`,
  );
  chmodSync(join(dir, 'zfs'), 0o755);
  return dir;
}
