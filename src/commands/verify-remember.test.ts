/**
 * What `z3 verify` remembers in CACHE_DIR and `z3 status --json` shows; and that verify asks
 * the server, never the metadata cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { storageOf } from '../storage/open.js';
import { runStatus } from './status.js';
import { createScriptedZfs, type ScriptedZfs } from './testing/scripted-zfs.js';
import { testPorts, type TestPorts } from './testing/ports.js';
import { fixtureStream, putBackup } from './testing/verify-objects.js';
import { runVerify } from './verify.js';

const GLOBAL = { config: undefined, s3Prefix: undefined, filesystem: undefined };
const VERIFY = { ...GLOBAL, snapshotPrefix: undefined, json: true, concurrency: undefined };

describe('z3 verify, remembered', () => {
  let dir: string;
  let zfs: ScriptedZfs;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-verify-cache-'));
    zfs = createScriptedZfs({ datasets: { 'tank/data': [] } });
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    zfs.cleanup();
  });

  /** Ports whose storage uses the metadata cache in `dir` (CACHE_DIR), as on a real run. */
  function ports(mem: MemBackend): TestPorts {
    const p = testPorts({ backend: mem, zfs: zfs.program, env: { CACHE_DIR: dir } });
    const cache = { dir, endpoint: undefined, bucket: 'test-bucket', warn: () => undefined };
    return { ...p, openStorage: () => storageOf(mem, 'test-bucket', cache) };
  }

  const verify = (mem: MemBackend, readData: boolean): Promise<number> =>
    runVerify({ ...VERIFY, readData, readDataSubset: undefined, chunkSize: undefined }, ports(mem));

  async function statusVerified(mem: MemBackend): Promise<Record<string, unknown>> {
    const p = ports(mem);
    expect(await runStatus({ ...GLOBAL, snapshotPrefix: undefined, json: true }, p)).toBe(0);
    const rows = p
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; verified: unknown });
    return Object.fromEntries(rows.map((r) => [r.name, r.verified]));
  }

  function twoFulls(): MemBackend {
    const mem = new MemBackend();
    for (const snapshot of ['snap1', 'snap2']) {
      putBackup(mem, { snapshot, stream: fixtureStream('full'), compressor: 'none' });
    }
    return mem;
  }

  it('status --json shows the last ok verification of the object as it is now', async () => {
    const mem = twoFulls();
    expect(await statusVerified(mem)).toEqual({ snap1: null, snap2: null });
    expect(await verify(mem, true)).toBe(EXIT.OK);
    const at = '2026-11-26T00:00:00.000Z';
    expect(await statusVerified(mem)).toEqual({
      snap1: { at, level: 'data' },
      snap2: { at, level: 'data' },
    });
    // A later HEAD-only run does not hide that the data was read.
    expect(await verify(mem, false)).toBe(EXIT.OK);
    expect((await statusVerified(mem))['snap2']).toEqual({ at, level: 'data' });
    // Replaced by other bytes (another ETag): the old verification no longer counts.
    const cut = mem.objects.get('z3-backup/tank/data@snap1')!;
    mem.seed('z3-backup/tank/data@snap1', cut.data.subarray(0, 1000), cut.metadata);
    expect(await verify(mem, true)).toBe(EXIT.INTEGRITY);
    expect(await statusVerified(mem)).toEqual({ snap1: null, snap2: { at, level: 'data' } });
  });

  it('asks the server for every HEAD, even where the metadata cache would answer', async () => {
    const mem = twoFulls();
    expect(await statusVerified(mem)).toEqual({ snap1: null, snap2: null }); // fills the cache
    expect(await verify(mem, false)).toBe(EXIT.OK); // would fill it for verify's listing too
    // Changed on the server without a new ETag or LastModified: only a HEAD can see it.
    delete mem.objects.get('z3-backup/tank/data@snap2')!.metadata['isfull'];
    expect(await verify(mem, false)).toBe(EXIT.INTEGRITY);
  });
});
