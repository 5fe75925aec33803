// `z3 cleanup` as a user runs it: the built CLI against a real bucket (Ceph RGW), with real
// multipart uploads whose age is the server's own `Initiated` time. The uploads are started
// seconds apart, and `--older-than` in seconds tells the stale from the young. A journal in
// STATE_DIR (as `z3 backup` writes one, src/resume/journal.ts) marks an upload a run owns.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalPath, writeJournal } from '../../src/resume/journal.js';
import { md5 } from '../../src/storage/etag.js';
import { injected } from '../../src/testing/faults.js';
import { PPUT } from './pput-helpers.js';
import { useTestBucket, type TestBucket } from '../s3-env.js';

const ROOT = join(PPUT, '..', '..', '..');
const Z3 = join(ROOT, 'dist/bin/z3.js');
const PART = 1024 * 1024;

/** Fail clearly when dist/ lacks the cleanup command or is older than its sources. */
function assertCleanupBuilt(): void {
  for (const file of ['commands/cleanup.ts', 'plan/cleanup.ts', 'ui/cleanup-report.ts']) {
    const built = join(ROOT, 'dist', file.replace(/\.ts$/, '.js'));
    if (!existsSync(built)) throw new Error(`dist/ lacks ${file}: run npm run build first`);
    if (statSync(join(ROOT, 'src', file)).mtimeMs > statSync(built).mtimeMs) {
      throw new Error(`dist/ is older than src/${file}: run npm run build first`);
    }
  }
}

/** Start a multipart upload of `key` with one part of `bytes` bytes; its upload id. */
async function startUpload(bucket: TestBucket, key: string, bytes: number): Promise<string> {
  const writer = await bucket.backend.openWriter({ key, metadata: {}, chunkSize: PART });
  const body = Buffer.alloc(bytes, 5);
  await writer.writeChunk({ number: 1, body, md5: md5(body) });
  return writer.id;
}

/** Whether the server still knows upload `id` of `key` (ListParts succeeds). */
async function isPending(bucket: TestBucket, key: string, id: string): Promise<boolean> {
  try {
    await bucket.client.send(
      new ListPartsCommand({ Bucket: bucket.s3.bucket, Key: key, UploadId: id }),
    );
    return true;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NoSuchUpload' || name === 'NoSuchKey') return false;
    throw err;
  }
}

describe('z3 cleanup on a real bucket', () => {
  const bucket = useTestBucket('cleanup');
  /** S3_PREFIX of the runs; `<prefix>/other/` is outside it. */
  const prefix = (): string => `${bucket.prefix}/z3`;
  const key = (name: string): string => `${prefix()}/tank/data@${name}`;
  const uploads: Record<string, { key: string; id: string }> = {};
  const stateDir = mkdtempSync(join(tmpdir(), 'z3-cleanup-state-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  function z3(args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [Z3, ...args], {
      env: {
        ...bucket.s3.cliEnv,
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        S3_PREFIX: prefix(),
        CACHE_DIR: 'off',
        STATE_DIR: stateDir,
      },
      encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  beforeAll(async () => {
    assertCleanupBuilt();
    const start = async (name: string, k: string, bytes: number): Promise<void> => {
      uploads[name] = { key: k, id: await startUpload(bucket, k, bytes) };
    };
    await start('stale', key('stale'), 2 * PART);
    await start('other', `${bucket.prefix}/other/tank/data@stale`, PART);
    await start('live', key('live'), PART);
    await writeJournal(journalPath(stateDir, bucket.backend.location, key('live')), {
      version: 1,
      target: bucket.backend.location,
      key: key('live'),
      uploadId: uploads['live']!.id,
      pipeline: [['zfs', 'send', 'tank/data@live']],
      partSize: PART,
      metadata: { isfull: 'true' },
      started: new Date().toISOString(),
      pid: process.pid,
      hostname: 'test-host',
    });
    await sleep(6000);
  });

  /**
   * A young upload, started just before a run: its age at the run's listing is the run's start-up
   * time, never the time the tests before it took (a loaded machine made a shared one stale).
   */
  async function startYoung(): Promise<void> {
    uploads['young'] = { key: key('young'), id: await startUpload(bucket, key('young'), PART) };
  }

  const pending = (name: string): Promise<boolean> =>
    isPending(bucket, uploads[name]!.key, uploads[name]!.id);

  it('--dry-run prints what it would abort, with bytes, and why the others stay; aborts nothing', async () => {
    await startYoung();
    const r = z3(['cleanup', '--older-than', '4s', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { stale, live, young } = uploads as Record<string, { key: string; id: string }>;
    expect(r.stdout).toBe(
      [
        `would abort  0m  2 M  ${stale!.key}  (upload ${stale!.id})`,
        `keep         0m  1 M  ${live!.key}  (upload ${live!.id})  a journal in STATE_DIR names it: the next backup resumes it`,
        `keep         0m  1 M  ${young!.key}  (upload ${young!.id})  younger than 4s`,
        'would abort 1 (2 M), keep 2',
        '',
      ].join('\n'),
    );
    for (const name of ['stale', 'live', 'young']) expect(await pending(name)).toBe(true);
    await bucket.backend.abortPending(uploads['young']!);
  });

  it('aborts the stale upload; keeps the journaled one, the young one, other prefixes', async () => {
    await startYoung();
    const r = z3(['cleanup', '--older-than', '4s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^abort 1 \(2 M\), keep 2$/m);
    expect(await pending('stale')).toBe(false);
    expect((await bucket.backend.listPending(`${prefix()}/`)).map((p) => p.id)).toEqual([
      uploads['live']!.id,
      uploads['young']!.id,
    ]);
    expect(await pending('other')).toBe(true);
  });

  it(
    'a bad --older-than exits 2 with one line and aborts nothing',
    { tags: ['faults'] },
    async () => {
      for (const bad of ['7x', '-1d']) {
        const r = z3(['cleanup', `--older-than=${bad}`]);
        injected('bad input');
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(
          `z3: --older-than '${bad}': expected 0 or a duration such as 90m, 36h or 7d (m minutes, h hours, d days)\n`,
        );
      }
      expect(await pending('young')).toBe(true);
    },
  );
});
