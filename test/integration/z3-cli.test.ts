// The z3 command line as a user meets it before any ZFS or S3 work: help, usage errors, config
// errors named by file/section/key, exit codes, and secrets kept out of every message.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt, PPUT } from './pput-helpers.js';
import { injected } from '../../src/testing/faults.js';

const Z3 = join(PPUT, '..', 'z3.js');
const SECRET = 'Sup3r/Secret+Value-never-printed';

function z3(args: string[], env: Record<string, string> = {}, input?: string) {
  assertBuilt();
  const r = spawnSync(process.execPath, [Z3, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', Z3_CONFIG: '/dev/null', ...env },
    encoding: 'utf8',
    input,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'z3-conf-')), 'z3.conf');
  writeFileSync(path, text);
  return path;
}

describe('z3 command line', () => {
  it('without a subcommand prints help and exits 2', () => {
    const r = z3([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: z3/);
    expect(r.stderr).toMatch(/z3: a command is required/);
  });

  it('--help lists the commands and the exit codes, exit 0', () => {
    const r = z3(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status/);
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*130/);
    expect(z3(['backup', '--help']).stdout).toMatch(/--dry-run[\s\S]*Exit codes:/);
  });

  it.each([
    [['bogus']],
    [['backup', '--no-such-option']],
    [['backup', '--full', '--incremental']],
    [['restore']],
  ])('usage error %j → exit 2, one line, no stack', { tags: ['faults'] }, (args) => {
    const r = z3(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^z3: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    injected('bad input');
  });

  it('names a missing FILESYSTEM and BUCKET', { tags: ['faults'] }, () => {
    expect(z3(['status']).stderr).toMatch(/z3: FILESYSTEM is not set/);
    const r = z3(['--dataset', 'tank/a', 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/z3: no target: set BUCKET \(S3\) or BACKUP_DIR/);
    injected('bad input', 2);
  });

  it(
    'names file, section and key of a bad config value; global options after the subcommand',
    { tags: ['faults'] },
    () => {
      const path = configFile('[main]\nBUCKET = b\n\n[fs:tank/v1.2:x]\nCHUNK_SIZE = lots\n');
      const r = z3(['status', '--config', path, '--dataset', 'tank/v1.2:x']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `z3: ${path} [fs:tank/v1.2:x] CHUNK_SIZE: expected a size like 256M`,
      );
      injected('bad input');
    },
  );

  it('expands unambiguous option prefixes and refuses ambiguous ones', { tags: ['faults'] }, () => {
    const path = configFile('[main]\nBUCKET = b\nCOMPRESSOR = bogus\n');
    // --dry reaches backup as --dry-run: the run gets as far as the compressor check
    const dry = z3(['--config', path, '--dataset', 'tank/a', 'backup', '--dry']);
    expect(dry.stderr).toMatch(/COMPRESSOR/);
    const ambiguous = z3(['--d', 'tank/a', 'status']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/ambiguous option: --d/);
    expect(dry.code).toBe(2);
    injected('bad input', 2); // COMPRESSOR = bogus, --d
  });

  it(
    'fails with exit 4 when its output cannot be written (a full disk)',
    { tags: ['faults'] },
    () => {
      assertBuilt();
      const full = openSync('/dev/full', 'w');
      const r = spawnSync(process.execPath, [Z3, '--help'], {
        stdio: ['ignore', full, 'pipe'],
        encoding: 'utf8',
      });
      closeSync(full);
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(/^z3: cannot write to standard output: ENOSPC/m);
      injected('output failure');
    },
  );

  it('never prints S3_SECRET, even when the server cannot be reached', { tags: ['faults'] }, () => {
    const env = {
      BUCKET: 'b',
      S3_KEY_ID: 'AKIAEXAMPLE',
      S3_SECRET: SECRET,
      HOST: 'http://127.0.0.1:9',
      MAX_RETRIES: '1',
    };
    const r = spawnSync(process.execPath, [PPUT, '--debug', 'some/key'], {
      env: { PATH: process.env['PATH'] ?? '', Z3_CONFIG: '/dev/null', ...env },
      input: 'x'.repeat(1000),
      encoding: 'utf8',
    });
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/^pput: /m);
    expect(r.stderr + r.stdout).not.toContain(SECRET);
    injected('S3 reset/timeout'); // connection refused
  });

  it.each([
    [Z3, ['--dataset', 'tank/x', 'backup', '--limit-upload', '20'], '--limit-upload LIMIT_UPLOAD'],
    [
      Z3,
      ['--dataset', 'tank/x', 'restore', '--limit-download', '1x', 's'],
      '--limit-download LIMIT_DOWNLOAD',
    ],
    [PPUT, ['--limit-upload', 'fast', 'k'], '--limit-upload LIMIT_UPLOAD'],
    [
      join(PPUT, '..', 'z3-get.js'),
      ['--limit-download', '-1M', 'k'],
      '--limit-download LIMIT_DOWNLOAD',
    ],
  ])(
    'a bad bandwidth limit is exit 2 naming the flag and key (%#)',
    { tags: ['faults'] },
    (bin, args, named) => {
      assertBuilt();
      const r = spawnSync(process.execPath, [bin, ...args], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', Z3_CONFIG: '/dev/null', BUCKET: 'b' },
        encoding: 'utf8',
        input: 'x',
      });
      injected('bad input');
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${named}: expected a rate like 20M`);
    },
  );
});
