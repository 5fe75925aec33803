/**
 * A bucket written by the Python z3 with an empty S3_PREFIX: its keys begin with `/`
 * (`/tank/fs@snap`, spec 4.2 and 13.8). `S3_PREFIX = /` reaches them: the built `z3` (a scripted
 * `zfs` first on PATH) lists them in `status`, continues their chain with `backup`, and restores
 * the whole chain, on the real S3 server. Needs `npm run build` and the test S3 server.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptedZfs, scriptedStream } from '../../src/commands/testing/scripted-zfs.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { ensureBucket, testClient, testS3 } from '../s3-env.js';
import { assertBuilt, PPUT } from './pput-helpers.js';

const Z3 = join(PPUT, '..', 'z3.js');
const SIZE = 3000;

describe('a Python z3 bucket with an empty S3_PREFIX (keys begin with /)', () => {
  const s3 = testS3();
  const client: S3Client = testClient(s3);
  const backend = createS3Backend(s3.connection, s3.bucket);
  const ds = `pyroot${randomBytes(4).toString('hex')}/data`;
  const snap = (n: number): string => `${ds}@daily-${n}`;
  const zfs = createScriptedZfs({ datasets: { [ds]: [snap(1), snap(2), snap(3)] } });

  /** The built z3 with `args`, the scripted zfs first on PATH, no compressor, no cache. */
  function z3(args: string[]) {
    assertBuilt();
    const env = {
      ...s3.cliEnv,
      PATH: `${dirname(zfs.program)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      COMPRESSOR: 'none',
      CACHE_DIR: 'off',
      LOCK_DIR: dirname(zfs.program),
    };
    const all = ['--dataset', ds, '--snapshot-prefix', 'daily-', ...args];
    const r = spawnSync(process.execPath, [Z3, ...all], { env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Upload `snapshot` as the original did: key `/<fs@snap>`, its metadata, no compressor. */
  async function putAsPython(n: number): Promise<void> {
    const metadata: Record<string, string> =
      n === 1
        ? { isfull: 'true', size: String(SIZE) }
        : { parent: snap(n - 1), size: String(SIZE) };
    const body = scriptedStream(snap(n), n === 1 ? '' : snap(n - 1), SIZE);
    await client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `/${snap(n)}`,
        Body: body,
        Metadata: metadata,
      }),
    );
  }

  const rows = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((r) => [r['name'], r['type'], r['health']]);

  beforeAll(async () => {
    await ensureBucket(client, s3.bucket);
    await putAsPython(1);
    await putAsPython(2);
  });

  afterAll(async () => {
    // Both layouts: a z3 that missed the `/` keys would have backed up at the bucket root.
    for (const prefix of [`/${ds}@`, `${ds}@`]) {
      for await (const o of backend.list(prefix)) await backend.remove(o.key);
    }
    await backend.remove(`/.z3/index/${ds}.json`); // the index the backup wrote
    client.destroy();
    zfs.cleanup();
  });

  it('status lists them with S3_PREFIX = / (and an empty prefix does not)', () => {
    const r = z3(['--s3-prefix', '/', 'status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(r.stdout)).toEqual([
      ['daily-1', 'full', 'ok'],
      ['daily-2', 'incremental', 'ok'],
      ['daily-3', 'missing', null],
    ]);
    const root = z3(['--s3-prefix', '', 'status', '--json']);
    expect(rows(root.stdout).map((row) => row[1])).toEqual(['missing', 'missing', 'missing']);
  });

  it('backup continues their chain at /<fs@snap>, and restore receives the whole chain', async () => {
    const backup = z3(['--s3-prefix', '/', 'backup', '--quiet']);
    expect(backup.code, backup.stderr).toBe(0);
    const head = await client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: `/${snap(3)}` }),
    );
    expect(head.Metadata).toMatchObject({ parent: snap(2) });

    const target = `${ds.split('/')[0]}/restored`;
    const restore = z3(['--s3-prefix', '/', 'restore', 'daily-3', '--target', target, '--quiet']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(zfs.state().received?.map((r) => [r.target, r.snapshot, r.from])).toEqual([
      [`${target}@daily-1`, snap(1), ''],
      [`${target}@daily-2`, snap(2), snap(1)],
      [`${target}@daily-3`, snap(3), snap(2)],
    ]);
  });
});
