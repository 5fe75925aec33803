/**
 * `z3 backup` resume (issue 9 items 1 and 4) on the memory backend with a scripted `zfs`:
 * SIGTERM mid-upload keeps the pending upload and its journal (exit 130), and the next run
 * takes it up, sends only the parts that were missing, and commits the whole stream.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, exitCodeOf, InterruptedError, StorageError } from '../errors.js';
import { markerKey, SEGMENT_DIR_KEY, segmentKey } from '../plan/segments.js';
import { listJournals } from '../resume/journal.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runBackup } from './backup.js';
import { backupOptions } from './testing/backup-options.js';
import { testPorts } from './testing/ports.js';
import { createScriptedZfs, scriptedStream, type ScriptedZfs } from './testing/scripted-zfs.js';

const MiB = 1024 * 1024;
const SNAP = 'tank/data@snap-1';
const KEY = `z3-backup/${SNAP}`;
const SIZE = 12 * MiB; // three 5 MiB parts, the last of 2 MiB

describe('z3 backup resume', () => {
  let zfs: ScriptedZfs | undefined;
  let stateDir = '';
  afterEach(() => {
    zfs?.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /**
   * The first run: a send that pauses after 6 MiB, so part 1 is written, then SIGTERM. Asserts
   * exit 130; returns that run's ports.
   */
  async function interruptedAfterPartOne(
    mem: MemBackend,
    env: Record<string, string>,
  ): Promise<ReturnType<typeof testPorts>> {
    zfs = createScriptedZfs({
      datasets: { 'tank/data': [SNAP] },
      sends: { [SNAP]: { size: SIZE, pauseAfter: 6 * MiB, pauseMs: 60_000 } },
    });
    const first = new FaultyBackend(mem);
    const ports1 = testPorts({ backend: first, zfs: zfs.program, env });
    first.script = ({ op, isAfter }) => {
      if (op === 'writeChunk' && isAfter !== true) {
        setTimeout(
          () => ports1.controller.abort(new InterruptedError('interrupted by SIGTERM')),
          200,
        );
      }
    };
    const failure = await runBackup(backupOptions({ mode: 'full', quiet: true }), ports1).catch(
      (e: unknown) => e,
    );
    injected('signal', 1);
    expect(exitCodeOf(failure, ports1.signal), ports1.err()).toBe(EXIT.INTERRUPTED);
    return ports1;
  }

  /**
   * The next run: the same zfs, snapshot, stream and part size, but the send does not pause.
   * Asserts exit 0; returns its backend (to see what it wrote) and ports.
   */
  async function resumedRun(
    mem: MemBackend,
    env: Record<string, string>,
  ): Promise<{ second: FaultyBackend; ports2: ReturnType<typeof testPorts> }> {
    if (zfs === undefined) throw new Error('no first run');
    const statePath = join(dirname(zfs.program), 'state.json');
    writeFileSync(statePath, JSON.stringify({ ...zfs.state(), sends: { [SNAP]: { size: SIZE } } }));
    const second = new FaultyBackend(mem);
    const ports2 = testPorts({ backend: second, zfs: zfs.program, env });
    expect(await runBackup(backupOptions({ mode: 'full', quiet: true }), ports2)).toBe(EXIT.OK);
    return { second, ports2 };
  }

  it(
    'SIGTERM keeps the upload and its journal (exit 130); the next run resumes it and sends only the rest',
    { tags: ['faults'] },
    async () => {
      stateDir = mkdtempSync(join(tmpdir(), 'z3-resume-state-'));
      const env = { STATE_DIR: stateDir, CHUNK_SIZE: '5M' };
      const mem = new MemBackend();
      const ports1 = await interruptedAfterPartOne(mem, env);
      expect(mem.objects.size).toBe(0);
      const [pending] = await mem.listPending('');
      expect(mem.pending.get(pending!.id)?.chunks.size).toBe(1);
      const journals = await listJournals(stateDir);
      expect(journals.map((j) => j.journal?.uploadId)).toEqual([pending!.id]);
      expect(ports1.err()).toContain(
        `z3: interrupted; 1 parts of ${KEY} kept for the next run (journal ${journals[0]!.file})`,
      );

      const { second, ports2 } = await resumedRun(mem, env);
      expect(second.ops('openWriter'), ports2.err()).toEqual([]);
      expect(
        second
          .ops('writeChunk')
          .map((c) => c.chunk)
          .sort(),
      ).toEqual([2, 3]);
      expect(ports2.err()).toContain(
        `z3: resuming ${KEY}: 1 of 3 parts (5.00 MiB) already on the server, verified\n`,
      );
      expect(mem.objects.get(KEY)?.data.equals(scriptedStream(SNAP, '', SIZE))).toBe(true);
      expect(mem.objects.get(KEY)?.metadata).toMatchObject({ isfull: 'true', size: String(SIZE) });
      expect(await mem.listPending('')).toEqual([]);
      expect(readdirSync(join(stateDir, 'uploads'))).toEqual([]);
    },
  );

  it(
    'a segmented backup interrupted after its first segment resumes into the same segment layout',
    { tags: ['faults'] },
    async () => {
      stateDir = mkdtempSync(join(tmpdir(), 'z3-resume-state-'));
      // Segments of one 5 MiB part: 12 MiB is three segments (5, 5 and 2 MiB).
      const env = { STATE_DIR: stateDir, CHUNK_SIZE: '5M', SEGMENT_SIZE: '5M' };
      const mem = new MemBackend();
      await interruptedAfterPartOne(mem, env);
      const [pending] = await mem.listPending(KEY);
      const dir = mem.pending.get(pending!.id)?.metadata[SEGMENT_DIR_KEY];
      expect(dir).toMatch(/\.z3\/segments\//);

      const { ports2 } = await resumedRun(mem, env);
      expect(ports2.err()).toContain(`z3: resuming ${KEY}: 1 of 1 parts (5.00 MiB) already`);
      expect(mem.objects.get(KEY)?.metadata[SEGMENT_DIR_KEY]).toBe(dir);
      const stored = Buffer.concat(
        [KEY, segmentKey(dir!, 2), segmentKey(dir!, 3)].map((k) => mem.objects.get(k)!.data),
      );
      expect(stored.equals(scriptedStream(SNAP, '', SIZE))).toBe(true);
      expect(mem.objects.has(markerKey(dir!, 3))).toBe(true);
      expect(await mem.listPending('')).toEqual([]);
    },
  );

  it(
    'a storage outage that outlasts the retries keeps the upload and its journal (exit 5)',
    { tags: ['faults'] },
    async () => {
      stateDir = mkdtempSync(join(tmpdir(), 'z3-resume-state-'));
      const mem = new MemBackend();
      zfs = createScriptedZfs({
        datasets: { 'tank/data': [SNAP] },
        sends: { [SNAP]: { size: SIZE } },
      });
      // Part 1 goes up; part 2 meets the outage (the retry wrapper's last attempt failed too).
      const backend = new FaultyBackend(mem, ({ op, chunk }) => {
        if (op === 'writeChunk' && chunk !== 1) {
          throw new StorageError('uploading part: 503 ServiceUnavailable', { isRetryable: true });
        }
      });
      const env = { STATE_DIR: stateDir, CHUNK_SIZE: '5M', CONCURRENCY: '1' };
      const ports = testPorts({ backend, zfs: zfs.program, env });
      const failure = await runBackup(backupOptions({ mode: 'full', quiet: true }), ports).catch(
        (e: unknown) => e,
      );
      injected('S3 error', backend.thrown);
      expect(exitCodeOf(failure, ports.signal)).toBe(EXIT.STORAGE);
      expect(ports.err()).toMatch(
        new RegExp(`z3: upload failed; 1 parts of ${KEY} kept for the next run \\(journal `),
      );
      expect(await mem.listPending('')).toHaveLength(1);
      expect(await listJournals(stateDir)).toHaveLength(1);
    },
  );

  it('a failure that cannot be resumed (the send dies) aborts the upload and removes the journal', async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'z3-resume-state-'));
    const mem = new MemBackend();
    zfs = createScriptedZfs({
      datasets: { 'tank/data': [SNAP] },
      sends: { [SNAP]: { size: SIZE, failAfter: 7 * MiB } },
    });
    const ports = testPorts({
      backend: mem,
      zfs: zfs.program,
      env: { STATE_DIR: stateDir, CHUNK_SIZE: '5M' },
    });
    await expect(runBackup(backupOptions({ mode: 'full', quiet: true }), ports)).rejects.toThrow(
      /scripted send failure/,
    );
    expect(await mem.listPending('')).toEqual([]);
    expect(await listJournals(stateDir)).toEqual([]);
  });
});
