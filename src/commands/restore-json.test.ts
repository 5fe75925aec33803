/**
 * `z3 restore --json`: every stdout line is one event (start, progress, one object per stream
 * received, summary; error and summary on failure), on the memory backend with a scripted
 * `zfs receive`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { injected } from '../testing/faults.js';
import { runRestore, type RestoreOptions } from './restore.js';
import { testPorts } from './testing/ports.js';
import { restoreOptions } from './testing/restore-options.js';
import { createScriptedZfs, scriptedStream, type ScriptedZfs } from './testing/scripted-zfs.js';

function options(over: Partial<RestoreOptions> = {}): RestoreOptions {
  return restoreOptions({ snapshot: 'snap-2', json: true, ...over });
}

/** snap-1 (full) → snap-2, COMPRESSOR none; `damaged` stores snap-2 cut short. */
function chain(damaged = false): MemBackend {
  const mem = new MemBackend();
  const full = scriptedStream('tank/data@snap-1', '', 4000);
  mem.seed('z3-backup/tank/data@snap-1', full, { isfull: 'true', size: '4000' });
  const inc = scriptedStream('tank/data@snap-2', 'tank/data@snap-1', 6000);
  mem.seed('z3-backup/tank/data@snap-2', damaged ? inc.subarray(0, 10) : inc, {
    parent: 'tank/data@snap-1',
    size: '6000',
  });
  return mem;
}

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('runRestore --json', () => {
  let zfs: ScriptedZfs;
  afterEach(() => zfs.cleanup());

  it('writes start, progress, an object per stream received, and a summary', async () => {
    zfs = createScriptedZfs({ datasets: {} });
    const mem = chain();
    const ports = testPorts({ backend: mem, zfs: zfs.program });
    expect(await runRestore(options(), ports)).toBe(EXIT.OK);
    const events = lines(ports.out());
    expect(events.every((e) => e['version'] === 1)).toBe(true);
    expect(events.map((e) => e['event']).filter((e) => e !== 'progress')).toEqual([
      'start',
      'object',
      'object',
      'summary',
    ]);
    expect(events[0]).toMatchObject({ command: 'restore', dataset: 'tank/data' });
    const objects = events.filter((e) => e['event'] === 'object');
    expect(objects.map((e) => [e['snapshot'], e['key'], e['bytes'], e['etag']])).toEqual([
      [
        'tank/data@snap-1',
        'z3-backup/tank/data@snap-1',
        4000,
        mem.objects.get('z3-backup/tank/data@snap-1')?.etag,
      ],
      [
        'tank/data@snap-2',
        'z3-backup/tank/data@snap-2',
        6000,
        mem.objects.get('z3-backup/tank/data@snap-2')?.etag,
      ],
    ]);
    const last = events.filter((e) => e['event'] === 'progress').at(-1);
    expect(last).toMatchObject({ snapshot: 'tank/data@snap-2', bytes: 6000, total: 6000 });
    expect(events.at(-1)).toMatchObject({ code: 0, objects: 2, bytes: 10_000 });
    expect(zfs.state().received?.map((r) => r.snapshot)).toEqual([
      'tank/data@snap-1',
      'tank/data@snap-2',
    ]);
  });

  it(
    'ends a failed restore with error and summary, the exit code in both',
    { tags: ['faults'] },
    async () => {
      zfs = createScriptedZfs({ datasets: {} });
      const ports = testPorts({ backend: chain(true), zfs: zfs.program });
      injected('corrupt data');
      const run = runRestore(options(), ports);
      await expect(run).rejects.toMatchObject({ exitCode: EXIT.COMMAND_FAILED });
      const events = lines(ports.out()).filter((e) => e['event'] !== 'progress');
      expect(events.map((e) => e['event'])).toEqual(['start', 'object', 'error', 'summary']);
      expect(events[2]).toMatchObject({ code: EXIT.COMMAND_FAILED });
      expect(events[3]).toMatchObject({ code: EXIT.COMMAND_FAILED, objects: 1, bytes: 4000 });
    },
  );
});
