/**
 * The dataset index (src/commands/dataset-index.ts) with the built CLI (a scripted `zfs` first
 * on PATH) on the real S3 server: `backup` writes it beside the backups, and `status` on a
 * machine with an empty CACHE_DIR prints exactly what it prints without the index; an index
 * spoiled on the server costs one warning, never a different answer. Also with S3_PREFIX `/`.
 * Needs `npm run build` and the test S3 server.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptedZfs } from '../../src/commands/testing/scripted-zfs.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { injected } from '../../src/testing/faults.js';
import { ensureBucket, testClient, testS3 } from '../s3-env.js';
import { assertBuilt, PPUT } from './pput-helpers.js';

const Z3 = join(PPUT, '..', 'z3.js');

describe.each(['z3-backup', '/'])('the dataset index with S3_PREFIX %j', (prefix) => {
  const s3 = testS3();
  const client = testClient(s3);
  const backend = createS3Backend(s3.connection, s3.bucket);
  const ds = `index${randomBytes(4).toString('hex')}/data`;
  const snaps = [1, 2, 3].map((n) => `${ds}@daily-${n}`);
  const base = prefix === '/' ? '/' : `${prefix}/`;
  const indexKey = `${base}.z3/index/${ds}.json`;
  const zfs = createScriptedZfs({ datasets: { [ds]: snaps } });
  const caches = mkdtempSync(join(tmpdir(), 'z3-index-cache-'));
  let fresh = 0;

  /** The built z3 with `args` and a new, empty CACHE_DIR (a machine that never ran z3). */
  function z3(args: string[]) {
    assertBuilt();
    fresh += 1;
    const env = {
      ...s3.cliEnv,
      PATH: `${dirname(zfs.program)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      COMPRESSOR: 'none',
      CACHE_DIR: join(caches, String(fresh)),
      LOCK_DIR: dirname(zfs.program),
    };
    const all = ['--dataset', ds, '--snapshot-prefix', 'daily-', '--s3-prefix', prefix, ...args];
    return spawnSync(process.execPath, [Z3, ...all], { env, encoding: 'utf8' });
  }

  async function listed(): Promise<Map<string, string>> {
    const etags = new Map<string, string>();
    for await (const o of backend.list(`${base}${ds}@`)) etags.set(o.key, o.etag);
    return etags;
  }

  beforeAll(async () => {
    await ensureBucket(client, s3.bucket);
  });

  afterAll(async () => {
    for await (const o of backend.list(`${base}${ds}@`)) await backend.remove(o.key);
    await backend.remove(indexKey);
    client.destroy();
    zfs.cleanup();
    rmSync(caches, { recursive: true, force: true });
  });

  it('backup writes it: every backup with the ETag and size the server lists', async () => {
    const full = z3(['backup', '--full', '--snapshot', 'daily-1', '--quiet']);
    expect(full.status, full.stderr).toBe(0);
    const rest = z3(['backup', '--quiet']);
    expect(rest.status, rest.stderr).toBe(0);
    expect(rest.stderr).toBe('');
    const info = await backend.stat(indexKey);
    expect(info, `${indexKey} on the server`).toBeDefined();
    const body = await backend.readRange({ key: indexKey, start: 0, end: info!.size - 1 });
    const index = JSON.parse(Buffer.from(body).toString('utf8')) as {
      format: string;
      version: number;
      dataset: string;
      backups: Record<string, { etag: string; size: number; metadata: Record<string, string> }>;
    };
    expect(index).toMatchObject({ format: 'z3-index', version: 1, dataset: ds });
    const etags = await listed();
    expect(Object.keys(index.backups)).toEqual(snaps);
    for (const name of snaps) {
      expect(index.backups[name]?.etag).toBe(etags.get(`${base}${name}`));
      expect(index.backups[name]?.size).toBe(3000);
    }
    expect(index.backups[snaps[2]!]?.metadata).toMatchObject({ parent: snaps[1] });
  });

  it(
    'status from an empty cache prints the same with the index, without it, and with it spoiled',
    {
      tags: ['faults'],
    },
    async () => {
      const withIndex = z3(['status', '--chain-length']);
      expect(withIndex.status, withIndex.stderr).toBe(0);
      expect(withIndex.stderr).toBe('');
      expect(withIndex.stdout.split('\n').filter((l) => l.includes('| ok'))).toHaveLength(3);

      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: indexKey, Body: '{"format":"z3-index",' }),
      );
      injected('corrupt data', 1);
      const spoiled = z3(['status', '--chain-length']);
      expect(spoiled.status, spoiled.stderr).toBe(0);
      expect(spoiled.stdout).toBe(withIndex.stdout);
      expect(spoiled.stderr).toBe(
        `z3: warning: index ${indexKey} unusable (not JSON); HEADing each backup instead; the next backup rewrites it\n`,
      );

      await backend.remove(indexKey);
      const without = z3(['status', '--chain-length']);
      expect(without.status, without.stderr).toBe(0);
      expect(without.stdout).toBe(withIndex.stdout);
      expect(without.stderr).toBe('');

      // nothing new to back up: the backup writes the missing index again
      const backup = z3(['backup', '--quiet']);
      expect(backup.status, backup.stderr).toBe(0);
      expect(await backend.stat(indexKey)).toBeDefined();
    },
  );

  it('an entry whose object had its metadata replaced in place (same ETag and size) is not believed', async () => {
    // Into the next second, so that LastModified differs on servers with 1 s resolution.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const key = `${base}${snaps[1]}`;
    await client.send(
      new CopyObjectCommand({
        Bucket: s3.bucket,
        Key: key,
        CopySource: `${s3.bucket}/${encodeURIComponent(key)}`,
        MetadataDirective: 'REPLACE',
        Metadata: { parent: `${ds}@gone`, size: '3000' },
      }),
    );
    const status = z3(['status']);
    expect(status.status, status.stderr).toBe(3);
    expect(status.stdout).toMatch(/^daily-2 +\| gone +\| incremental \| missing parent/m);
    expect(status.stdout).toMatch(/^daily-3 +\| daily-2 +\| incremental \| parent broken/m);
  });
});
