// End to end on real OpenZFS (the test VM) and a real S3 server: raw sends of an encrypted
// dataset (the plain text never reaches S3; restored, the key loaded, byte-identical), a chain
// that refuses to mix raw and plain, compressed sends of an lz4 dataset (fewer bytes stored than
// a plain send, restored byte-identical), and a snapshot destroyed and re-created under the same
// name (another guid): status shows `differs`, backup refuses the incremental.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, destroyPool, requireVm, runCli, shq, snapshot, vm } from './harness.js';
import { gunzipSync } from 'node:zlib';
import {
  releaseZ3Holds,
  expectOk,
  noZfsPath,
  SNAP_PREFIX,
  treeOf,
  verifyReadData,
  z3Run,
  type Z3Run,
} from './z3-helpers.js';
import { injected } from '../../src/testing/faults.js';

const POOL = 'z3flags';
const KEY_FILE = '/tmp/z3flags.key';
/** A string that only the plain text of the encrypted dataset contains. */
const MARKER = 'Z3FLAGS-PLAINTEXT-MARKER-7f3a9c';
const snap = (dataset: string, n: number): string => `${dataset}@${SNAP_PREFIX}-${n}`;

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
  await vm().shOk(`printf %s 'correct horse battery staple' > ${KEY_FILE}`);
});

afterAll(async () => {
  await destroyPool(POOL);
  await vm().shOk(`rm -f ${KEY_FILE}`);
});

/** Append `count` lines holding `text` (compressible) to `file` in the mounted dataset. */
async function writeText(
  dataset: string,
  file: string,
  text: string,
  count: number,
): Promise<void> {
  await vm().shOk(
    `i=0; while [ $i -lt ${count} ]; do echo ${shq(`${text} line`)} $i; i=$((i + 1)); done >> /${dataset}/${file}`,
  );
}

/** The stored bytes of `key`, as z3_get downloads them. */
/** `z3 verify --read-data` of `run` with no zfs on PATH: `count` objects, each parsed ok. */
async function expectVerifiedWithoutZfs(run: Z3Run, count: number): Promise<void> {
  const noZfs = noZfsPath();
  const { r, rows } = await verifyReadData(run, noZfs.env);
  expect(r.code, r.stderr).toBe(0);
  expect(rows.map((row) => [row.checked, row.reason])).toEqual(
    Array.from({ length: count }, () => ['data', null]),
  );
  expect(noZfs.ran()).toBe(false);
}

async function download(key: string): Promise<Buffer> {
  const r = await runCli('z3_get', [key]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdoutBytes;
}

async function objectSize(run: Z3Run, name: string): Promise<number> {
  return (await run.backend.stat(`${run.prefix}/${name}`))?.size ?? -1;
}

describe('raw sends of an encrypted dataset', () => {
  const dataset = `${POOL}/secret`;

  it('never store the plain text; restored, key loaded, byte-identical', async () => {
    await vm().shOk(
      `zfs create -o encryption=aes-256-gcm -o keyformat=passphrase -o keylocation=file://${KEY_FILE} -o compression=off ${dataset}`,
    );
    const run = await z3Run('flags-raw', dataset);
    for (const n of [1, 2, 3]) {
      await writeText(dataset, `notes${n}.txt`, MARKER, 2000);
      await snapshot(snap(dataset, n));
      const mode = n === 1 ? ['--full'] : [];
      // the last incremental through pigz1: z3 verify reads both compressors below
      const compressor = n === 3 ? 'pigz1' : 'none';
      const args = ['backup', ...mode, '--raw', '--compressor', compressor, '--quiet'];
      expectOk(await run.z3(args));
    }
    const tree = await treeOf(`/${dataset}`);
    const metas = await Promise.all(
      [1, 2, 3].map(
        async (n) => (await run.backend.stat(`${run.prefix}/${snap(dataset, n)}`))?.metadata,
      ),
    );
    expect(metas.map((m) => m?.['sendflags'])).toEqual(['w', 'w', 'w']);
    for (const n of [1, 2]) {
      const stored = await download(`${run.prefix}/${snap(dataset, n)}`);
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.includes(Buffer.from(MARKER)), `object ${n}`).toBe(false);
    }
    const third = gunzipSync(await download(`${run.prefix}/${snap(dataset, 3)}`));
    expect(third.includes(Buffer.from(MARKER)), 'object 3, decompressed').toBe(false);
    await expectVerifiedWithoutZfs(run, 3);
    // the control: a plain send of the same snapshot does carry the marker
    const plain = await z3Run('flags-raw-control', dataset);
    expectOk(
      await plain.z3([
        'backup',
        '--full',
        '--snapshot',
        `${SNAP_PREFIX}-1`,
        '--compressor',
        'none',
        '--quiet',
      ]),
    );
    const plainBytes = await download(`${plain.prefix}/${snap(dataset, 1)}`);
    expect(plainBytes.includes(Buffer.from(MARKER))).toBe(true);

    const target = `${POOL}/restored`;
    const restore = await run.z3(['restore', `${SNAP_PREFIX}-3`, '--target', target, '--quiet']);
    expectOk(restore);
    expect(restore.stderr).toContain(`load its key with 'zfs load-key ${target}'`);
    expect((await vm().shOk(`zfs get -H -o value keystatus ${target}`)).trim()).toBe('unavailable');
    await vm().shOk(`zfs load-key -L file://${KEY_FILE} ${target} && zfs mount ${target}`);
    expect(await treeOf(`/${target}`)).toEqual(tree);
    const statusRows = await run.status();
    expect(statusRows.map((r) => r['mode'])).toEqual(['raw', 'raw', 'raw']);
  });

  it('a plain incremental on the raw chain is refused (exit 2)', { tags: ['faults'] }, async () => {
    const run = await z3Run('flags-mix', dataset);
    expectOk(
      await run.z3([
        'backup',
        '--full',
        '--snapshot',
        `${SNAP_PREFIX}-2`,
        '--raw',
        '--compressor',
        'none',
        '--quiet',
      ]),
    );
    const before = await run.keys();
    const r = await run.z3(['backup', '--compressor', 'none', '--quiet']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `cannot append a plain incremental to ${snap(dataset, 2)}, a raw send`,
    );
    expect(r.stderr).toContain("run 'z3 backup --full' to start a new chain");
    expect(await run.keys()).toEqual(before);
    expect(await run.pending()).toEqual([]);
    injected('bad input');
  });
});

describe('compressed sends of an lz4 dataset', () => {
  const dataset = `${POOL}/lz4`;

  it('store fewer bytes than a plain send of the same snapshot; restore byte-identical', async () => {
    await vm().shOk(`zfs create -o compression=lz4 ${dataset}`);
    await writeText(dataset, 'log.txt', 'a very compressible log line, again and again', 40_000);
    await snapshot(snap(dataset, 1));
    const tree = await treeOf(`/${dataset}`);
    const compressed = await z3Run('flags-c', dataset);
    const plain = await z3Run('flags-plain', dataset);
    expectOk(
      await compressed.z3(['backup', '--full', '--compressed', '--compressor', 'none', '--quiet']),
    );
    expectOk(await plain.z3(['backup', '--full', '--compressor', 'none', '--quiet']));
    const sizes = [
      await objectSize(compressed, snap(dataset, 1)),
      await objectSize(plain, snap(dataset, 1)),
    ];
    expect(sizes[0], `compressed ${sizes[0]}, plain ${sizes[1]}`).toBeLessThan((sizes[1] ?? 0) / 2);
    await writeText(dataset, 'log2.txt', 'another compressible line', 20_000);
    await snapshot(snap(dataset, 2));
    expectOk(await compressed.z3(['backup', '--compressed', '--compressor', 'pigz1', '--quiet']));
    await expectVerifiedWithoutZfs(compressed, 2);
    const target = `${POOL}/lz4-restored`;
    expectOk(await compressed.z3(['restore', `${SNAP_PREFIX}-1`, '--target', target, '--quiet']));
    expect(await treeOf(`/${target}`)).toEqual(tree);
  });
});

describe('a snapshot re-created under the same name', () => {
  const dataset = `${POOL}/guid`;

  it(
    'status shows differs; backup refuses the incremental (exit 3)',
    { tags: ['faults'] },
    async () => {
      await vm().shOk(`zfs create ${dataset}`);
      const run = await z3Run('flags-guid', dataset);
      await writeText(dataset, 'a.txt', 'first', 100);
      await snapshot(snap(dataset, 1));
      expectOk(await run.z3(['backup', '--full', '--compressor', 'none', '--quiet']));
      // z3 holds it: release the hold first, as its user would
      await releaseZ3Holds(snap(dataset, 1));
      await vm().shOk(`zfs destroy ${shq(snap(dataset, 1))}`);
      await writeText(dataset, 'a.txt', 'second', 100);
      await snapshot(snap(dataset, 1));
      await snapshot(snap(dataset, 2));

      const rows = await run.status();
      expect(rows.map((r) => [r['name'], r['localState']])).toEqual([
        [`${SNAP_PREFIX}-1`, 'differs'],
        [`${SNAP_PREFIX}-2`, 'ok'],
      ]);
      const table = await run.z3(['status']);
      expectOk(table);
      expect(table.stdout).toMatch(new RegExp(`${SNAP_PREFIX}-1 .*\\| differs +\\|`));

      const before = await run.keys();
      const r = await run.z3(['backup', '--compressor', 'none', '--quiet']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(
        `${snap(dataset, 1)} is not the snapshot backed up under that name`,
      );
      expect(r.stderr).toContain("run 'z3 backup --full' to start a new chain");
      expect(await run.keys()).toEqual(before);
      expect(await run.pending()).toEqual([]);
      injected('corrupt data');
    },
  );
});
