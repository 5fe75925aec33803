// Compatibility with buckets written by Python z3: objects put with the raw S3 SDK exactly as
// the original's pput would (keys `<prefix>/<fs>@<snap>`, metadata isfull / legacy is_full,
// parent, compressor=pigz1, size; a gzip stream of a real `zfs send`) are listed as healthy by
// `z3 status` and restored by `z3 restore`.
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClient, testS3 } from '../s3-env.js';
import {
  createPool,
  destroyPool,
  listSnapshots,
  requireVm,
  vm,
  writeRandomFiles,
  zfs,
} from './harness.js';
import {
  destroyDataset,
  expectOk,
  makeHistory,
  SEGMENT_METADATA,
  treeOf,
  z3Run,
} from './z3-helpers.js';

const POOL = 'z3compat';

async function sendStream(args: string[]): Promise<Buffer> {
  const r = await zfs(['send', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdoutBytes;
}

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
});

describe.each([
  { label: 'isfull + pigz1', fullKey: 'isfull', compressor: 'pigz1' as const },
  { label: 'legacy is_full, uncompressed', fullKey: 'is_full', compressor: undefined },
])('a bucket written by Python z3 ($label)', ({ label, fullKey, compressor }) => {
  it('status shows the chain healthy and restore rebuilds the dataset', async () => {
    const dataset = `${POOL}/${fullKey}`;
    await vm().shOk(`zfs create ${dataset}`);
    const snaps = await makeHistory(dataset, 3, 128);
    const run = await z3Run(`compat-${fullKey}`, dataset);
    const s3 = testS3();
    const client = testClient(s3);
    for (const [i, snap] of snaps.entries()) {
      const raw = await sendStream(i === 0 ? [snap] : ['-i', snaps[i - 1]!, snap]);
      const metadata: Record<string, string> = { size: String(raw.length) };
      if (i === 0) metadata[fullKey] = 'true';
      else metadata['parent'] = snaps[i - 1]!;
      if (compressor !== undefined) metadata['compressor'] = compressor;
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: `${run.prefix}/${snap}`,
          Body: compressor === undefined ? raw : gzipSync(raw, { level: 1 }),
          Metadata: metadata,
        }),
      );
    }

    const rows = await run.status();
    expect(
      rows.map((r) => [r['snapshot'], r['type'], r['health']]),
      label,
    ).toEqual(snaps.map((s, i) => [s, i === 0 ? 'full' : 'incremental', 'ok']));

    const before = await treeOf(`/${dataset}`);
    await destroyDataset(dataset);
    expectOk(await run.z3(['restore', snaps[2]!.split('@')[1]!]));
    expect(await treeOf(`/${dataset}`)).toEqual(before);
    expect(await listSnapshots(dataset)).toEqual(snaps);

    // and our incremental on top of Python z3's chain is what Python z3 would read back
    await writeRandomFiles(dataset, 1, 32, { prefix: 'ours-' });
    await vm().shOk(`zfs snapshot ${dataset}@zfs-auto-snap:daily-4`);
    expectOk(await run.z3(['backup', '--compressor', 'pigz1']));
    const ours = await run.backend.stat(`${run.prefix}/${dataset}@zfs-auto-snap:daily-4`);
    expect(ours?.metadata).toEqual({
      size: expect.stringMatching(/^\d+$/) as unknown,
      parent: snaps[2],
      compressor: 'pigz1',
      creation: expect.stringMatching(/^\d+$/) as unknown,
      guid: expect.stringMatching(/^\d+$/) as unknown,
      ...SEGMENT_METADATA,
    });
  });
});
