/**
 * Output that goes away mid-run, on the built CLIs against a real S3 server: a closed stderr
 * (`z3 backup 2>&1 | logger` with the logger gone) never decides the fate of a transfer, and
 * a reader that stops reading (`z3_get KEY | head -c 10`) is a clean exit, while output lost to
 * a full disk is exit 4. The `zfs` on PATH is
 * the commands' scripted one (src/commands/testing/scripted-zfs.ts). Needs `npm run build` and
 * the test S3 server (test/s3-env.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptedZfs, type ScriptedZfs } from '../../src/commands/testing/scripted-zfs.js';
import { injected } from '../../src/testing/faults.js';
import { assertBuilt, MiB, PPUT, Z3_GET } from './pput-helpers.js';
import { useTestBucket } from '../s3-env.js';

const Z3 = join(PPUT, '..', 'z3.js');
const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-3', 'tank/data@snap-4'];

interface Outcome {
  code: number | null;
  stdout: string;
  /** What the test read from stderr before it closed the pipe. */
  stderrSeen: string;
}

/**
 * Run a built CLI; once `closeAfter` bytes arrived on `stream`, close the test's end of that
 * pipe (destroy it), as a reader that goes away does.
 */
function runClosing(input: {
  script: string;
  args: string[];
  env: Record<string, string>;
  stream: 'stdout' | 'stderr';
  closeAfter: number;
}): Promise<Outcome> {
  assertBuilt();
  const child = spawn(process.execPath, [input.script, ...input.args], {
    env: input.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seen = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    const pipe: Readable = child[name];
    pipe.on('data', (chunk: Buffer) => {
      seen[name] += chunk.toString('latin1');
      if (name === input.stream && seen[name].length >= input.closeAfter) pipe.destroy();
    });
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: seen.stdout, stderrSeen: seen.stderr }));
  });
}

describe('output failures (built CLIs, real S3)', () => {
  const bucket = useTestBucket('output-failures');
  let zfs: ScriptedZfs | undefined;
  afterEach(() => zfs?.cleanup());

  function z3Env(): Record<string, string> {
    return {
      ...bucket.s3.cliEnv,
      PATH: `${dirname(zfs!.program)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      FILESYSTEM: 'tank/data',
      SNAPSHOT_PREFIX: 'snap',
      S3_PREFIX: `${bucket.prefix}/z3`,
      COMPRESSOR: 'none',
      CACHE_DIR: 'off',
    };
  }

  it(
    'z3 backup with stderr closed mid-run backs up every snapshot, exit 0',
    { tags: ['faults'], timeout: 60_000 },
    async () => {
      // snap-3's send pauses, so its progress line is drawn (every 10 s off a terminal) while
      // its upload is still pending: the first write to the closed pipe.
      zfs = createScriptedZfs({
        datasets: { 'tank/data': SNAPS },
        sends: { 'tank/data@snap-3': { size: 2 * MiB, pauseAfter: MiB, pauseMs: 10_500 } },
      });
      const base = await runClosing({
        script: Z3,
        args: ['backup', '--full', '--snapshot', 'snap-1', '--quiet'],
        env: z3Env(),
        stream: 'stderr',
        closeAfter: Infinity,
      });
      expect([base.code, base.stderrSeen]).toEqual([0, '']);

      // The first bytes on stderr are snap-2's final progress line; then the pipe is closed.
      const run = await runClosing({
        script: Z3,
        args: ['backup'],
        env: z3Env(),
        stream: 'stderr',
        closeAfter: 1,
      });
      expect(run.stderrSeen).toMatch(/^tank\/data@snap-2: /);
      injected('output failure');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        ['snap-2: 0 M.', 'snap-3: 2 M.', 'snap-4: 0 M.']
          .map((s) => `Successfuly backed up tank/data@${s}\n`)
          .join(''),
      );
      const keys: string[] = [];
      for await (const o of bucket.backend.list(`${bucket.prefix}/z3/`)) keys.push(o.key);
      expect(keys.sort()).toEqual([
        `${bucket.prefix}/z3/.z3/index/tank/data.json`,
        ...SNAPS.map((s) => `${bucket.prefix}/z3/${s}`),
      ]);
      expect(await bucket.backend.listPending(`${bucket.prefix}/`)).toEqual([]);
    },
  );

  it(
    'z3_get KEY | head -c 10 is a clean exit: 0, nothing on stderr',
    { tags: ['faults'] },
    async () => {
      const key = `${bucket.prefix}/get/object`;
      await bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.s3.bucket,
          Key: key,
          Body: Buffer.alloc(24 * MiB, 7),
        }),
      );
      const run = await runClosing({
        script: Z3_GET,
        args: ['--chunk-size', '5M', '--concurrency', '2', key],
        env: { ...bucket.s3.cliEnv, PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        stream: 'stdout',
        closeAfter: 10,
      });
      injected('output failure');
      expect(run.stderrSeen).toBe('');
      expect(run.code).toBe(0);
    },
  );

  it(
    'z3_get KEY > /dev/full is exit 4 naming the write error (lost output is no clean exit)',
    { tags: ['faults'] },
    async () => {
      assertBuilt();
      const key = `${bucket.prefix}/get/full`;
      await bucket.client.send(
        new PutObjectCommand({ Bucket: bucket.s3.bucket, Key: key, Body: Buffer.alloc(MiB, 7) }),
      );
      const full = openSync('/dev/full', 'w');
      const r = spawnSync(process.execPath, [Z3_GET, key], {
        env: { ...bucket.s3.cliEnv, PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        stdio: ['ignore', full, 'pipe'],
        encoding: 'utf8',
      });
      closeSync(full);
      injected('output failure');
      expect(r.stderr).toMatch(/^z3_get: cannot write to standard output: .*ENOSPC/m);
      expect(r.status).toBe(4);
    },
  );
});
