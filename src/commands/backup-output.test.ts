/**
 * What `z3 backup` reports, and that reporting can never decide the fate of a transfer: a
 * closed stderr or stdout (EPIPE) mid-run still backs up every snapshot; the success line gives
 * the bytes stored, not the estimate, and a stream far below its estimate is warned about.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { injected } from '../testing/faults.js';
import { MemBackend } from '../storage/mem/backend.js';
import { runBackup, type BackupOptions } from './backup.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { brokenPipeSink, testPorts } from './testing/ports.js';
import { backupOptions } from './testing/backup-options.js';

const MiB = 1024 * 1024;
const SNAPS = ['tank/data@snap-1', 'tank/data@snap-2', 'tank/data@snap-3'];
/** Three 5 MiB parts each, so progress is drawn between parts of one upload. */
const BIG = { size: 12 * MiB };

function options(over: Partial<BackupOptions> = {}): BackupOptions {
  return backupOptions({ concurrency: '1', ...over });
}

/** A clock 11 s further on at every reading: every progress `add` draws a line. */
function tickingClock(): () => number {
  let t = Date.parse('2026-11-26T00:00:00Z');
  return () => (t += 11_000);
}

/** Let the sinks' pending 'error' events fire (they are emitted on a later tick). */
function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** snap-1 already stored as a full backup, so the run sends snap-2 and snap-3. */
function bucketWithFirstBackup(): MemBackend {
  const mem = new MemBackend();
  mem.seed('z3-backup/tank/data@snap-1', Buffer.from('x'), { isfull: 'true', size: '1' });
  return mem;
}

describe('runBackup with a dead output', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it(
    'backs up every snapshot when stderr fails with EPIPE after the first progress line',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({
        datasets: { 'tank/data': SNAPS },
        sends: { 'tank/data@snap-2': BIG, 'tank/data@snap-3': BIG },
      });
      const mem = bucketWithFirstBackup();
      const stderr = brokenPipeSink(1);
      const ports = testPorts({ backend: mem, zfs: zfs.program, stderr, now: tickingClock() });
      injected('output failure');

      expect(await runBackup(options(), ports)).toBe(EXIT.OK);
      await settled();
      // the first line went out after part 1 of snap-2, the second failed (mid-upload, not
      // fatal), and nothing more was drawn
      expect(stderr.text()).toMatch(/^tank\/data@snap-2: 5\.00 MiB \/ 12\.0 MiB/);
      expect(stderr.failedWrites()).toBe(1);
      expect(stderr.unhandledErrors()).toBe(0);
      expect([...mem.objects.keys()].sort()).toEqual([
        'z3-backup/tank/data@snap-1',
        'z3-backup/tank/data@snap-2',
        'z3-backup/tank/data@snap-3',
      ]);
      expect(mem.pending.size).toBe(0);
      expect(ports.out()).toBe(
        'Successfuly backed up tank/data@snap-2: 12 M.\n' +
          'Successfuly backed up tank/data@snap-3: 12 M.\n',
      );
    },
  );

  it(
    'keeps what it backed up, exit 0, when stdout fails with EPIPE on the success lines',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: { 'tank/data': SNAPS } });
      const mem = bucketWithFirstBackup();
      const stdout = brokenPipeSink(0);
      const ports = testPorts({ backend: mem, zfs: zfs.program, stdout });
      injected('output failure');

      expect(await runBackup(options(), ports)).toBe(EXIT.OK);
      await settled();
      expect(stdout.failedWrites()).toBe(2);
      expect(stdout.unhandledErrors()).toBe(0);
      expect(mem.objects.size).toBe(3);
      expect(mem.pending.size).toBe(0);
    },
  );
});

describe('runBackup success lines', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  /** A zfs whose send of snap-2 exits 0 after 100 bytes of a 1 GiB estimate. */
  function shortSend(): { mem: MemBackend; ports: ReturnType<typeof testPorts> } {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS.slice(0, 2) },
      sends: { 'tank/data@snap-2': { size: 100, estimate: 1024 * MiB } },
    });
    const mem = bucketWithFirstBackup();
    return { mem, ports: testPorts({ backend: mem, zfs: zfs.program }) };
  }

  it('report the bytes stored, not the estimate, and warn when far below it', async () => {
    const { mem, ports } = shortSend();
    expect(await runBackup(options({ quiet: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe('Successfuly backed up tank/data@snap-2: 0 M.\n');
    expect(ports.err()).toBe(
      'z3: warning: tank/data@snap-2: stored 100 B, far below the send estimate of 1.00 GiB; ' +
        "check the dataset and this backup ('z3 status')\n",
    );
    // the metadata keeps the estimate: its meaning is fixed by the format (spec 4.3)
    expect(mem.objects.get('z3-backup/tank/data@snap-2')?.metadata['size']).toBe('1073741824');
  });

  it('--parseable prints the stored byte count', async () => {
    const { ports } = shortSend();
    expect(await runBackup(options({ quiet: true, parseable: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe('tank/data@snap-2\u0000100\n');
  });

  it('warn about nothing when the stream matches its estimate', async () => {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': SNAPS.slice(0, 2) },
      sends: { 'tank/data@snap-2': { size: 2 * MiB } },
    });
    const ports = testPorts({ backend: bucketWithFirstBackup(), zfs: zfs.program });
    expect(await runBackup(options({ quiet: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe('Successfuly backed up tank/data@snap-2: 2 M.\n');
    expect(ports.err()).toBe('');
  });
});
