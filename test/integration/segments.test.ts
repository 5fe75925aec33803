/**
 * Segmented backups (issue 9 item 2) of the built CLI against the real S3 server (Ceph RGW), a
 * scripted `zfs` first on PATH: a stream longer than SEGMENT_SIZE is stored as segments and
 * restored byte-identical (the scripted receive hashes what it got), one that ends exactly at a
 * segment boundary too; with a segment deleted on the server, `status` shows the backup broken
 * and `restore` refuses before any `zfs receive` runs; prune deletes the segments with their
 * backup. Needs `npm run build` and the test S3 server.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createScriptedZfs,
  scriptedStream,
  type ScriptedZfs,
} from '../../src/commands/testing/scripted-zfs.js';
import { segmentKey, segmentsRoot } from '../../src/plan/segments.js';
import { injected } from '../../src/testing/faults.js';
import { useTestBucket } from '../s3-env.js';
import { assertBuilt, MiB, PPUT, Z3_GET } from './pput-helpers.js';

const Z3 = join(PPUT, '..', 'z3.js');
const DS = 'tank/seg';
const SNAP = (n: number): string => `${DS}@daily-${n}`;
/** 26 MiB in segments of 10 MiB (two 5 MiB parts each): 10 + 10 + 6. */
const FULL_SIZE = 26 * MiB;
/** Exactly two segments: ends on the boundary. */
const BOUNDARY_SIZE = 20 * MiB;

describe('segmented backups on the S3 server', () => {
  const bucket = useTestBucket('segments');
  const prefix = `${bucket.prefix}/`;
  const zfs: ScriptedZfs = createScriptedZfs({
    datasets: { [DS]: [SNAP(1), SNAP(2), SNAP(3)] },
    sends: { [SNAP(1)]: { size: FULL_SIZE }, [SNAP(2)]: { size: BOUNDARY_SIZE } },
  });
  afterAll(() => zfs.cleanup());

  function run(program: string, args: string[]) {
    assertBuilt();
    const env = {
      ...bucket.s3.cliEnv,
      PATH: `${dirname(zfs.program)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      S3_PREFIX: bucket.prefix,
      FILESYSTEM: DS,
      SNAPSHOT_PREFIX: 'daily-',
      COMPRESSOR: 'none',
      CACHE_DIR: 'off',
      LOCK_DIR: dirname(zfs.program),
      SEGMENT_SIZE: '10M',
      CHUNK_SIZE: '5M',
    };
    return spawnSync(process.execPath, [program, ...args], { env, maxBuffer: 64 * MiB });
  }
  const z3 = (args: string[]) => run(Z3, args);
  const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

  async function keysUnder(under: string): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    for await (const o of bucket.backend.list(under)) keys.set(o.key, o.size);
    return keys;
  }

  it('stores 26 MiB as three segments and 20 MiB as two, with end markers', async () => {
    expect(z3(['backup', '--full', '--snapshot', 'daily-1']).status).toBe(0);
    expect(z3(['backup', '--snapshot', 'daily-2']).status).toBe(0);
    const info = await bucket.backend.stat(`${prefix}${SNAP(1)}`);
    expect(info).toMatchObject({ size: 10 * MiB, metadata: { isfull: 'true' } });
    const dir1 = info!.metadata['segmentdir']!;
    expect(await keysUnder(dir1)).toEqual(
      new Map([
        [segmentKey(dir1, 2), 10 * MiB],
        [segmentKey(dir1, 3), 6 * MiB],
        [`${dir1}last-00003`, expect.any(Number) as number],
      ]),
    );
    const dir2 = (await bucket.backend.stat(`${prefix}${SNAP(2)}`))!.metadata['segmentdir']!;
    expect([...(await keysUnder(dir2)).keys()]).toEqual([segmentKey(dir2, 2), `${dir2}last-00002`]);
    // Python z3's listing (`<prefix>/<fs>@<SNAPSHOT_PREFIX>`) sees only the backup objects
    expect([...(await keysUnder(`${prefix}${DS}@daily-`)).keys()]).toEqual(
      [SNAP(1), SNAP(2)].map((s) => `${prefix}${s}`),
    );
  });

  it('status counts every segment; restore and z3_get give the streams byte for byte', () => {
    const status = z3(['status']);
    expect(status.status, status.stderr.toString()).toBe(0);
    expect(status.stdout.toString()).toMatch(/daily-1 .*ok/);
    const json = z3(['status', '--json']).stdout.toString();
    expect(json).toContain(`"objectSize":${FULL_SIZE}`);
    const restored = z3(['restore', 'daily-2', '--target', 'tank/restored']);
    expect(restored.status, restored.stderr.toString()).toBe(0);
    expect(zfs.state().received).toMatchObject([
      {
        target: 'tank/restored@daily-1',
        bytes: FULL_SIZE,
        md5: md5(scriptedStream(SNAP(1), '', FULL_SIZE)),
      },
      {
        target: 'tank/restored@daily-2',
        bytes: BOUNDARY_SIZE,
        md5: md5(scriptedStream(SNAP(2), SNAP(1), BOUNDARY_SIZE)),
      },
    ]);
    const verified = z3(['verify']); // each segment's ETag against its size
    expect(verified.status, verified.stdout.toString()).toBe(0);
    const got = run(Z3_GET, [`${prefix}${SNAP(1)}`]);
    expect(got.status, got.stderr.toString()).toBe(0);
    expect(md5(got.stdout)).toBe(md5(scriptedStream(SNAP(1), '', FULL_SIZE)));
  });

  it(
    'a segment deleted on the server: status says broken, restore and z3_get refuse before reading',
    { tags: ['faults'] },
    async () => {
      const dir1 = (await bucket.backend.stat(`${prefix}${SNAP(1)}`))!.metadata['segmentdir']!;
      await bucket.backend.remove(segmentKey(dir1, 3));
      injected('corrupt data', 1);
      const status = z3(['status']);
      expect(status.status).toBe(3);
      expect(status.stdout.toString()).toMatch(/daily-1 .*missing segment 3/);
      expect(status.stdout.toString()).toMatch(/daily-2 .*parent broken/);
      const verified = z3(['verify']);
      expect(verified.status).toBe(3);
      expect(verified.stdout.toString()).toMatch(/daily-1 .*missing segment 3/);
      const before = zfs.state().calls!.length;
      for (const [snapshot, reason] of [
        ['daily-1', 'missing segment 3'],
        ['daily-2', 'parent broken'],
      ]) {
        const restored = z3(['restore', snapshot!, '--target', 'tank/second']);
        expect(restored.status).toBe(3);
        expect(restored.stderr.toString()).toContain(
          `${SNAP(Number(snapshot!.slice(-1)))}, reason: '${reason}'`,
        );
      }
      const calls = zfs.state().calls!.slice(before);
      expect(calls.filter((c) => c[0] === 'receive')).toEqual([]);
      const got = run(Z3_GET, [`${prefix}${SNAP(1)}`]);
      expect(got.status).toBe(3);
      expect(got.stdout.length).toBe(0);
      expect(got.stderr.toString()).toContain('missing segment 3');
    },
  );

  it('prune deletes the segments with their backup', async () => {
    expect(z3(['backup', '--full', '--snapshot', 'daily-3']).status).toBe(0);
    const pruned = z3(['prune', '--keep-last', '1', '--broken']);
    expect(pruned.status, pruned.stderr.toString()).toBe(0);
    expect([...(await keysUnder(`${prefix}${DS}@`)).keys()]).toEqual([`${prefix}${SNAP(3)}`]);
    expect([...(await keysUnder(segmentsRoot(prefix))).keys()]).toEqual([]);
  });
});
