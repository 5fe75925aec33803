// End to end: `z3 backup` of real OpenZFS snapshots (the test VM) to a real S3 server, then
// `z3 verify --read-data` on a host where zfs is not on PATH (a tripwire `zfs` records any run):
// every backup ok; a byte flipped on the server and an object cut short are each reported with
// their reason and exit 3.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { testClient, testS3 } from '../s3-env.js';
import { createPool, destroyPool, requireVm, vm } from './harness.js';
import {
  expectOk,
  makeHistory,
  noZfsPath,
  verifyReadData as verify,
  z3Run,
  type Z3Run,
} from './z3-helpers.js';

const POOL = 'z3verify';
const DATASET = `${POOL}/data`;
const snapOf = (full: string): string => full.slice(full.indexOf('@') + 1);

/** Replace the object of `snapshot` on the server with `change(bytes)`, metadata kept. */
async function rewrite(run: Z3Run, snapshot: string, change: (b: Buffer) => Buffer) {
  const s3 = testS3();
  const client = testClient(s3);
  const Key = `${run.prefix}/${snapshot}`;
  const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key }));
  const body = Buffer.from(await got.Body!.transformToByteArray());
  await client.send(
    new PutObjectCommand({ Bucket: s3.bucket, Key, Body: change(body), Metadata: got.Metadata }),
  );
  client.destroy();
}

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
});

describe('z3 verify --read-data of real backups, without zfs', { tags: ['faults'] }, () => {
  it('all ok; a flipped byte and a cut object are reported, exit 3', async () => {
    await vm().shOk(`zfs create ${DATASET}`);
    const snaps = await makeHistory(DATASET, 3);
    const run = await z3Run('verify', DATASET);
    expectOk(
      await run.z3(['backup', '--full', '--snapshot', snapOf(snaps[0]!), '--compressor', 'none']),
    );
    expectOk(await run.z3(['backup', '--compressor', 'pigz1']));
    const noZfs = noZfsPath();

    const good = await verify(run, noZfs.env);
    expectOk(good.r);
    expect(good.rows.map((row) => [row.name, row.checked, row.reason])).toEqual(
      snaps.map((name) => [name, 'data', null]),
    );

    await rewrite(run, snaps[0]!, (b) => {
      b[b.length >> 1] = b[b.length >> 1]! ^ 0x01;
      return b;
    });
    await rewrite(run, snaps[2]!, (b) => b.subarray(0, b.length >> 1));
    injected('corrupt data', 2);
    const bad = await verify(run, noZfs.env);
    expect(bad.r.code).toBe(3);
    const reasons = new Map(bad.rows.map((row) => [row.name, row.reason]));
    expect(reasons.get(snaps[0]!)).toMatch(/^checksum mismatch in record \d+/);
    expect(reasons.get(snaps[1]!)).toBeNull();
    expect(reasons.get(snaps[2]!)).toMatch(/^(decompressor failed|truncated at byte)/);
    expect(noZfs.ran()).toBe(false);
  });
});
