// `z3 verify` as a user runs it: the built CLI against a real bucket (Ceph RGW), with no zfs on
// PATH that works (a tripwire records any run). Backups are real OpenZFS 2.1 streams
// (test/fixtures/zstream), uploaded by the built `pput` (multipart, as `z3 backup` writes them)
// with the metadata z3 writes, one of them through the real `pigz -1`.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  compressAs,
  fixtureStream,
  FIXTURE_GUIDS,
} from '../../src/commands/testing/verify-objects.js';
import { injected } from '../../src/testing/faults.js';
import { assertBuilt, PPUT } from './pput-helpers.js';
import { useTestBucket } from '../s3-env.js';

const Z3 = join(PPUT, '..', 'z3.js');
const DATASET = 'tank/verify';

function tripwireZfs(): { dir: string; ran: () => boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'z3-verify-zfs-'));
  const marker = join(dir, 'zfs-ran');
  writeFileSync(join(dir, 'zfs'), `#!/bin/sh\ntouch '${marker}'\nexit 99\n`);
  chmodSync(join(dir, 'zfs'), 0o755);
  return { dir, ran: () => existsSync(marker) };
}

/** A `verified` event of `z3 verify --json`. */
interface Row {
  event: string;
  snapshot: string;
  checked: string;
  ok: boolean;
  reason: string | null;
}

describe('z3 verify on a real bucket', { tags: ['faults'] }, () => {
  const bucket = useTestBucket('verify');
  const zfs = tripwireZfs();
  const env = (): Record<string, string> => ({
    ...bucket.s3.cliEnv,
    PATH: `${zfs.dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    S3_PREFIX: bucket.prefix,
    FILESYSTEM: DATASET,
    SNAPSHOT_PREFIX: 'snap',
    CACHE_DIR: 'off',
  });

  function run(program: string, args: string[], input?: Buffer) {
    assertBuilt();
    const r = spawnSync(process.execPath, [program, ...args], { env: env(), input });
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  /** Upload `data` as `z3 backup` would: multipart through pput, with z3's metadata. */
  function backup(snapshot: string, data: Buffer, metadata: Record<string, string>): void {
    const meta = Object.entries(metadata).flatMap(([k, v]) => ['--metadata', `${k}=${v}`]);
    const key = `${bucket.prefix}/${DATASET}@${snapshot}`;
    const r = run(PPUT, [...meta, '--quiet', key], data);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }

  /** `z3 verify --json`: its exit code, its `verified` events by snapshot, and its summary. */
  function verify(args: string[]) {
    const r = run(Z3, ['verify', '--json', ...args]);
    const events = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Row);
    const rows = events.filter((e) => e.event === 'verified');
    return {
      code: r.code,
      rows: new Map(rows.map((row) => [row.snapshot.split('@')[1]!, row])),
      summary: events.at(-1) as unknown as Record<string, unknown>,
    };
  }

  async function rewrite(
    snapshot: string,
    change: (b: Buffer, m: Record<string, string>) => Buffer,
  ) {
    const Key = `${bucket.prefix}/${DATASET}@${snapshot}`;
    const got = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.s3.bucket, Key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    const Metadata = { ...got.Metadata };
    const Body = change(body, Metadata);
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.s3.bucket, Key, Body, Metadata }),
    );
  }

  it('proves the real streams sound without zfs, then reports each corruption with exit 3', async () => {
    const full = fixtureStream('full');
    const incremental = fixtureStream('incremental');
    const other = fixtureStream('compressed-c');
    backup('snap1', full, { size: String(full.length), isfull: 'true' });
    backup('snap2', compressAs('pigz1', incremental), {
      size: String(incremental.length),
      parent: `${DATASET}@snap1`,
      compressor: 'pigz1',
    });
    backup('snap3', other, { size: String(other.length), isfull: 'true' });

    const head = verify([]);
    expect([...head.rows.values()].map((r) => [r.checked, r.ok])).toEqual([
      ['head', true],
      ['head', true],
      ['head', true],
    ]);
    expect(head.code).toBe(0);
    expect(head.summary).toMatchObject({ event: 'summary', code: 0, objects: 3 });
    const data = verify(['--read-data']);
    expect([...data.rows.values()].map((r) => [r.checked, r.reason])).toEqual([
      ['data', null],
      ['data', null],
      ['data', null],
    ]);
    expect(data.code).toBe(0);

    // A byte flipped in the full, the pigz incremental cut short, a re-labelled parent.
    await rewrite('snap1', (b) => {
      b[b.length >> 1] = b[b.length >> 1]! ^ 0x10;
      return b;
    });
    await rewrite('snap2', (b) => b.subarray(0, b.length - 200));
    injected('corrupt data', 2);
    const bad = verify(['--read-data']);
    expect(bad.rows.get('snap1')?.reason).toMatch(/^checksum mismatch in record \d+/);
    expect(bad.rows.get('snap2')?.reason).toMatch(/^decompressor failed: /);
    expect(bad.code).toBe(3);
    expect(bad.summary).toMatchObject({ event: 'summary', code: 3, objects: 3 });

    await rewrite('snap1', () => full);
    await rewrite('snap2', (_b, m) => {
      m['parent'] = `${DATASET}@snap3`;
      return compressAs('pigz1', incremental);
    });
    injected('corrupt data');
    const relabelled = verify(['--read-data']);
    expect(relabelled.rows.get('snap2')?.reason).toBe(
      `parent guid mismatch: expected ${FIXTURE_GUIDS['compressed-c']}, stream says ${FIXTURE_GUIDS.full}`,
    );
    expect(relabelled.rows.get('snap1')?.ok).toBe(true);
    expect(relabelled.code).toBe(3);
    expect(zfs.ran()).toBe(false);
  });
});
