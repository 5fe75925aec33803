/**
 * METRICS_FILE on `z3 backup`: a successful run writes every metric; a failed run updates its
 * exit code and duration and keeps the last success time and stored state; a metrics file that
 * cannot be written never fails the backup.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { metricsPath } from '../metrics/file.js';
import { parseMetricValues } from '../metrics/render.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts } from './testing/ports.js';
import {
  createScriptedZfs,
  SCRIPTED_CREATION_BASE,
  type ScriptedZfs,
} from './testing/scripted-zfs.js';

const DAY = 86_400;
const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2'];
const T0 = Date.parse('2026-11-26T00:00:00Z');
const LABELS = { dataset: 'tank/data', target: 's3://test-bucket/z3-backup/' };

/** A clock that reads `start`, then `start` + 1.5 s, … */
function clockFrom(start: number): () => number {
  let t = start - 1500;
  return () => (t += 1500);
}

describe('runBackup with METRICS_FILE', () => {
  let dir: string;
  let zfs: ScriptedZfs;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-metrics-'));
  });
  afterEach(() => {
    zfs.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  function read(): Record<string, number> {
    return parseMetricValues(readFileSync(metricsPath(join(dir, 'z3.prom'), LABELS), 'utf8'));
  }

  it('writes the run and the stored state after a successful backup, one .prom file', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS },
      sends: { 'tank/data@snap-2': { size: 5000 } },
    });
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), {
      isfull: 'true',
      size: '1',
      creation: String(SCRIPTED_CREATION_BASE),
    });
    const env = { METRICS_FILE: join(dir, 'z3.prom') };
    const ports = testPorts({ backend: mem, zfs: zfs.program, env, now: clockFrom(T0) });
    expect(await runBackup(backupOptions({ quiet: true }), ports)).toBe(EXIT.OK);
    expect(readdirSync(dir)).toEqual([
      metricsPath(join(dir, 'z3.prom'), LABELS).slice(dir.length + 1),
    ]);
    const values = read();
    expect(values['z3_last_run_exit_code']).toBe(0);
    expect(values['z3_uploaded_bytes']).toBe(5000);
    expect(values['z3_stored_objects']).toBe(2);
    expect(values['z3_stored_bytes']).toBe(5001);
    expect(values['z3_broken_backups']).toBe(0);
    expect(values['z3_chain_length']).toBe(2);
    expect(values['z3_newest_backup_timestamp_seconds']).toBe(SCRIPTED_CREATION_BASE + DAY);
    expect(values['z3_newest_backup_verified']).toBe(0);
    expect(values['z3_last_success_timestamp_seconds']).toBe(
      values['z3_last_run_timestamp_seconds'],
    );
    expect(values['z3_last_run_duration_seconds']).toBeGreaterThan(0);
  });

  it(
    'a failed run updates exit code and duration and keeps the last success time',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS.slice(0, 1) } });
      const mem = new MemBackend();
      const env = { METRICS_FILE: join(dir, 'z3.prom') };
      await runBackup(
        backupOptions({ quiet: true, mode: 'full' }),
        testPorts({ backend: mem, zfs: zfs.program, env, now: clockFrom(T0) }),
      );
      const before = read();

      zfs.cleanup();
      zfs = createScriptedZfs({
        datasets: { 'tank/data': SNAPS },
        sends: { 'tank/data@snap-2': { size: 5000, failAfter: 100 } },
      });
      injected('stage death');
      const later = testPorts({
        backend: mem,
        zfs: zfs.program,
        env,
        now: clockFrom(T0 + 3_600_000),
      });
      await expect(runBackup(backupOptions({ quiet: true }), later)).rejects.toMatchObject({
        exitCode: EXIT.COMMAND_FAILED,
      });
      const after = read();
      expect(after['z3_last_run_exit_code']).toBe(EXIT.COMMAND_FAILED);
      expect(after['z3_last_run_timestamp_seconds']).toBeGreaterThanOrEqual(T0 / 1000 + 3600);
      expect(after['z3_uploaded_bytes']).toBe(0);
      expect(after['z3_last_success_timestamp_seconds']).toBe(
        before['z3_last_success_timestamp_seconds'],
      );
      expect(after['z3_stored_objects']).toBe(1);
      expect(after['z3_newest_backup_timestamp_seconds']).toBe(SCRIPTED_CREATION_BASE);
      expect([...mem.objects.keys()]).toEqual(['z3-backup/tank/data@snap-1']);
    },
  );

  it('a metrics file that cannot be written is a warning; the backup succeeds', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    const env = { METRICS_FILE: join(dir, 'missing', 'z3.prom') };
    const ports = testPorts({ backend: mem, zfs: zfs.program, env });
    expect(await runBackup(backupOptions({ quiet: true, mode: 'full' }), ports)).toBe(EXIT.OK);
    expect(ports.err()).toMatch(
      /^z3: warning: cannot write METRICS_FILE .*missing\/z3-[0-9a-f]{16}\.prom: ENOENT/m,
    );
    expect(mem.objects.size).toBe(1);
  });

  it('refuses a METRICS_FILE that the textfile collector would not read (exit 2)', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const mem = new MemBackend();
    const ports = testPorts({
      backend: mem,
      zfs: zfs.program,
      env: { METRICS_FILE: join(dir, 'z3.txt') },
    });
    const run = runBackup(backupOptions(), ports);
    await expect(run).rejects.toMatchObject({ exitCode: EXIT.USAGE });
    await expect(run).rejects.toThrow(
      /^environment METRICS_FILE: expected an absolute path ending in \.prom/,
    );
    expect(mem.objects.size).toBe(0);
  });

  it('a dry run leaves the metrics alone', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const ports = testPorts({
      backend: new MemBackend(),
      zfs: zfs.program,
      env: { METRICS_FILE: join(dir, 'z3.prom') },
    });
    expect(await runBackup(backupOptions({ dryRun: true, mode: 'full' }), ports)).toBe(EXIT.OK);
    expect(readdirSync(dir)).toEqual([]);
  });
});
