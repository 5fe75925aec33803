// End to end on real OpenZFS (the test VM) and a real S3 server: z3 backup → status → destroy →
// restore, for every compressor, with hostile names, --force, --target, a broken chain, and
// dying pipeline stages. Each scenario asserts what must hold, not what happened to print.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  destroyPool,
  listSnapshots,
  requireVm,
  shq,
  vm,
  writeRandomFiles,
} from './harness.js';
import {
  destroyDataset,
  releaseZ3Holds,
  expectOk,
  faultDir,
  makeHistory,
  pathWith,
  SNAP_PREFIX,
  treeOf,
  z3Run,
  SEGMENT_METADATA,
} from './z3-helpers.js';
import { injected } from '../../src/testing/faults.js';

const POOL = 'z3e2e';
const OTHER_POOL = 'z3e2eb';
const snapOf = (full: string): string => full.slice(full.indexOf('@') + 1);
const A_SIZE: unknown = expect.stringMatching(/^\d+$/);

/** A gpg home with one encryption key and no passphrase, made for this run only. */
function makeGpgHome(): { env: Record<string, string>; recipient: string } {
  const home = mkdtempSync(join(tmpdir(), 'z3-gpg-'));
  const recipient = 'z3-e2e@example.invalid';
  execFileSync(
    'gpg',
    [
      '--batch',
      '--homedir',
      home,
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-gen-key',
      `z3 e2e <${recipient}>`,
      'default',
      'default',
      'never',
    ],
    { stdio: 'ignore' },
  );
  return { env: { GNUPGHOME: home }, recipient };
}

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 512);
  await createPool(OTHER_POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
  await destroyPool(OTHER_POOL);
});

describe.each(['pigz1', 'zstd', 'none', 'gpg'])('round trip with compressor %s', (compressor) => {
  it('full + 3 incrementals, status ok, destroy, restore: same files, same snapshots', async () => {
    const dataset = `${POOL}/rt-${compressor}`;
    await vm().shOk(`zfs create ${dataset}`);
    const snaps = await makeHistory(dataset, 4);
    const gpg = compressor === 'gpg' ? makeGpgHome() : undefined;
    const env = gpg?.env ?? {};
    const extra = gpg === undefined ? [] : ['--gpg-recipient', gpg.recipient];
    const run = await z3Run(`rt-${compressor}`, dataset);

    const full = await run.z3(
      ['backup', '--full', '--snapshot', snapOf(snaps[0]!), '--compressor', compressor, ...extra],
      { env },
    );
    expectOk(full);
    expect(full.stdout).toMatch(new RegExp(`^Successfuly backed up ${snaps[0]!}: `));
    const incr = await run.z3(['backup', '--compressor', compressor, ...extra], { env });
    expectOk(incr);
    expect(incr.stdout.trim().split('\n')).toHaveLength(3);

    const rows = await run.status();
    expect(rows.map((r) => [r['name'], r['type'], r['health'], r['localState']])).toEqual(
      snaps.map((s, i) => [snapOf(s), i === 0 ? 'full' : 'incremental', 'ok', 'ok']),
    );
    // what Python z3 reads: isfull / parent / compressor (omitted for none) / size; and ours,
    // which it ignores: the snapshot's creation and guid
    const first = await run.backend.stat(`${run.prefix}/${snaps[0]!}`);
    const second = await run.backend.stat(`${run.prefix}/${snaps[1]!}`);
    const withCompressor = compressor === 'none' ? {} : { compressor };
    expect(first?.metadata).toEqual({
      size: A_SIZE,
      isfull: 'true',
      creation: A_SIZE,
      guid: A_SIZE,
      ...withCompressor,
      ...SEGMENT_METADATA,
    });
    expect(second?.metadata).toEqual({
      size: A_SIZE,
      parent: snaps[0],
      creation: A_SIZE,
      guid: A_SIZE,
      ...withCompressor,
      ...SEGMENT_METADATA,
    });

    const before = await treeOf(`/${dataset}`);
    await destroyDataset(dataset);
    expectOk(await run.z3(['restore', snapOf(snaps[3]!)], { env }));
    expect(await treeOf(`/${dataset}`)).toEqual(before);
    expect(await listSnapshots(dataset)).toEqual(snaps);
    expect(await run.pending()).toEqual([]);
  });
});

describe('names with spaces and colons', () => {
  it('backs up and restores, and dry-run lines are shell-quoted', async () => {
    const dataset = `${POOL}/my data:set`;
    await vm().shOk(`zfs create '${dataset}'`);
    await writeRandomFiles(dataset, 2, 128, { prefix: 'a file ' });
    await vm().shOk(`zfs snapshot '${dataset}@${SNAP_PREFIX} one'`);
    await writeRandomFiles(dataset, 1, 64, { prefix: 'b file ' });
    await vm().shOk(`zfs snapshot '${dataset}@${SNAP_PREFIX} two'`);
    const run = await z3Run('names', dataset);

    const dry = await run.z3(['backup', '--full', '--snapshot', `${SNAP_PREFIX} one`, '--dry-run']);
    expectOk(dry);
    expect(dry.stdout).toContain(
      `zfs send '${dataset}@${SNAP_PREFIX} one' | pigz -1 --blocksize 4096 | pput`,
    );
    expect(dry.stdout).not.toMatch(/backed up/);
    expect(await run.keys()).toEqual([]);

    expectOk(await run.z3(['backup', '--full', '--snapshot', `${SNAP_PREFIX} one`]));
    expectOk(await run.z3(['backup']));
    const before = await treeOf(`/${dataset}`);
    const target = `${OTHER_POOL}/restored copy`;
    expectOk(await run.z3(['restore', `${SNAP_PREFIX} two`, '--target', target]));
    expect(await treeOf(`/${target}`)).toEqual(before);
    expect(await listSnapshots(target)).toEqual([
      `${target}@${SNAP_PREFIX} one`,
      `${target}@${SNAP_PREFIX} two`,
    ]);
  });

  it('zfs itself refuses quotes, $ and ; in names (so they never reach z3 as data)', async () => {
    for (const bad of [`${POOL}/it's`, `${POOL}/a$b`, `${POOL}/a;b`]) {
      const r = await vm().sh(`zfs create ${shq(bad)}`);
      expect(r.code, bad).not.toBe(0);
      expect(r.stderr).toMatch(/invalid character/);
    }
  });
});

describe('restore --force and --target', () => {
  it(
    'refuses a diverged dataset without --force, then rolls it back with --force',
    { tags: ['faults'] },
    async () => {
      const dataset = `${POOL}/diverge`;
      await vm().shOk(`zfs create ${dataset}`);
      const snaps = await makeHistory(dataset, 3);
      const run = await z3Run('force', dataset);
      expectOk(await run.z3(['backup', '--full', '--snapshot', snapOf(snaps[0]!)]));
      expectOk(await run.z3(['backup']));
      const wanted = await treeOf(`/${dataset}`);

      // diverge: go back to the first snapshot, write other data, take an unrelated snapshot
      // (z3 holds the newest backed-up snapshot: rollback -r cannot destroy it while held)
      await releaseZ3Holds(dataset);
      await vm().shOk(`zfs rollback -r '${snaps[0]!}'`);
      await writeRandomFiles(dataset, 2, 64, { prefix: 'diverged-' });
      await vm().shOk(`zfs snapshot ${dataset}@local-only`);

      const refused = await run.z3(['restore', snapOf(snaps[2]!)]);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/zfs receive/);
      const forced = await run.z3(['restore', snapOf(snaps[2]!), '--force']);
      expectOk(forced);
      expect(await treeOf(`/${dataset}`)).toEqual(wanted);
      injected('corrupt data'); // the target diverged from the backed-up chain
    },
  );

  it(
    'refuses a full stream into an existing dataset without --force',
    { tags: ['faults'] },
    async () => {
      const dataset = `${POOL}/fullexists`;
      await vm().shOk(`zfs create ${dataset}`);
      const snaps = await makeHistory(dataset, 1);
      const run = await z3Run('fullexists', dataset);
      expectOk(await run.z3(['backup', '--full']));
      const target = `${OTHER_POOL}/exists`;
      await vm().shOk(`zfs create ${target}`);
      const r = await run.z3(['restore', snapOf(snaps[0]!), '--target', target]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--force/);
      expect(await listSnapshots(target)).toEqual([]);
      injected('bad input');
    },
  );
});

describe('a broken chain', () => {
  it(
    'shows missing parent / parent broken; backup and restore refuse with exit 3',
    { tags: ['faults'] },
    async () => {
      const dataset = `${POOL}/broken`;
      await vm().shOk(`zfs create ${dataset}`);
      const snaps = await makeHistory(dataset, 4, 64);
      const run = await z3Run('broken', dataset);
      expectOk(await run.z3(['backup', '--full', '--snapshot', snapOf(snaps[0]!)]));
      expectOk(await run.z3(['backup']));
      await run.backend.remove(`${run.prefix}/${snaps[1]!}`);

      // exit 3: a broken chain is what monitoring alerts on
      const rows = await run.status(3);
      expect(rows.map((r) => [r['name'], r['health']])).toEqual([
        [snapOf(snaps[0]!), 'ok'],
        [snapOf(snaps[1]!), null],
        [snapOf(snaps[2]!), 'missing parent'],
        [snapOf(snaps[3]!), 'parent broken'],
      ]);
      const table = await run.z3(['status']);
      expect(table.stdout).toMatch(/missing parent/);
      expect(table.code).toBe(3);

      await writeRandomFiles(dataset, 1, 16, { prefix: 'late-' });
      await vm().shOk(`zfs snapshot ${dataset}@${SNAP_PREFIX}-5`);
      const backup = await run.z3(['backup']);
      expect(backup.code).toBe(3);
      expect(backup.stderr).toContain(
        `Broken snapshot detected ${snaps[3]!}, reason: 'parent broken'`,
      );
      const restore = await run.z3([
        'restore',
        snapOf(snaps[3]!),
        '--target',
        `${OTHER_POOL}/nochain`,
      ]);
      expect(restore.code).toBe(3);
      expect(restore.stderr).toMatch(/Broken snapshot detected/);
      injected('corrupt data'); // an object of the chain removed
    },
  );
});

describe('a pipeline stage that dies', () => {
  it.each([
    ['zfs send killed mid-stream', 'zfs'],
    ['a compressor exiting 1', 'pigz'],
  ])(
    '%s: exit 4, no object, no pending upload, status unchanged, next backup works',
    { tags: ['faults'] },
    async (_what, culprit) => {
      const dataset = `${POOL}/dies-${culprit}`;
      await vm().shOk(`zfs create ${dataset}`);
      const snaps = await makeHistory(dataset, 2, 2048);
      const run = await z3Run(`dies-${culprit}`, dataset);
      expectOk(await run.z3(['backup', '--full', '--snapshot', snapOf(snaps[0]!)]));
      const statusBefore = await run.status();
      const keysBefore = await run.keys();

      const faults = faultDir(culprit === 'zfs' ? 'zfs' : 'pigz', 1 << 20);
      const failed = await run.z3(['backup'], { env: pathWith(faults) });
      expect(failed.code, failed.stderr).toBe(4);
      expect(failed.stderr).toMatch(
        culprit === 'zfs' ? /zfs send .*SIGKILL/ : /pigz.*exited with code 1/,
      );
      expect(failed.stdout).not.toMatch(/backed up/);
      expect(await run.keys()).toEqual(keysBefore);
      expect(await run.pending()).toEqual([]);
      expect(await run.status()).toEqual(statusBefore);

      const retry = await run.z3(['backup']);
      expectOk(retry);
      expect((await run.status()).map((r) => r['health'])).toEqual(['ok', 'ok']);
      injected(culprit === 'zfs' ? 'kill -9' : 'stage death');
    },
  );
});
