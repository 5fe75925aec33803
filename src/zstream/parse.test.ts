import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseZStream } from './parse.js';
import { StreamWriter } from './testing/stream-writer.js';
import {
  GUID_A,
  GUID_B,
  GUID_CHILD,
  parseInChunks,
  plainStream,
  rawStream,
  replicationStream,
  substream,
} from './testing/streams.js';

describe('ZStreamParser on well-formed streams', () => {
  it('reads a full stream: guids, records by type, bytes', () => {
    const bytes = plainStream().toBytes();
    const report = parseInChunks(bytes, 65536);
    expect(report).toMatchObject({
      ok: true,
      kind: 'substream',
      byteswapped: false,
      toname: 'tank/data@snap2',
      toguid: GUID_B.toString(),
      fromguid: '0',
      bytes: bytes.length,
    });
    expect(report.reason).toBeUndefined();
    expect(report.records).toEqual({
      BEGIN: 1,
      OBJECT: 2,
      FREEOBJECTS: 1,
      WRITE: 2,
      FREE: 1,
      END: 1,
      WRITE_BYREF: 1,
      SPILL: 2,
      WRITE_EMBEDDED: 1,
      OBJECT_RANGE: 0,
      REDACT: 1,
    });
    expect(report.substreams).toHaveLength(1);
    expect(report.substreams[0]).toMatchObject({ features: ['sa_spill'], bytes: bytes.length });
  });

  it('reads an incremental stream’s source guid', () => {
    const report = parseInChunks(plainStream({ fromguid: GUID_A }).toBytes(), 4096);
    expect(report).toMatchObject({
      ok: true,
      toguid: GUID_B.toString(),
      fromguid: GUID_A.toString(),
    });
  });

  it('gives the same report whatever the chunk boundaries', () => {
    for (const make of [plainStream, rawStream, replicationStream]) {
      const bytes = make().toBytes();
      const whole = parseInChunks(bytes, bytes.length);
      expect(whole.ok).toBe(true);
      for (const size of [1, 3, 7, 311, 312, 313, 4096]) {
        expect(parseInChunks(bytes, size), `${make.name} in chunks of ${size}`).toEqual(whole);
      }
    }
  });

  it('parses chunks at any memory alignment (Buffer pool slices, odd offsets)', () => {
    const bytes = plainStream().toBytes();
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(parseInChunks(shifted, 1001).ok).toBe(true);
  });

  it('accepts raw (-w) payloads whose lengths are not multiples of 4 or 8', () => {
    const report = parseInChunks(rawStream().toBytes(), 1000);
    expect(report).toMatchObject({ ok: true, toguid: GUID_A.toString() });
    expect(report.substreams[0]?.features).toEqual(['raw']);
    expect(report.records.OBJECT_RANGE).toBe(1);
  });

  it('reads a -R stream: the header, one substream per dataset, the top dataset’s guids', () => {
    const report = parseInChunks(replicationStream().toBytes(), 8192);
    expect(report).toMatchObject({
      ok: true,
      kind: 'compound',
      toname: 'tank/parent@r1',
      toguid: GUID_B.toString(),
    });
    expect(report.substreams.map((s) => [s.toname, s.toguid])).toEqual([
      ['tank/parent@r1', GUID_B.toString()],
      ['tank/parent/child@r1', GUID_CHILD.toString()],
    ]);
    expect(report.records.BEGIN).toBe(3);
    expect(report.records.END).toBe(4);
  });

  it('takes an -I stream’s guids from its first source and its named last snapshot', () => {
    const w = new StreamWriter()
      .begin({ toname: 'tank/fs@s3', toguid: 0n, headerType: 2 })
      .headerEnd();
    substream(w, { toname: 'tank/fs@s2', toguid: GUID_A, fromguid: 99n });
    substream(w, { toname: 'tank/fs@s3', toguid: GUID_B, fromguid: GUID_A });
    const report = parseInChunks(w.finalEnd().toBytes(), 777);
    expect(report).toMatchObject({ ok: true, toguid: GUID_B.toString(), fromguid: '99' });
  });

  it('reads a stream written on a big-endian machine', () => {
    for (const make of [plainStream, replicationStream, rawStream]) {
      const report = parseInChunks(make({ littleEndian: false }).toBytes(), 5000);
      const native = parseInChunks(make().toBytes(), 5000);
      expect(report, make.name).toEqual({ ...native, byteswapped: true });
    }
  });

  it('accepts streams without per-record checksums (before OpenZFS 0.7), checking END', () => {
    const report = parseInChunks(plainStream({ recordChecksums: false }).toBytes(), 4096);
    expect(report).toMatchObject({ ok: true, toguid: GUID_B.toString() });
  });

  it('accepts an END without the guid, as ZFS wrote it before drr_end.drr_toguid existed', () => {
    const w = new StreamWriter().begin({ toname: 'p/fs@a', toguid: GUID_A }).bare('FREE').end(0n);
    expect(parseInChunks(w.toBytes(), 4096)).toMatchObject({ ok: true, toguid: GUID_A.toString() });
  });

  it('parseZStream reads an async source', async () => {
    const bytes = replicationStream().toBytes();
    const chunks = Readable.from(
      Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
        bytes.subarray(i * 1000, i * 1000 + 1000),
      ),
    );
    expect(await parseZStream(chunks)).toEqual(parseInChunks(bytes, 1000));
  });
});
