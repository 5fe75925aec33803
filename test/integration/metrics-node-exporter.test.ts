/**
 * METRICS_FILE read by the real node_exporter (Debian's prometheus-node-exporter): the built
 * `z3 backup` (a scripted `zfs` first on PATH) backs up to the real S3 server, node_exporter's
 * textfile collector serves the file over HTTP, and the scraped z3_ series carry the run's
 * values; a failed run changes the exit code and keeps the last success time. `promtool check
 * metrics` (Debian's prometheus) finds nothing to complain about in the file, and `promtool
 * check rules` accepts contrib/prometheus/z3.rules.yml, whose alerts pass `promtool test rules`. Needs `npm run build`, the test S3
 * server and both packages (scripts/install-deps.sh).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createScriptedZfs,
  SCRIPTED_CREATION_BASE,
} from '../../src/commands/testing/scripted-zfs.js';
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { ensureBucket, testClient, testS3 } from '../s3-env.js';
import { injected } from '../../src/testing/faults.js';
import { assertBuilt, PPUT } from './pput-helpers.js';

const Z3 = join(PPUT, '..', 'z3.js');
const ROOT = join(dirname(PPUT), '..', '..');
const NODE_EXPORTER = 'prometheus-node-exporter';
const DAY = 86_400;

/** A port free on 127.0.0.1 now (the kernel's pick, released for node_exporter to take). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The z3_ samples of a scrape, as `name{labels}` → value. */
function z3Samples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(z3_[a-z_]+\{[^}]*\}) (\S+)$/.exec(line);
    if (match !== null) samples.set(match[1] ?? '', Number(match[2]));
  }
  return samples;
}

describe('METRICS_FILE scraped by the real node_exporter', () => {
  const s3 = testS3();
  const client = testClient(s3);
  const backend = createS3Backend(s3.connection, s3.bucket);
  const ds = `metrics${randomBytes(4).toString('hex')}/data`;
  const snaps = [1, 2, 3].map((n) => `${ds}@daily-${n}`);
  const dir = mkdtempSync(join(tmpdir(), 'z3-textfile-'));
  let exporter: ChildProcess | undefined;
  let url = '';

  function z3(zfsProgram: string, args: string[]) {
    assertBuilt();
    const env = {
      ...s3.cliEnv,
      PATH: `${dirname(zfsProgram)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      COMPRESSOR: 'none',
      CACHE_DIR: 'off',
      LOCK_DIR: dir,
      METRICS_FILE: join(dir, 'z3.prom'),
    };
    const all = ['--dataset', ds, '--snapshot-prefix', 'daily-', ...args];
    return spawnSync(process.execPath, [Z3, ...all], { env, encoding: 'utf8' });
  }

  async function scrape(): Promise<string> {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return response.text();
  }

  beforeAll(async () => {
    await ensureBucket(client, s3.bucket);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    exporter = spawn(
      NODE_EXPORTER,
      [
        `--web.listen-address=127.0.0.1:${port}`,
        '--collector.disable-defaults',
        '--collector.textfile',
        `--collector.textfile.directory=${dir}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(url).then(
          () => true,
          () => false,
        )
      )
        return;
      await sleep(100);
    }
    throw new Error(`${NODE_EXPORTER} did not answer on ${url}`);
  });

  afterAll(async () => {
    if (exporter !== undefined && exporter.exitCode === null) {
      const exited = once(exporter, 'exit');
      exporter.kill('SIGTERM');
      await exited;
    }
    for await (const o of backend.list(`z3-backup/${ds}@`)) {
      await backend.remove(o.key);
    }
    await backend.remove(`z3-backup/.z3/index/${ds}.json`);
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'serves the values of a successful backup, then of a failed one',
    { tags: ['faults'] },
    async () => {
      const zfs = createScriptedZfs({
        datasets: { [ds]: snaps.slice(0, 2) },
        sends: { [snaps[1] ?? '']: { size: 5000 } },
      });
      try {
        const first = z3(zfs.program, ['backup', '--full', '--snapshot', 'daily-1', '--quiet']);
        expect(first.status, first.stderr).toBe(0);
        const second = z3(zfs.program, ['backup', '--quiet']);
        expect(second.status, second.stderr).toBe(0);
      } finally {
        zfs.cleanup();
      }
      const labels = `{dataset="${ds}",target="s3://${s3.bucket}/z3-backup/"}`;
      const ok = z3Samples(await scrape());
      expect(ok.get(`z3_last_run_exit_code${labels}`)).toBe(0);
      expect(ok.get(`z3_uploaded_bytes${labels}`)).toBe(5000);
      expect(ok.get(`z3_stored_objects${labels}`)).toBe(2);
      expect(ok.get(`z3_stored_bytes${labels}`)).toBe(3000 + 5000);
      expect(ok.get(`z3_chain_length${labels}`)).toBe(2);
      expect(ok.get(`z3_broken_backups${labels}`)).toBe(0);
      expect(ok.get(`z3_newest_backup_timestamp_seconds${labels}`)).toBe(
        SCRIPTED_CREATION_BASE + DAY,
      );
      const success = ok.get(`z3_last_success_timestamp_seconds${labels}`) ?? 0;
      expect(Math.abs(success - Date.now() / 1000)).toBeLessThan(60);

      // snap 3's send dies mid-stream: exit 4, nothing committed, the last success stays
      const failing = createScriptedZfs({
        datasets: { [ds]: snaps },
        sends: { [snaps[2] ?? '']: { size: 5000, failAfter: 100 } },
      });
      injected('stage death');
      try {
        const failed = z3(failing.program, ['backup', '--quiet']);
        expect(failed.status, failed.stderr).toBe(4);
      } finally {
        failing.cleanup();
      }
      const scraped = await scrape();
      const bad = z3Samples(scraped);
      expect(bad.get(`z3_last_run_exit_code${labels}`)).toBe(4);
      expect(bad.get(`z3_uploaded_bytes${labels}`)).toBe(0);
      expect(bad.get(`z3_last_success_timestamp_seconds${labels}`)).toBe(success);
      expect(bad.get(`z3_stored_objects${labels}`)).toBe(2);
      expect(bad.get(`z3_last_run_duration_seconds${labels}`)).toBeGreaterThan(0);
      // node_exporter parsed the file without error
      expect(scraped).toMatch(/^node_textfile_scrape_error 0$/m);

      const files = readdirSync(dir).filter((f) => f.endsWith('.prom'));
      expect(files).toHaveLength(1);
      const check = spawnSync('promtool', ['check', 'metrics'], {
        input: readFileSync(join(dir, files[0] ?? ''), 'utf8'),
        encoding: 'utf8',
      });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout + check.stderr).toBe('');
    },
  );

  it('promtool accepts contrib/prometheus/z3.rules.yml, and its alerts fire as their tests say', () => {
    const rules = join(ROOT, 'contrib', 'prometheus', 'z3.rules.yml');
    const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('SUCCESS: 4 rules found');
    const tests = join(ROOT, 'contrib', 'prometheus', 'z3.rules.test.yml');
    const run = spawnSync('promtool', ['test', 'rules', tests], { encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('SUCCESS');
  });
});
