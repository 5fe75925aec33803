/**
 * `z3 backup --json`: every stdout line is one JSON object of the documented schema (version 1):
 * start, progress (at most once a second per snapshot), object (key, bytes, seconds, ETag),
 * warning, error (code, message) and summary; without the flag the output is as
 * before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runBackup } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts } from './testing/ports.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';

const MiB = 1024 * 1024;
const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2'];
const T0 = Date.parse('2026-11-26T00:00:00Z');

/** A clock 1.1 s further on at every reading: no progress event is throttled. */
function clock(): () => number {
  let t = T0;
  return () => (t += 1100);
}

type Event = Record<string, unknown>;

/** Every stdout line parsed; a line that is not one JSON object fails the test. */
function events(stdout: string): Event[] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const event = JSON.parse(line) as Event;
      expect(event).toMatchObject({ version: 1, time: expect.any(String) as unknown });
      expect(Number.isNaN(Date.parse(event['time'] as string))).toBe(false);
      return event;
    });
}

describe('runBackup --json', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it('writes start, progress, one object per snapshot and a summary', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS },
      sends: { 'tank/data@snap-2': { size: 12 * MiB } },
    });
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true', size: '1' });
    const ports = testPorts({ backend: mem, zfs: zfs.program, now: clock() });
    const code = await runBackup(
      backupOptions({ json: true, quiet: true, concurrency: '1' }),
      ports,
    );
    expect(code).toBe(EXIT.OK);
    const all = events(ports.out());
    expect(all.map((e) => e['event'])).toEqual([
      'start',
      'progress',
      'progress',
      'progress',
      'object',
      'summary',
    ]);
    expect(all[0]).toMatchObject({
      event: 'start',
      command: 'backup',
      dataset: 'tank/data',
      target: 's3://test-bucket/z3-backup/',
    });
    const progress = all.filter((e) => e['event'] === 'progress');
    expect(progress.map((e) => e['bytes'])).toEqual([5 * MiB, 10 * MiB, 12 * MiB]);
    expect(progress.every((e) => e['total'] === 12 * MiB && e['snapshot'] === SNAPS[1])).toBe(true);
    const object = mem.objects.get('z3-backup/tank/data@snap-2');
    expect(all[4]).toEqual({
      version: 1,
      event: 'object',
      time: all[4]?.['time'],
      snapshot: 'tank/data@snap-2',
      key: 'z3-backup/tank/data@snap-2',
      bytes: 12 * MiB,
      seconds: expect.any(Number) as unknown,
      etag: object?.etag,
    });
    expect(all[5]).toMatchObject({ event: 'summary', code: 0, objects: 1, bytes: 12 * MiB });
    expect(all[5]?.['seconds']).toBeGreaterThan(0);
  });

  it(
    'reports a failure as error and summary with the exit code',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({
        datasets: { 'tank/data': SNAPS },
        sends: { 'tank/data@snap-1': { size: 4000, failAfter: 100 } },
      });
      const mem = new MemBackend();
      const ports = testPorts({ backend: mem, zfs: zfs.program });
      injected('stage death');
      const run = runBackup(backupOptions({ json: true, mode: 'full', snapshot: 'snap-1' }), ports);
      await expect(run).rejects.toMatchObject({ exitCode: EXIT.COMMAND_FAILED });
      const all = events(ports.out());
      // a progress event of the 100 bytes sent before zfs died may come first
      const rest = all.filter((e) => e['event'] !== 'progress');
      expect(rest.map((e) => e['event'])).toEqual(['start', 'error', 'summary']);
      expect(rest[1]).toMatchObject({
        code: EXIT.COMMAND_FAILED,
        message: expect.stringMatching(/zfs/) as unknown,
      });
      expect(rest[2]).toMatchObject({ code: EXIT.COMMAND_FAILED, objects: 0, bytes: 0 });
      expect(mem.objects.size).toBe(0);
    },
  );

  it('reports a config error as error and summary (exit 2)', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const ports = testPorts({
      backend: new MemBackend(),
      zfs: zfs.program,
      env: { CONCURRENCY: 'lots' },
    });
    await expect(runBackup(backupOptions({ json: true }), ports)).rejects.toMatchObject({
      exitCode: EXIT.USAGE,
    });
    const all = events(ports.out());
    expect(all.map((e) => e['event'])).toEqual(['error', 'summary']);
    expect(all[0]?.['message']).toMatch(/^environment CONCURRENCY: /);
  });

  it('warns in an event too when the stream is far below its estimate', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS },
      sends: { 'tank/data@snap-2': { size: 4000, estimate: 100 * MiB } },
    });
    const mem = new MemBackend();
    mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true', size: '1' });
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runBackup(backupOptions({ json: true, quiet: true }), ports)).toBe(EXIT.OK);
    const warning = events(ports.out()).find((e) => e['event'] === 'warning');
    expect(warning?.['message']).toMatch(
      /^tank\/data@snap-2: stored .*far below the send estimate/,
    );
    expect(ports.err()).toContain('z3: warning: tank/data@snap-2: stored');
  });

  it('without --json, stdout has the result lines as before and no JSON', async () => {
    zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
    const ports = testPorts({ backend: new MemBackend(), zfs: zfs.program });
    expect(await runBackup(backupOptions({ mode: 'full', quiet: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe('Successfuly backed up tank/data@snap-2: 0 M.\n');
  });
});
