/**
 * `z3 prune --json`: every stdout line is one event (start, one `prune` per backup, one
 * `object-deleted` per deletion done, warnings, summary; error and summary on failure), on the
 * memory backend.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, StorageError, Z3Error } from '../errors.js';
import type { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runPrune, type PruneOptions } from './prune.js';
import { eventsNamed, jsonLines } from './testing/json-lines.js';
import { testPorts } from './testing/ports.js';
import { bucket, ENV, options, PREFIX, snap } from './testing/prune-fixture.js';

/** `z3 prune --json` of `backend` with `extra`: its exit code (or error's) and its events. */
async function pruneJson(backend: MemBackend | FaultyBackend, extra: Partial<PruneOptions>) {
  const ports = testPorts({ backend, zfs: '/bin/false', env: ENV });
  let code: number;
  try {
    code = await runPrune(options({ json: true, ...extra }), ports);
  } catch (err) {
    if (!(err instanceof Z3Error)) throw err;
    code = err.exitCode;
  }
  return { code, events: jsonLines(ports.out()), ports };
}

describe('runPrune --json', () => {
  it('writes start, a prune event per backup, object-deleted per deletion, and a summary', async () => {
    const { code, events } = await pruneJson(bucket(2, 1), { keep: { keepLast: '1' } });
    expect(code).toBe(EXIT.OK);
    expect(events.every((e) => e['version'] === 1 && typeof e['time'] === 'string')).toBe(true);
    expect(events.map((e) => e['event'])).toEqual([
      'start',
      'prune',
      'prune',
      'object-deleted',
      'summary',
    ]);
    expect(events[0]).toMatchObject({ command: 'prune', dataset: 'tank/data' });
    expect(eventsNamed(events, 'prune')).toEqual([
      expect.objectContaining({
        snapshot: `tank/data@${snap(2)}`,
        action: 'keep',
        reasons: ['newest', 'last snapshot'],
        health: 'ok',
        bytes: 1000,
        snapshotTime: '2026-11-02T00:00:00.000Z',
        timeSource: 'zfs-auto-snapshot name',
        earlyDeletion: null,
      }),
      expect.objectContaining({ snapshot: `tank/data@${snap(1)}`, action: 'delete', bytes: 1000 }),
    ]);
    expect(eventsNamed(events, 'object-deleted')).toEqual([
      expect.objectContaining({
        snapshot: `tank/data@${snap(1)}`,
        key: `${PREFIX}${snap(1)}`,
        bytes: 1000,
      }),
    ]);
    expect(events.at(-1)).toMatchObject({ code: 0, objects: 1, bytes: 1000 });
  });

  it('--dry-run deletes nothing and says so; an early deletion is a warning event', async () => {
    const mem = bucket(3, 1);
    mem.objects.get(`${PREFIX}${snap(1)}`)!.storageClass = 'GLACIER_IR';
    const { code, events, ports } = await pruneJson(mem, {
      keep: { keepLast: '1' },
      dryRun: true,
    });
    expect(code).toBe(EXIT.OK);
    expect(mem.objects.size).toBe(3);
    expect(eventsNamed(events, 'object-deleted')).toEqual([]);
    expect(eventsNamed(events, 'prune').map((e) => e['action'])).toEqual([
      'keep',
      'delete',
      'delete',
    ]);
    const [warning] = eventsNamed(events, 'warning');
    expect(warning?.['message']).toMatch(/is a 0-day-old GLACIER_IR object/);
    expect(ports.err()).toContain('z3: warning: ');
    expect(events.at(-1)).toMatchObject({ event: 'summary', code: 0, objects: 0, bytes: 0 });
  });

  it(
    'a deletion that fails ends with the deletions done, an error and the summary (exit 5)',
    { tags: ['faults'] },
    async () => {
      const faulty = new FaultyBackend(bucket(4, 1));
      faulty.script = (call) => {
        if (call.op === 'remove' && faulty.ops('remove').length > 2) {
          throw new StorageError('injected: InternalError (HTTP 500)');
        }
      };
      const { code, events } = await pruneJson(faulty, { keep: { keepLast: '1' } });
      injected('S3 error', faulty.thrown);
      expect(code).toBe(EXIT.STORAGE);
      expect(eventsNamed(events, 'object-deleted')).toHaveLength(2);
      expect(events.slice(-2)).toEqual([
        expect.objectContaining({ event: 'error', code: EXIT.STORAGE }),
        expect.objectContaining({ event: 'summary', code: EXIT.STORAGE, objects: 2, bytes: 2000 }),
      ]);
      expect(events.at(-2)?.['message']).toMatch(/InternalError/);
    },
  );
});
