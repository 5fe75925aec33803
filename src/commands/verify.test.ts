/**
 * `z3 verify` on the memory backend, with backups made from real OpenZFS 2.1 streams and
 * compressed by the real `pigz`: sound backups are ok, each corruption is reported with its
 * reason and exit 3, and `zfs` never runs.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, StorageError } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { eventsNamed, jsonLines } from './testing/json-lines.js';
import { testPorts } from './testing/ports.js';
import { FIXTURE_GUIDS, fixtureStream, putBackup } from './testing/verify-objects.js';
import { runVerify, type VerifyOptions } from './verify.js';

const ZFS_THAT_FAILS = '/bin/false';

function options(extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    readData: false,
    readDataSubset: undefined,
    json: true,
    concurrency: '3',
    chunkSize: '5M',
    ...extra,
  };
}

/** A full (`compressor`) and an incremental on top of it (pigz1). */
function chain(fullCompressor: 'none' | 'pigz1' = 'none'): MemBackend {
  const mem = new MemBackend();
  putBackup(mem, { snapshot: 'snap1', stream: fixtureStream('full'), compressor: fullCompressor });
  putBackup(mem, {
    snapshot: 'snap2',
    stream: fixtureStream('incremental'),
    compressor: 'pigz1',
    parent: 'snap1',
  });
  return mem;
}

interface JsonRow {
  name: string;
  checked: string;
  ok: boolean;
  reason: string | null;
  note: string | null;
}

async function verify(mem: MemBackend | FaultyBackend, extra: Partial<VerifyOptions> = {}) {
  const ports = testPorts({ backend: mem, zfs: ZFS_THAT_FAILS });
  const code = await runVerify(options(extra), ports);
  const events = jsonLines(ports.out());
  const rows = eventsNamed(events, 'verified').map(
    (e) => ({ ...e, name: e['snapshot'] }) as unknown as JsonRow,
  );
  const byName = new Map(rows.map((r) => [r.name.replace('tank/data@', ''), r]));
  return { code, rows, byName, ports, events };
}

/** The object `snapshot`'s stored bytes, to corrupt in place. */
function stored(mem: MemBackend, snapshot: string): { data: Buffer } {
  return mem.objects.get(`z3-backup/tank/data@${snapshot}`)!;
}

describe('z3 verify', () => {
  it('HEADs every object by default: metadata, health, size and ETag ok, exit 0', async () => {
    const { code, rows } = await verify(chain());
    expect(rows.map((r) => [r.name, r.checked, r.ok])).toEqual([
      ['tank/data@snap1', 'head', true],
      ['tank/data@snap2', 'head', true],
    ]);
    expect(code).toBe(EXIT.OK);
  });

  it('--read-data reads in download ranges within MEMORY_LIMIT (--memory first), as restore does', async () => {
    // A 40 MiB object: the stream is not a ZFS stream, so the parse fails and the read stops;
    // the ranges started before that show the range size and how many were in flight.
    const MiB = 1024 * 1024;
    const mem = new MemBackend();
    putBackup(mem, { snapshot: 'snap1', stream: Buffer.alloc(40 * MiB, 7), compressor: 'none' });
    const starts: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const watched = new FaultyBackend(mem, async (call) => {
      if (call.op !== 'readRange') return;
      starts.push(call.start ?? -1);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
    });
    const ports = testPorts({
      backend: watched,
      zfs: ZFS_THAT_FAILS,
      env: { MEMORY_LIMIT: '1G' }, // --memory wins
    });
    await runVerify(
      options({ readData: true, chunkSize: undefined, concurrency: '8', memory: '64M' }),
      ports,
    );
    // 16 MiB ranges (CHUNK_SIZE unset); 64M buys 4 buffers: 3 ranges in flight + 1 being read.
    expect(starts.slice(0, 3)).toEqual([0, 16 * MiB, 32 * MiB]);
    expect(maxInFlight).toBe(3);
  });

  it('--read-data parses the real streams (none and pigz1) without zfs: all ok', async () => {
    const { code, rows } = await verify(chain('pigz1'), { readData: true });
    expect(rows.map((r) => [r.name, r.checked, r.reason])).toEqual([
      ['tank/data@snap1', 'data', null],
      ['tank/data@snap2', 'data', null],
    ]);
    expect(code).toBe(EXIT.OK);
  });

  it('--json writes start, a verified event per object and the summary with the exit code', async () => {
    const mem = chain();
    const { data } = stored(mem, 'snap2');
    data[100] = data[100]! ^ 0x01;
    const { code, events } = await verify(mem, { readData: true });
    expect(code).toBe(EXIT.INTEGRITY);
    expect(events.every((e) => e['version'] === 1)).toBe(true);
    expect(events.map((e) => e['event'])).toEqual(['start', 'verified', 'verified', 'summary']);
    expect(events[0]).toMatchObject({ command: 'verify', dataset: 'tank/data' });
    const sizes = ['snap1', 'snap2'].map((s) => stored(mem, s).data.length);
    expect(events[1]).toEqual(
      expect.objectContaining({
        snapshot: 'tank/data@snap1',
        key: 'z3-backup/tank/data@snap1',
        checked: 'data',
        ok: true,
        reason: null,
        note: null,
        bytes: sizes[0],
      }),
    );
    expect(events[2]).toMatchObject({ snapshot: 'tank/data@snap2', ok: false });
    expect(events[3]).toMatchObject({
      code: EXIT.INTEGRITY,
      objects: 2,
      bytes: sizes[0]! + sizes[1]!,
    });
  });

  it(
    '--json: an S3 error ends with an error event and the summary (exit 5)',
    { tags: ['faults'] },
    async () => {
      const faulty = new FaultyBackend(chain());
      faulty.script = (call) => {
        if (call.op === 'list') throw new StorageError('injected: InternalError (HTTP 500)');
      };
      const ports = testPorts({ backend: faulty, zfs: ZFS_THAT_FAILS });
      await expect(runVerify(options(), ports)).rejects.toThrow(StorageError);
      injected('S3 error', faulty.thrown);
      const events = jsonLines(ports.out());
      expect(events.map((e) => e['event'])).toEqual(['start', 'error', 'summary']);
      expect(events[1]).toMatchObject({ code: EXIT.STORAGE });
      expect(events[1]?.['message']).toMatch(/InternalError/);
      expect(events[2]).toMatchObject({ code: EXIT.STORAGE, objects: 0, bytes: 0 });
    },
  );

  it('prints a table with one row per object by default', async () => {
    const ports = testPorts({ backend: chain(), zfs: ZFS_THAT_FAILS });
    expect(await runVerify(options({ json: false, readData: true }), ports)).toBe(EXIT.OK);
    expect(ports.out()).toBe(
      'NAME            | CHECKED | RESULT\n' +
        'tank/data@snap1 | data    | ok\n' +
        'tank/data@snap2 | data    | ok\n',
    );
  });

  it('a byte flipped in the middle: checksum mismatch, exit 3', { tags: ['faults'] }, async () => {
    const mem = chain();
    const { data } = stored(mem, 'snap1');
    data[data.length >> 1] = data[data.length >> 1]! ^ 0x01;
    injected('corrupt data');
    const { code, byName } = await verify(mem, { readData: true });
    expect(byName.get('snap1')?.reason).toMatch(/^checksum mismatch in record \d+/);
    expect(byName.get('snap2')?.ok).toBe(true);
    expect(code).toBe(EXIT.INTEGRITY);
  });

  it('an object cut short: truncated at byte N, exit 3', { tags: ['faults'] }, async () => {
    const mem = chain();
    const object = stored(mem, 'snap1');
    object.data = object.data.subarray(0, 50_000);
    injected('corrupt data');
    const { code, byName } = await verify(mem, { readData: true });
    expect(byName.get('snap1')?.reason).toMatch(/^truncated at byte \d+/);
    expect(code).toBe(EXIT.INTEGRITY);
  });

  it(
    'a compressed object cut short: decompressor failed, exit 3',
    { tags: ['faults'] },
    async () => {
      const mem = chain();
      const object = stored(mem, 'snap2');
      object.data = object.data.subarray(0, object.data.length - 100);
      injected('corrupt data');
      const { code, byName } = await verify(mem, { readData: true });
      expect(byName.get('snap2')?.reason).toMatch(/^decompressor failed: .*pigz/);
      expect(code).toBe(EXIT.INTEGRITY);
    },
  );

  it(
    'an incremental re-labelled with another parent: parent guid mismatch, exit 3',
    { tags: ['faults'] },
    async () => {
      const mem = chain();
      putBackup(mem, {
        snapshot: 'snap0',
        stream: fixtureStream('compressed-c'),
        compressor: 'none',
      });
      mem.objects.get('z3-backup/tank/data@snap2')!.metadata['parent'] = 'tank/data@snap0';
      injected('corrupt data');
      const { code, byName } = await verify(mem, { readData: true });
      expect(byName.get('snap2')?.reason).toBe(
        `parent guid mismatch: expected ${FIXTURE_GUIDS['compressed-c']}, stream says ${FIXTURE_GUIDS.full}`,
      );
      expect(byName.get('snap0')?.ok).toBe(true);
      expect(code).toBe(EXIT.INTEGRITY);
    },
  );

  it('a missing parent and malformed metadata are reported from the HEAD alone', async () => {
    const mem = chain();
    mem.objects.get('z3-backup/tank/data@snap2')!.metadata['parent'] = 'tank/data@gone';
    putBackup(mem, { snapshot: 'snap3', stream: fixtureStream('full'), compressor: 'none' });
    delete mem.objects.get('z3-backup/tank/data@snap3')!.metadata['size'];
    const { code, byName } = await verify(mem);
    expect(byName.get('snap1')?.ok).toBe(true);
    expect(byName.get('snap2')?.reason).toBe('missing parent');
    expect(byName.get('snap3')?.reason).toBe('metadata size is missing or not a number: null');
    expect(code).toBe(EXIT.INTEGRITY);
  });

  it('--read-data-subset 1/3, 2/3, 3/3 read every object exactly once', async () => {
    const mem = new MemBackend();
    for (let i = 1; i <= 12; i += 1) {
      putBackup(mem, { snapshot: `snap${i}`, stream: fixtureStream('full'), compressor: 'none' });
    }
    const readBy = await Promise.all(
      ['1/3', '2/3', '3/3'].map(async (subset) => {
        const { code, rows } = await verify(mem, { readDataSubset: subset });
        expect(code).toBe(EXIT.OK);
        expect(rows).toHaveLength(12);
        return rows.filter((r) => r.checked === 'data').map((r) => r.name);
      }),
    );
    const all = readBy.flat().sort();
    expect(all).toEqual([...new Set(all)]);
    expect(all).toHaveLength(12);
    expect(readBy.every((names) => names.length < 12)).toBe(true);
  });

  it('an object deleted after its HEAD: object missing, exit 3', { tags: ['faults'] }, async () => {
    const mem = chain();
    const key = 'z3-backup/tank/data@snap2';
    // The second stat of snap2 is the download's: the object is gone by then.
    const faulty = new FaultyBackend(mem, (call) => {
      if (call.op === 'stat' && call.key === key && call.attempt === 2) mem.objects.delete(key);
    });
    injected('corrupt data');
    const { code, byName } = await verify(faulty, { readData: true });
    expect(byName.get('snap2')?.reason).toBe('object missing');
    expect(byName.get('snap1')?.ok).toBe(true);
    expect(code).toBe(EXIT.INTEGRITY);
  });
});
