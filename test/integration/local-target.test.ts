/**
 * pput and z3_get (the built CLIs) with a local-directory target, `--backup-dir` / BACKUP_DIR
 * instead of BUCKET: a round trip byte for byte with the metadata beside the object, an
 * interrupted upload that leaves nothing behind, and BUCKET plus BACKUP_DIR refused.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testS3 } from '../s3-env.js';
import {
  MiB,
  assertBuilt,
  finished,
  referenceData,
  runPput,
  sha256,
  spawnPput,
  Z3_GET,
} from './pput-helpers.js';
import { injected } from '../../src/testing/faults.js';

describe('pput and z3_get with --backup-dir (built CLIs)', () => {
  const s3 = testS3();
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'z3-local-target-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** No bucket at all: BUCKET empty unsets the test server's. */
  const env = (): Record<string, string> => ({ BUCKET: '', CACHE_DIR: 'off' });

  function getLocal(
    args: string[],
  ): Promise<{ code: number | null; sha256: string; stderr: string }> {
    const child = spawn(process.execPath, [Z3_GET, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', Z3_CONFIG: '/dev/null' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hash = createHash('sha256');
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => hash.update(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, sha256: hash.digest('hex'), stderr }));
    });
  }

  it('round-trips 0-, 1-byte and multi-chunk streams with their metadata and the S3 ETag', async () => {
    const reference = referenceData();
    const put = await runPput(
      s3,
      [
        '--backup-dir',
        dir,
        '--chunk-size',
        '5M',
        '--metadata',
        'ana=are+mere',
        'z3-backup/tank/ref',
      ],
      reference,
      env(),
    );
    expect(put.code, put.stderr).toBe(0);
    // the ETag S3 gives this exact input (spec 8.3), computed the same way for a local target
    expect(put.stdout.trim()).toBe(
      '{"status": "success", "etag": "\\"d229c1fc0e509475afe56426c89d2724-2\\""}',
    );
    const sidecar = JSON.parse(readFileSync(join(dir, 'z3-backup/tank/ref.z3meta'), 'utf8')) as {
      metadata: Record<string, string>;
    };
    expect(sidecar.metadata).toEqual({ ana: 'are+mere' });
    const got = await getLocal(['--backup-dir', dir, '--chunk-size', '5M', 'z3-backup/tank/ref']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.sha256).toBe(sha256(reference));

    const one = await runPput(s3, ['--backup-dir', dir, 'one'], Buffer.from('x'), env());
    expect(one.code, one.stderr).toBe(0);
    expect((await getLocal(['--backup-dir', dir, 'one'])).sha256).toBe(sha256(Buffer.from('x')));
    const empty = await runPput(s3, ['--backup-dir', dir, 'empty'], Buffer.alloc(0), env());
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("Can't upload zero bytes!");
  });

  it(
    'leaves no object and no temporary when interrupted midway (SIGTERM → 130)',
    { tags: ['faults'] },
    async () => {
      const child = spawnPput(s3, ['--backup-dir', dir, '--chunk-size', '5M', 'cut/obj'], env());
      const done = finished(child);
      child.stdin.on('error', () => undefined); // EPIPE once it is gone
      // 6 MiB now (one chunk written), then nothing more until the signal
      child.stdin.write(Buffer.alloc(6 * MiB, 7));
      for (let i = 0; i < 200 && !hasTemporary(dir); i++) await sleep(25);
      expect(hasTemporary(dir)).toBe(true);
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.stderr).toBe(130);
      const files = readdirSync(dir, { recursive: true }).map(String);
      expect(files.filter((f) => f.includes('obj'))).toEqual([]);
      injected('signal');
    },
  );

  it('refuses BUCKET and BACKUP_DIR together, naming both', { tags: ['faults'] }, async () => {
    const r = await runPput(s3, ['--backup-dir', dir, 'k'], Buffer.from('x'), { CACHE_DIR: 'off' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BUCKET .* and BACKUP_DIR .* are both set/);
    injected('bad input');
  });
});

/** A pending write (a `.z3tmp` temporary) exists somewhere under `dir`. */
function hasTemporary(dir: string): boolean {
  return readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.z3tmp'));
}
