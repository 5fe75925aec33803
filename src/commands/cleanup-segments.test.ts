/**
 * `z3 cleanup` and orphaned segment directories (segments 2..N of a backup whose object was
 * never committed) on the memory backend: old ones removed, young ones and owned ones kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, StorageError } from '../errors.js';
import { journalPath, writeJournal } from '../resume/journal.js';
import { SEGMENT_DIR_KEY } from '../plan/segments.js';
import type { Backend } from '../storage/backend.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runCleanup } from './cleanup.js';
import { cleanupOptions, journalOf, portsOn, removeStateDirs } from './testing/cleanup-options.js';
import { eventsNamed, jsonLines } from './testing/json-lines.js';
import { orphanedSegments, segmentedBackup, SEGMENT_LIMITS } from './testing/segmented.js';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const MiB = 1 << 20;
const PREFIX = 'z3-backup/';

/** A bucket with an owned segmented backup (30d), an orphan of 8d and one of 2h. */
async function seeded() {
  let now = NOW;
  const mem = new MemBackend({ limits: SEGMENT_LIMITS, now: () => now });
  const at = async <T>(ms: number, write: () => Promise<T>): Promise<T> => {
    now = ms;
    const result = await write();
    now = NOW;
    return result;
  };
  const on = (snapshotName: string) => ({ prefix: PREFIX, snapshotName });
  const owned = await at(NOW - 30 * DAY, () => segmentedBackup(mem, on('tank/data@owned')));
  const old = await at(NOW - 8 * DAY, () => orphanedSegments(mem, on('tank/data@dead')));
  const young = await at(NOW - 2 * HOUR, () => orphanedSegments(mem, on('tank/data@running')));
  const bytesIn = (dir: string): number =>
    [...mem.objects].filter(([k]) => k.startsWith(dir)).reduce((n, [, o]) => n + o.data.length, 0);
  return { mem, owned, old, young, oldBytes: bytesIn(old), youngBytes: bytesIn(young) };
}

function keysIn(mem: MemBackend, dir: string): string[] {
  return [...mem.objects.keys()].filter((k) => k.startsWith(dir));
}

afterEach(removeStateDirs);

const YOUNG_REASON =
  'younger than 7d: a backup uploading now owns its segments only once it commits';

describe('runCleanup and orphaned segments', () => {
  it('removes every object of an old orphan, keeps a young one and an owned one', async () => {
    const s = await seeded();
    const ownedKeys = keysIn(s.mem, s.owned);
    const youngKeys = keysIn(s.mem, s.young);
    expect(keysIn(s.mem, s.old)).toHaveLength(3);
    expect(s.oldBytes).toBeGreaterThan(1.5 * MiB);
    const faulty = new FaultyBackend(s.mem);
    const ports = portsOn(faulty);

    expect(await runCleanup(cleanupOptions(), ports)).toBe(EXIT.OK);

    expect(keysIn(s.mem, s.old)).toEqual([]);
    expect(keysIn(s.mem, s.young)).toEqual(youngKeys);
    expect(keysIn(s.mem, s.owned)).toEqual(ownedKeys);
    expect(s.mem.objects.has(`${PREFIX}tank/data@owned`)).toBe(true);
    expect(faulty.ops('remove').every((c) => c.key.startsWith(s.old))).toBe(true);
    expect(ports.out().split('\n')).toEqual([
      `remove  8d  1.5 M  ${s.old}  (3 orphaned segment objects of tank/data@dead)`,
      `keep    2h  1.5 M  ${s.young}  (3 orphaned segment objects of tank/data@running)  ${YOUNG_REASON}`,
      'abort 0 (0 M), keep 0; remove 1 orphaned segment directory (1.5 M), keep 1',
      '',
    ]);
  });

  it('--dry-run shows what it would remove with its bytes and removes nothing', async () => {
    const s = await seeded();
    const before = [...s.mem.objects.keys()];
    const faulty = new FaultyBackend(s.mem);
    const ports = portsOn(faulty);
    expect(await runCleanup(cleanupOptions({ dryRun: true, olderThan: '1h' }), ports)).toBe(0);
    expect(faulty.ops('remove')).toEqual([]);
    expect([...s.mem.objects.keys()]).toEqual(before);
    expect(ports.out().split('\n')).toEqual([
      `would remove  8d  1.5 M  ${s.old}  (3 orphaned segment objects of tank/data@dead)`,
      `would remove  2h  1.5 M  ${s.young}  (3 orphaned segment objects of tank/data@running)`,
      'would abort 0 (0 M), keep 0; would remove 2 orphaned segment directories (3 M), keep 0',
      '',
    ]);
  });

  it('--json: an orphan-segments event per directory, segments-removed per removal, counted', async () => {
    const s = await seeded();
    const ports = portsOn(s.mem);
    expect(await runCleanup(cleanupOptions({ json: true }), ports)).toBe(EXIT.OK);
    const events = jsonLines(ports.out());
    expect(events.map((e) => e['event'])).toEqual([
      'start',
      'orphan-segments',
      'orphan-segments',
      'segments-removed',
      'summary',
    ]);
    expect(eventsNamed(events, 'orphan-segments')).toEqual([
      expect.objectContaining({
        dir: s.old,
        snapshot: 'tank/data@dead',
        newest: new Date(NOW - 8 * DAY).toISOString(),
        action: 'remove',
        reason: null,
        objects: 3,
        bytes: s.oldBytes,
      }),
      expect.objectContaining({
        dir: s.young,
        action: 'keep',
        reason: 'younger',
        bytes: s.youngBytes,
      }),
    ]);
    expect(eventsNamed(events, 'segments-removed')).toEqual([
      expect.objectContaining({ dir: s.old, objects: 3, bytes: s.oldBytes }),
    ]);
    expect(events.at(-1)).toMatchObject({ code: 0, objects: 3, bytes: s.oldBytes });
  });

  it('keeps a directory a journal of this target names (the next backup resumes into it)', async () => {
    const s = await seeded();
    const ports = portsOn(s.mem);
    const key = `${PREFIX}tank/data@dead`;
    const journal = journalOf({ target: s.mem.location, key, uploadId: 'u1' });
    journal.metadata = { ...journal.metadata, [SEGMENT_DIR_KEY]: s.old };
    await writeJournal(journalPath(ports.stateDir, journal.target, key), journal);
    const oldKeys = keysIn(s.mem, s.old);

    expect(await runCleanup(cleanupOptions({ olderThan: '0' }), ports)).toBe(EXIT.OK);

    expect(keysIn(s.mem, s.old)).toEqual(oldKeys);
    expect(keysIn(s.mem, s.young)).toEqual([]);
    expect(ports.out()).toContain(
      `keep    8d  1.5 M  ${s.old}  (3 orphaned segment objects of tank/data@dead)  a journal in STATE_DIR names it: the next backup resumes it`,
    );
  });

  it('a backend that lists no LastModified: kept as age unknown unless --older-than 0', async () => {
    const s = await seeded();
    const list = (prefix: string) => blankDates(s.mem.list(prefix));
    const undated: Backend = Object.assign(Object.create(s.mem) as Backend, { list });
    const ports = portsOn(undated);
    expect(await runCleanup(cleanupOptions(), ports)).toBe(EXIT.OK);
    expect(keysIn(s.mem, s.old)).toHaveLength(3);
    const why = 'age unknown: only --older-than 0 removes it';
    expect(ports.out().split('\n')).toEqual([
      `keep  ?  1.5 M  ${s.old}  (3 orphaned segment objects of tank/data@dead)  ${why}`,
      `keep  ?  1.5 M  ${s.young}  (3 orphaned segment objects of tank/data@running)  ${why}`,
      'abort 0 (0 M), keep 0; remove 0 orphaned segment directories (0 M), keep 2',
      '',
    ]);
    expect(await runCleanup(cleanupOptions({ olderThan: '0' }), portsOn(undated))).toBe(EXIT.OK);
    expect(keysIn(s.mem, s.old)).toEqual([]);
    expect(keysIn(s.mem, s.young)).toEqual([]);
    expect(keysIn(s.mem, s.owned)).toHaveLength(3);
    expect(s.mem.objects.has(`${PREFIX}tank/data@owned`)).toBe(true);
  });

  it(
    'a failed removal stops the run with exit 5, says how far it got; the next run finishes',
    { tags: ['faults'] },
    async () => {
      const s = await seeded();
      const [first, second] = keysIn(s.mem, s.old);
      const faulty = new FaultyBackend(s.mem, (call) => {
        if (call.op === 'remove' && call.key === second) throw new StorageError('503 SlowDown');
      });
      const ports = portsOn(faulty);
      const run = runCleanup(cleanupOptions({ olderThan: '1h' }), ports);
      await expect(run).rejects.toMatchObject({ exitCode: EXIT.STORAGE });
      injected('S3 error', faulty.thrown);
      expect(keysIn(s.mem, s.old)).not.toContain(first);
      expect(keysIn(s.mem, s.old)).toContain(second);
      expect(ports.err()).toContain(
        'z3: cleanup stopped after removing 0 of 2 orphaned segment directories; run it again to finish',
      );
      expect(await runCleanup(cleanupOptions({ olderThan: '1h' }), portsOn(s.mem))).toBe(EXIT.OK);
      expect(keysIn(s.mem, s.old)).toEqual([]);
      expect(keysIn(s.mem, s.young)).toEqual([]);
      expect(keysIn(s.mem, s.owned)).toHaveLength(3);
    },
  );
});

async function* blankDates<T extends { lastModified: string }>(items: AsyncIterable<T>) {
  for await (const item of items) yield { ...item, lastModified: '' };
}
