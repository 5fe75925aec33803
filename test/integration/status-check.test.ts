/**
 * `z3 status --check` as a monitor runs it: the built CLI against the real S3 server (Ceph RGW),
 * backups uploaded with the built pput. One line on stdout, the plugin exit code, nothing else.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { injected } from '../../src/testing/faults.js';
import { useTestBucket } from '../s3-env.js';
import { assertBuilt, PPUT } from './pput-helpers.js';

const Z3 = join(PPUT, '..', 'z3.js');
// the bucket exists before all; everything under the prefix is removed after all
const { s3, prefix: PREFIX } = useTestBucket('status-check');

function run(program: string, args: string[], env: Record<string, string> = {}, input = '') {
  assertBuilt();
  const r = spawnSync(process.execPath, [program, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...s3.cliEnv, CACHE_DIR: 'off', ...env },
    encoding: 'utf8',
    input,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function check(args: string[], env: Record<string, string> = {}) {
  return run(Z3, ['--s3-prefix', PREFIX, '--dataset', 'tank/data', 'status', '--check', ...args], {
    SNAPSHOT_PREFIX: 'snap',
    ...env,
  });
}

describe('z3 status --check', () => {
  it('no backup → CRITICAL (2); a fresh full → OK (0); a broken incremental → CRITICAL', () => {
    expect(check([])).toEqual({
      code: 2,
      stdout: 'CRITICAL: tank/data has no backup\n',
      stderr: '',
    });
    const hourAgo = String(Math.floor(Date.now() / 1000) - 3600);
    const put = (name: string, meta: string[]) =>
      run(
        PPUT,
        [...meta.flatMap((m) => ['--metadata', m]), `${PREFIX}/tank/data@${name}`],
        {},
        'x',
      );
    expect(put('snap-1', ['isfull=true', `creation=${hourAgo}`]).code).toBe(0);
    const ok = check(['--warn', '2h', '--crit', '3h']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^OK: tank\/data newest backup (59m|1h) ago, chain healthy \| age=\d+s;7200;10800;0 backups=1\n$/,
    );
    expect(check(['--warn', '30m', '--crit', '3h']).code).toBe(1);
    expect(put('snap-2', ['parent=tank/data@gone', `creation=${hourAgo}`]).code).toBe(0);
    const broken = check([]);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(
      /^CRITICAL: .*1 broken backup \(tank\/data@snap-2: missing parent\)/,
    );
  });

  it(
    'a server that cannot be reached → UNKNOWN (3), one line, no secret',
    { tags: ['faults'] },
    () => {
      const r = check([], { HOST: 'http://127.0.0.1:1', MAX_RETRIES: '1' });
      injected('S3 reset/timeout');
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/^UNKNOWN: .+\n$/);
      expect(r.stdout + r.stderr).not.toContain(s3.cliEnv['S3_SECRET']);
    },
  );

  it(
    '--check with --json is a usage error (exit 2): the line is the output',
    { tags: ['faults'] },
    () => {
      const r = run(Z3, ['--dataset', 'tank/data', 'status', '--check', '--json']);
      injected('bad input');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^z3: option '--check' cannot be used with option '--json'\n/);
    },
  );

  it('--warn without --check is a usage error (exit 2)', { tags: ['faults'] }, () => {
    const r = run(Z3, ['--dataset', 'tank/data', 'status', '--warn', '2h']);
    injected('bad input');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('z3: --warn and --crit need --check\n');
  });
});
