/** `z3 cleanup` on the memory backend (wrapped in FaultyBackend to see and fail aborts). */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, InterruptedError, StorageError } from '../errors.js';
import { journalPath, writeJournal } from '../resume/journal.js';
import { md5 } from '../storage/etag.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runCleanup } from './cleanup.js';
import { cleanupOptions, journalOf, portsOn, removeStateDirs } from './testing/cleanup-options.js';
import { eventsNamed, jsonLines } from './testing/json-lines.js';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const MiB = 1 << 20;
const PREFIX = 'z3-backup/';
const OLD = `${PREFIX}tank/data@old`;
const NEW = `${PREFIX}tank/data@new`;

/** A memory bucket whose clock the test sets before each write it starts. */
function clockedMem(): { mem: MemBackend; at: (ms: number) => void } {
  let now = NOW;
  return { mem: new MemBackend({ now: () => now }), at: (ms) => (now = ms) };
}

/** Start a write of `key` at `started` with one chunk of `bytes` bytes; its id. */
async function startWrite(
  bucket: ReturnType<typeof clockedMem>,
  input: { key: string; started: number; bytes: number },
): Promise<string> {
  bucket.at(input.started);
  const writer = await bucket.mem.openWriter({ key: input.key, metadata: {}, chunkSize: 4 * MiB });
  const body = Buffer.alloc(input.bytes, 7);
  await writer.writeChunk({ number: 1, body, md5: md5(body) });
  bucket.at(NOW);
  return writer.id;
}

/** A stale write (3 MiB), a young one (1.5 MiB), a stale one under another prefix, an object. */
async function seeded(): Promise<{ bucket: ReturnType<typeof clockedMem>; ids: string[] }> {
  const bucket = clockedMem();
  bucket.mem.seed(`${PREFIX}tank/data@done`, Buffer.alloc(10), { isfull: 'true' });
  const ids = [
    await startWrite(bucket, { key: OLD, started: NOW - 8 * DAY, bytes: 3 * MiB }),
    await startWrite(bucket, { key: NEW, started: NOW - 2 * HOUR, bytes: 1.5 * MiB }),
    await startWrite(bucket, { key: 'other/tank/data@old', started: NOW - 30 * DAY, bytes: 9 }),
  ];
  return { bucket, ids };
}

function pendingKeys(mem: MemBackend): string[] {
  return [...mem.pending.values()].map((p) => p.key).sort();
}

afterEach(removeStateDirs);

describe('runCleanup', () => {
  it('aborts writes older than 7d under the prefix; keeps young ones, other prefixes, objects', async () => {
    const { bucket, ids } = await seeded();
    const faulty = new FaultyBackend(bucket.mem);
    const ports = portsOn(faulty);
    expect(await runCleanup(cleanupOptions(), ports)).toBe(EXIT.OK);
    expect(faulty.ops('abortPending').map((c) => c.key)).toEqual([`${PREFIX}tank/data@old`]);
    expect(pendingKeys(bucket.mem)).toEqual(['other/tank/data@old', `${PREFIX}tank/data@new`]);
    expect([...bucket.mem.objects.keys()]).toEqual([`${PREFIX}tank/data@done`]);
    expect(ports.out().split('\n')).toEqual([
      `abort  8d    3 M  ${OLD}  (upload ${ids[0]})`,
      `keep   2h  1.5 M  ${NEW}  (upload ${ids[1]})  younger than 7d`,
      'abort 1 (3 M), keep 1',
      '',
    ]);
  });

  it('--dry-run shows what it would abort and aborts nothing', async () => {
    const { bucket, ids } = await seeded();
    const faulty = new FaultyBackend(bucket.mem);
    const ports = portsOn(faulty);
    expect(await runCleanup(cleanupOptions({ dryRun: true, olderThan: '1h' }), ports)).toBe(0);
    expect(faulty.ops('abortPending')).toEqual([]);
    expect(pendingKeys(bucket.mem)).toHaveLength(3);
    expect(ports.out().split('\n')).toEqual([
      `would abort  2h  1.5 M  ${NEW}  (upload ${ids[1]})`,
      `would abort  8d    3 M  ${OLD}  (upload ${ids[0]})`,
      'would abort 2 (4.5 M), keep 0',
      '',
    ]);
  });

  it('--older-than 0 aborts every pending write under the prefix, however young', async () => {
    const { bucket } = await seeded();
    const ports = portsOn(bucket.mem);
    expect(await runCleanup(cleanupOptions({ olderThan: '0' }), ports)).toBe(EXIT.OK);
    expect(pendingKeys(bucket.mem)).toEqual(['other/tank/data@old']);
  });

  it('--s3-prefix chooses where it looks', async () => {
    const { bucket } = await seeded();
    const ports = portsOn(bucket.mem);
    expect(await runCleanup(cleanupOptions({ s3Prefix: 'other' }), ports)).toBe(EXIT.OK);
    expect(pendingKeys(bucket.mem)).toEqual([`${PREFIX}tank/data@new`, `${PREFIX}tank/data@old`]);
  });

  it('with nothing pending says so in its summary and exits 0', async () => {
    const ports = portsOn(new MemBackend());
    expect(await runCleanup(cleanupOptions(), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe('abort 0 (0 M), keep 0\n');
  });

  it('--json: start, a pending event per write, upload-aborted per abort done, summary', async () => {
    const { bucket, ids } = await seeded();
    const ports = portsOn(bucket.mem);
    expect(await runCleanup(cleanupOptions({ json: true }), ports)).toBe(EXIT.OK);
    const events = jsonLines(ports.out());
    expect(events.map((e) => e['event'])).toEqual([
      'start',
      'pending',
      'pending',
      'upload-aborted',
      'summary',
    ]);
    expect(events[0]).toMatchObject({ command: 'cleanup', target: 's3://test-bucket/z3-backup/' });
    expect(eventsNamed(events, 'pending')).toEqual([
      expect.objectContaining({
        key: `${PREFIX}tank/data@old`,
        id: ids[0],
        started: new Date(NOW - 8 * DAY).toISOString(),
        action: 'abort',
        reason: null,
        bytes: 3 * MiB,
      }),
      expect.objectContaining({ key: `${PREFIX}tank/data@new`, action: 'keep', reason: 'younger' }),
    ]);
    expect(eventsNamed(events, 'upload-aborted')).toEqual([
      expect.objectContaining({ key: OLD, id: ids[0], bytes: 3 * MiB }),
    ]);
    expect(events.at(-1)).toMatchObject({ code: 0, objects: 1, bytes: 3 * MiB });
  });

  it.each(['7x', '-1d', '7', '1.5d'])(
    '--older-than %j is bad input: exit 2 with one line naming the flag, nothing listed',
    { tags: ['faults'] },
    async (olderThan) => {
      const { bucket } = await seeded();
      const faulty = new FaultyBackend(bucket.mem);
      const ports = portsOn(faulty);
      const run = runCleanup(cleanupOptions({ olderThan }), ports);
      injected('bad input');
      await expect(run).rejects.toMatchObject({
        exitCode: EXIT.USAGE,
        message: `--older-than '${olderThan}': expected 0 or a duration such as 90m, 36h or 7d (m minutes, h hours, d days)`,
        hint: undefined,
      });
      expect(faulty.calls).toEqual([]);
      expect(pendingKeys(bucket.mem)).toHaveLength(3);
    },
  );

  it(
    'a failed abort stops the run with exit 5 and says how far it got',
    { tags: ['faults'] },
    async () => {
      const { bucket } = await seeded();
      const faulty = new FaultyBackend(bucket.mem, (call) => {
        if (call.op === 'abortPending' && call.key.endsWith('@old')) {
          throw new StorageError('AbortMultipartUpload: 503 SlowDown');
        }
      });
      const ports = portsOn(faulty);
      const run = runCleanup(cleanupOptions({ olderThan: '1h' }), ports);
      await expect(run).rejects.toMatchObject({ exitCode: EXIT.STORAGE });
      injected('S3 error', faulty.thrown);
      expect(pendingKeys(bucket.mem)).toEqual(['other/tank/data@old', `${PREFIX}tank/data@old`]);
      expect(ports.err()).toContain('cleanup stopped after aborting 1 of 2 pending uploads');
    },
  );

  it('keeps a write a journal of this target names, however old; a journal of another target keeps none', async () => {
    const { bucket, ids } = await seeded();
    const ports = portsOn(bucket.mem);
    const mine = journalOf({ target: bucket.mem.location, key: OLD, uploadId: ids[0]! });
    await writeJournal(journalPath(ports.stateDir, mine.target, OLD), mine);
    const elsewhere = { ...mine, target: 's3://another-bucket', key: NEW, uploadId: ids[1]! };
    await writeJournal(journalPath(ports.stateDir, elsewhere.target, NEW), elsewhere);

    expect(await runCleanup(cleanupOptions({ olderThan: '0' }), ports)).toBe(EXIT.OK);

    expect(pendingKeys(bucket.mem)).toEqual(['other/tank/data@old', OLD]);
    expect(ports.out().split('\n')).toEqual([
      `abort  2h  1.5 M  ${NEW}  (upload ${ids[1]})`,
      `keep   8d    3 M  ${OLD}  (upload ${ids[0]})  a journal in STATE_DIR names it: the next backup resumes it`,
      'abort 1 (1.5 M), keep 1',
      '',
    ]);
  });

  it('an unreadable journal keeps no write, and a warning names it', async () => {
    const { bucket } = await seeded();
    const ports = portsOn(bucket.mem);
    const file = journalPath(ports.stateDir, bucket.mem.location, OLD);
    const mine = journalOf({ target: bucket.mem.location, key: OLD, uploadId: 'x' });
    await writeJournal(file, mine);
    writeFileSync(file, '{"version":1,"target":"mem:","key":"z3-b'); // torn

    expect(await runCleanup(cleanupOptions(), ports)).toBe(EXIT.OK);

    expect(pendingKeys(bucket.mem)).toEqual(['other/tank/data@old', NEW]);
    expect(ports.err()).toBe(
      `z3: warning: resume journal ${file} is unreadable (not valid JSON (torn or corrupted)); it keeps no upload\n`,
    );
  });

  it('a write completed between the listing and its byte count is left out', async () => {
    const { bucket, ids } = await seeded();
    const faulty = new FaultyBackend(bucket.mem, (call) => {
      if (call.op === 'listChunks' && call.key === OLD) bucket.mem.pending.delete(ids[0]!);
    });
    const ports = portsOn(faulty);
    expect(await runCleanup(cleanupOptions(), ports)).toBe(EXIT.OK);
    expect(faulty.ops('abortPending')).toEqual([]);
    expect(ports.out()).toMatch(/^abort 0 \(0 M\), keep 1$/m);
  });

  it(
    'SIGTERM between two aborts stops the run with exit 130; what was aborted stays aborted',
    { tags: ['faults'] },
    async () => {
      const { bucket } = await seeded();
      const faulty = new FaultyBackend(bucket.mem);
      const ports = portsOn(faulty);
      faulty.script = (call) => {
        if (call.op === 'abortPending' && call.key === NEW) {
          ports.controller.abort(new InterruptedError());
        }
      };
      const run = runCleanup(cleanupOptions({ olderThan: '1h' }), ports);
      await expect(run).rejects.toMatchObject({ exitCode: EXIT.INTERRUPTED });
      injected('signal');
      expect(faulty.ops('abortPending').map((c) => c.key)).toEqual([NEW]);
      expect(pendingKeys(bucket.mem)).toEqual(['other/tank/data@old', OLD]);
      expect(ports.err()).toContain('cleanup stopped after aborting 1 of 2 pending uploads');
    },
  );
});
