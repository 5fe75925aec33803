// End to end: `z3 backup --json --metrics-file` of real OpenZFS snapshots (the test VM) to the
// real S3 server. The JSON event stream is parsed and checked event by event (each object's key
// and ETag are the server's); the metrics file carries the real snapshot's creation time, the
// chain and what is stored, and `promtool check metrics` accepts it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, destroyPool, requireVm, vm, zfs } from './harness.js';
import { expectOk, makeHistory, z3Run } from './z3-helpers.js';
import { parseEvents } from '../json-events.js';

const POOL = 'z3metrics';
const DATASET = `${POOL}/data`;
const snapOf = (full: string): string => full.slice(full.indexOf('@') + 1);

/** The value of `name` in a metrics file of one label set. */
function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const dir = mkdtempSync(join(tmpdir(), 'z3-e2e-metrics-'));

beforeAll(async () => {
  await requireVm();
  await createPool(POOL, 256);
});

afterAll(async () => {
  await destroyPool(POOL);
  rmSync(dir, { recursive: true, force: true });
});

describe('z3 backup --json --metrics-file of real snapshots', () => {
  it('events parse one by one and match the server; the metrics match the pool', async () => {
    await vm().shOk(`zfs create ${DATASET}`);
    const snaps = await makeHistory(DATASET, 3);
    const run = await z3Run('metrics', DATASET);
    const flags = ['--json', '--metrics-file', join(dir, 'z3.prom'), '--compressor', 'pigz1'];
    expectOk(await run.z3(['backup', '--full', '--snapshot', snapOf(snaps[0]!), ...flags]));
    const r = await run.z3(['backup', ...flags]);
    expectOk(r);

    const events = parseEvents(r.stdout);
    const kinds = events.map((e) => e['event']).filter((k) => k !== 'progress');
    expect(kinds).toEqual(['start', 'object', 'object', 'summary']);
    expect(events[0]).toMatchObject({ event: 'start', command: 'backup', dataset: DATASET });
    const objects = events.filter((e) => e['event'] === 'object');
    expect(objects.map((e) => e['snapshot'])).toEqual(snaps.slice(1));
    let total = 0;
    for (const object of objects) {
      const stored = await run.backend.stat(`${run.prefix}/${String(object['snapshot'])}`);
      expect(object['key']).toBe(`${run.prefix}/${String(object['snapshot'])}`);
      expect(object['etag']).toBe(stored?.etag);
      expect(object['bytes']).toBe(stored?.size);
      total += Number(object['bytes']);
    }
    for (const p of events.filter((e) => e['event'] === 'progress')) {
      expect(snaps.slice(1)).toContain(p['snapshot']);
      expect(Number(p['bytes'])).toBeGreaterThan(0);
    }
    expect(events.at(-1)).toMatchObject({ code: 0, objects: 2, bytes: total });

    const files = readdirSync(dir).filter((f) => f.endsWith('.prom'));
    expect(files).toHaveLength(1);
    const text = readFileSync(join(dir, files[0]!), 'utf8');
    const creation = await zfs(['get', '-Hpo', 'value', 'creation', snaps[2]!]);
    expect(metric(text, 'z3_newest_backup_timestamp_seconds')).toBe(Number(creation.stdout.trim()));
    expect(metric(text, 'z3_last_run_exit_code')).toBe(0);
    expect(metric(text, 'z3_uploaded_bytes')).toBe(total);
    expect(metric(text, 'z3_stored_objects')).toBe(3);
    expect(metric(text, 'z3_chain_length')).toBe(3);
    expect(metric(text, 'z3_broken_backups')).toBe(0);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});
