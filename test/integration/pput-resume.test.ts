/**
 * `pput --resume` (issue 9) with the built CLI: a run killed mid-upload (SIGKILL: nothing of
 * it runs after the signal) leaves its pending upload and its journal; the next `pput --resume`
 * of the same key takes the upload up, verifies the parts already there, sends the rest, and
 * the object is byte-identical to the input. On Ceph RGW and on a local directory. SIGTERM
 * with --resume keeps the upload too (exit 130). Needs `npm run build` and the test S3 server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/storage/backend.js';
import { createLocalBackend } from '../../src/storage/local/backend.js';
import { listJournals } from '../../src/resume/journal.js';
import { injected } from '../../src/testing/faults.js';
import { formatBytes } from '../../src/ui/progress.js';
import { useTestBucket } from '../s3-env.js';
import {
  MiB,
  assertBuilt,
  finished,
  ourLines,
  readBack,
  runPput,
  sha256,
  spawnPput,
} from './pput-helpers.js';

const DATA = randomBytes(23 * MiB); // five 5 MiB parts, the last of 3 MiB

/** The chunks of the one pending write of `key`, once at least `count` are listed. */
async function waitForChunks(backend: Backend, key: string, count: number): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const [pending] = await backend.listPending(key);
    if (pending !== undefined) {
      const chunks = await backend.listChunks(pending);
      if (chunks.length >= count) return chunks.length;
    }
    await sleep(100);
  }
  throw new Error(`${count} parts of ${key} never reached the server`);
}

/**
 * Start `pput --resume`, feed it 12 MiB then nothing (stdin left open), and once two parts are
 * on the server send it `signal`. Returns the exit and how many parts were listed then.
 */
async function interrupted(input: {
  spawnArgs: Parameters<typeof spawnPput>;
  backend: Backend;
  key: string;
  signal: NodeJS.Signals;
}) {
  const child = spawnPput(...input.spawnArgs);
  const done = finished(child);
  child.stdin.on('error', () => undefined);
  child.stdin.write(DATA.subarray(0, 12 * MiB));
  await waitForChunks(input.backend, input.key, 2);
  child.kill(input.signal);
  const result = await done;
  const [pending] = await input.backend.listPending(input.key);
  const listed = pending === undefined ? 0 : (await input.backend.listChunks(pending)).length;
  return { result, listed };
}

describe('pput --resume (built CLI)', () => {
  const { s3, prefix, backend, client } = useTestBucket('pput-resume');
  let stateDir: string;
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    stateDir = mkdtempSync(join(tmpdir(), 'z3-resume-state-'));
    dir = mkdtempSync(join(tmpdir(), 'z3-resume-dir-'));
  });
  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  const args = (key: string): string[] => ['-s', '5M', '--concurrency', '2', '--resume', key];

  it(
    'after kill -9 on Ceph RGW: resumes, verifies the parts there, the object is byte-identical',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/killed`;
      const env = { STATE_DIR: stateDir };
      const first = await interrupted({
        spawnArgs: [s3, args(key), env],
        backend,
        key,
        signal: 'SIGKILL',
      });
      injected('kill -9');
      expect(first.result.signal).toBe('SIGKILL');
      expect(first.listed).toBeGreaterThanOrEqual(2);
      expect((await listJournals(stateDir)).map((j) => j.journal?.key)).toEqual([key]);

      const second = await runPput(s3, args(key), DATA, env);
      expect(second.code, second.stderr).toBe(0);
      expect(ourLines(second.stderr), second.stderr).toContain(
        `pput: resuming ${key}: ${first.listed} of 5 parts (${formatBytes(first.listed * 5 * MiB)}) already on the server, verified`,
      );
      expect((await readBack(client, s3.bucket, key)).sha256).toBe(sha256(DATA));
      expect(await backend.listPending(key)).toEqual([]);
      expect(await listJournals(stateDir)).toEqual([]);
    },
  );

  it(
    'SIGTERM with --resume keeps the upload (exit 130), and the next run completes it',
    { tags: ['faults'] },
    async () => {
      const key = `${prefix}/termed`;
      const env = { STATE_DIR: stateDir };
      const first = await interrupted({
        spawnArgs: [s3, args(key), env],
        backend,
        key,
        signal: 'SIGTERM',
      });
      injected('signal');
      expect(first.result.code, first.result.stderr).toBe(130);
      expect(first.listed).toBeGreaterThanOrEqual(2);
      expect(ourLines(first.result.stderr).join('\n')).toMatch(
        new RegExp(`pput: interrupted; \\d+ parts of ${key} kept for the next run \\(journal `),
      );
      const second = await runPput(s3, args(key), DATA, env);
      expect(second.code, second.stderr).toBe(0);
      expect((await readBack(client, s3.bucket, key)).sha256).toBe(sha256(DATA));
    },
  );

  it(
    'after kill -9 on a local directory: resumes by offset from the chunk log, byte-identical',
    { tags: ['faults'] },
    async () => {
      const key = 'local/killed';
      const local = createLocalBackend(dir);
      const env = { STATE_DIR: stateDir, BUCKET: '', CACHE_DIR: 'off' };
      const cli = [...args(key).slice(0, -1), '--backup-dir', dir, key];
      const first = await interrupted({
        spawnArgs: [s3, cli, env],
        backend: local,
        key,
        signal: 'SIGKILL',
      });
      injected('kill -9');
      expect(first.listed).toBeGreaterThanOrEqual(2);
      const second = await runPput(s3, cli, DATA, env);
      expect(second.code, second.stderr).toBe(0);
      expect(ourLines(second.stderr), second.stderr).toContain(
        `pput: resuming ${key}: ${first.listed} of 5 parts (${formatBytes(first.listed * 5 * MiB)}) already on the server, verified`,
      );
      expect(sha256(readFileSync(join(dir, key)))).toBe(sha256(DATA));
      expect(readdirSync(join(dir, 'local')).sort()).toEqual(['killed', 'killed.z3meta']);
    },
  );
});
