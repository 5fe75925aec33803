// `z3 prune` as a user runs it: the built CLI against a real bucket (Ceph RGW), no zfs at all
// (prune never touches local snapshots). Backups are seeded as the original z3 lays them out:
// `<prefix>/<dataset>@<snapshot>` with `isfull` / `parent` metadata.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { assertBuilt, PPUT } from './pput-helpers.js';
import { useTestBucket } from '../s3-env.js';

const Z3 = join(PPUT, '..', 'z3.js');
const DATASET = 'tank/prune';
const snap = (d: number): string =>
  `zfs-auto-snap_daily-2026-11-${String(d).padStart(2, '0')}-0000`;

/**
 * A `zfs` first on PATH that only records that it ran: prune must never run zfs (it never
 * touches local snapshots), and the test checks the record is absent.
 */
function tripwireZfs(): { dir: string; ran: () => boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'z3-prune-zfs-'));
  const marker = join(dir, 'zfs-ran');
  writeFileSync(join(dir, 'zfs'), `#!/bin/sh\ntouch '${marker}'\nexit 99\n`);
  chmodSync(join(dir, 'zfs'), 0o755);
  return { dir, ran: () => existsSync(marker) };
}

describe('z3 prune on a real bucket', () => {
  const bucket = useTestBucket('prune');
  const zfs = tripwireZfs();

  function z3(args: string[]): { code: number | null; stdout: string; stderr: string } {
    assertBuilt();
    const r = spawnSync(process.execPath, [Z3, ...args], {
      env: {
        ...bucket.s3.cliEnv,
        PATH: `${zfs.dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
        S3_PREFIX: bucket.prefix,
        FILESYSTEM: DATASET,
        SNAPSHOT_PREFIX: 'zfs-auto-snap_daily',
        CACHE_DIR: 'off',
      },
      encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Days 1..n, a full every `fullEvery` days; plus a broken incremental on day 28. */
  async function seed(n: number, fullEvery: number): Promise<void> {
    const put = (d: number, metadata: Record<string, string>): Promise<unknown> =>
      bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.s3.bucket,
          Key: `${bucket.prefix}/${DATASET}@${snap(d)}`,
          Body: Buffer.alloc(100 * d),
          Metadata: { size: String(100 * d), ...metadata },
        }),
      );
    for (let d = 1; d <= n; d += 1) {
      await put(
        d,
        (d - 1) % fullEvery === 0 ? { isfull: 'true' } : { parent: `${DATASET}@${snap(d - 1)}` },
      );
    }
    await put(28, { parent: `${DATASET}@gone` });
  }

  async function remainingDays(): Promise<number[]> {
    const days: number[] = [];
    // backups only: not the dataset index prune writes under <prefix>/.z3/
    for await (const o of bucket.backend.list(`${bucket.prefix}/`))
      if (o.key.includes('@')) days.push(Number(o.key.slice(-7, -5)));
    return days.sort((a, b) => a - b);
  }

  it('keeps what --keep-daily needs with its chain, reports the broken one, then removes it with --broken', async () => {
    await seed(10, 4); // fulls on days 1, 5, 9

    const noPolicy = z3(['prune']);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toMatch(/^z3: no retention policy: refusing to prune without one$/m);
    expect(z3(['prune', '--keep-within', '2w']).code).toBe(2);

    const dry = z3(['prune', '--keep-daily', '3', '--dry-run', '--verbose']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(
        `^would delete  ${snap(1)}  2026-11-01 00:00:00 UTC \\(zfs-auto-snapshot name\\)$`,
        'm',
      ),
    );
    expect(dry.stdout).toMatch(/^keep 7, would delete 4 \(0 M freed\), broken 1$/m);
    expect(await remainingDays()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 28]);

    const run = z3(['prune', '--keep-daily', '3']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('1 broken backup(s) kept');
    // Days 8, 9, 10 by the policy; 9 is 10's full, and 8 (kept) needs 5, 6, 7 back to its full.
    expect(await remainingDays()).toEqual([5, 6, 7, 8, 9, 10, 28]);
    expect(run.stdout).toContain(`keep    ${snap(5)}  ancestor of ${snap(8)}`);

    const broken = z3(['prune', '--keep-daily', '3', '--broken', '--json']);
    expect(broken.code).toBe(0);
    const events = broken.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rows = events.filter((e) => e['event'] === 'prune');
    expect(
      rows.filter((r) => r['action'] === 'delete').map((r) => [r['snapshot'], r['health']]),
    ).toEqual([[`${DATASET}@${snap(28)}`, 'missing parent']]);
    const deleted = events.filter((e) => e['event'] === 'object-deleted');
    expect(deleted.map((e) => e['key'])).toEqual([`${bucket.prefix}/${DATASET}@${snap(28)}`]);
    expect(events.at(-1)).toMatchObject({ event: 'summary', code: 0, objects: 1 });
    // Ceph lists the storage class of every object.
    expect(rows.map((r) => r['storageClass'])).toContain('STANDARD');
    expect(await remainingDays()).toEqual([5, 6, 7, 8, 9, 10]);
    expect(zfs.ran()).toBe(false);
  });
});
