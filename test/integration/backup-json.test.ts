/**
 * `z3 backup --json` of the built CLI (a scripted `zfs` first on PATH) against the real S3
 * server: every stdout line is one JSON event, in order start, progress, object, summary, and
 * each object event names the key and ETag the server holds. A failed run ends in error and
 * summary with its exit code. Needs `npm run build` and the test S3 server.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptedZfs } from '../../src/commands/testing/scripted-zfs.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { injected } from '../../src/testing/faults.js';
import { ensureBucket, testClient, testS3 } from '../s3-env.js';
import { assertBuilt, MiB, PPUT } from './pput-helpers.js';
import { parseEvents } from '../json-events.js';

const Z3 = join(PPUT, '..', 'z3.js');

describe('z3 backup --json against the S3 server', () => {
  const s3 = testS3();
  const client = testClient(s3);
  const backend = createS3Backend(s3.connection, s3.bucket);
  const ds = `json${randomBytes(4).toString('hex')}/data`;
  const snaps = [1, 2, 3].map((n) => `${ds}@daily-${n}`);

  function z3(zfsProgram: string, args: string[]) {
    assertBuilt();
    const env = {
      ...s3.cliEnv,
      PATH: `${dirname(zfsProgram)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      COMPRESSOR: 'none',
      CACHE_DIR: 'off',
      LOCK_DIR: dirname(zfsProgram),
    };
    const all = ['--dataset', ds, '--snapshot-prefix', 'daily-', ...args];
    return spawnSync(process.execPath, [Z3, ...all], { env, encoding: 'utf8' });
  }

  beforeAll(async () => {
    await ensureBucket(client, s3.bucket);
  });

  afterAll(async () => {
    for await (const o of backend.list(`z3-backup/${ds}@`)) await backend.remove(o.key);
    await backend.remove(`z3-backup/.z3/index/${ds}.json`);
    client.destroy();
  });

  it(
    'parses event by event, each object matching what the server stored',
    { tags: ['faults'] },
    async () => {
      const zfs = createScriptedZfs({
        datasets: { [ds]: snaps.slice(0, 2) },
        sends: { [snaps[1] ?? '']: { size: 11 * MiB } },
      });
      try {
        const first = z3(zfs.program, ['backup', '--full', '--snapshot', 'daily-1', '--json']);
        expect(first.status, first.stderr).toBe(0);
        const second = z3(zfs.program, ['backup', '--json', '--concurrency', '1']);
        expect(second.status, second.stderr).toBe(0);
        const events = parseEvents(second.stdout);
        expect(events.map((e) => e['event'])).toEqual([
          'start',
          ...events.slice(1, -2).map(() => 'progress'),
          'object',
          'summary',
        ]);
        expect(events[0]).toMatchObject({
          command: 'backup',
          dataset: ds,
          target: `s3://${s3.bucket}/z3-backup/`,
        });
        const progress = events.filter((e) => e['event'] === 'progress');
        expect(progress.length).toBeGreaterThanOrEqual(1);
        expect(progress.at(-1)).toMatchObject({
          snapshot: snaps[1],
          bytes: 11 * MiB,
          total: 11 * MiB,
        });
        const object = events.at(-2) ?? {};
        const stored = await backend.stat(`z3-backup/${snaps[1] ?? ''}`);
        expect(object).toMatchObject({
          snapshot: snaps[1],
          key: `z3-backup/${snaps[1] ?? ''}`,
          bytes: 11 * MiB,
        });
        expect(object['etag']).toBe(stored?.etag);
        expect(object['seconds']).toBeGreaterThan(0);
        expect(events.at(-1)).toMatchObject({
          event: 'summary',
          code: 0,
          objects: 1,
          bytes: 11 * MiB,
        });
        expect(second.stdout).not.toContain(s3.cliEnv['S3_SECRET'] ?? 'no secret');
      } finally {
        zfs.cleanup();
      }

      const failing = createScriptedZfs({
        datasets: { [ds]: snaps },
        sends: { [snaps[2] ?? '']: { size: 4000, failAfter: 100 } },
      });
      injected('stage death');
      try {
        const failed = z3(failing.program, ['backup', '--json']);
        expect(failed.status, failed.stderr).toBe(4);
        const events = parseEvents(failed.stdout).filter((e) => e['event'] !== 'progress');
        expect(events.map((e) => e['event'])).toEqual(['start', 'error', 'summary']);
        expect(events[1]?.['code']).toBe(4);
        expect(String(events[1]?.['message'])).toContain('zfs');
        expect(events[2]).toMatchObject({ code: 4, objects: 0, bytes: 0 });
        expect(await backend.stat(`z3-backup/${snaps[2] ?? ''}`)).toBeUndefined();
      } finally {
        failing.cleanup();
      }
    },
  );
});
