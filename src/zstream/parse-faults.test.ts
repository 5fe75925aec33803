/**
 * Corrupt streams: every byte flipped, cuts at every record boundary, spliced and malformed
 * records. Each must be reported, never passed as ok.
 */
import { describe, expect, it } from 'vitest';
import { injected } from '../testing/faults.js';
import { RECORD_SIZE } from './format.js';
import { StreamWriter } from './testing/stream-writer.js';
import {
  GUID_A,
  parseInChunks,
  plainStream,
  rawStream,
  replicationStream,
} from './testing/streams.js';

/** Offsets worth cutting at: around each record's header, checksum field and payload. */
function cutPoints(w: StreamWriter): number[] {
  const cuts = new Set<number>();
  for (const r of w.written) {
    for (const d of [0, 1, 4, 8, 279, 280, 281, 311, 312, 313])
      if (d < r.length) cuts.add(r.offset + d);
    if (r.length > RECORD_SIZE) cuts.add(r.offset + Math.floor((RECORD_SIZE + r.length) / 2));
    cuts.add(r.offset + r.length - 1);
  }
  return [...cuts].sort((a, b) => a - b);
}

function flipped(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at] = (copy[at] as number) ^ mask;
  return copy;
}

describe('ZStreamParser on corrupt streams', () => {
  it(
    'reports a stream cut at any record boundary as truncated at that byte',
    { tags: ['faults'] },
    () => {
      let cuts = 0;
      for (const w of [plainStream(), replicationStream(), rawStream()]) {
        const bytes = w.toBytes();
        for (const cut of cutPoints(w)) {
          const report = parseInChunks(bytes.subarray(0, cut), 997);
          expect(report.ok, `cut at ${cut}`).toBe(false);
          expect(report.reason).toMatch(new RegExp(`^truncated at byte ${cut} `));
          expect(report.bytes).toBe(cut);
          cuts++;
        }
      }
      injected('corrupt data', cuts);
    },
  );

  it('detects every single flipped byte of a plain and a -R stream', { tags: ['faults'] }, () => {
    let flips = 0;
    for (const w of [plainStream(), replicationStream(), plainStream({ littleEndian: false })]) {
      const bytes = w.toBytes();
      for (let at = 0; at < bytes.length; at++) {
        const report = parseInChunks(flipped(bytes, at, 1 << (at % 8)), 4096);
        expect(report.ok, `flip at byte ${at}`).toBe(false);
        flips++;
      }
    }
    injected('corrupt data', flips);
  });

  it('names the record whose checksum no longer matches', { tags: ['faults'] }, () => {
    const w = plainStream();
    const write = w.written.find((r) => r.type === 'WRITE');
    const next = w.written[w.written.indexOf(write!) + 1]!;
    const report = parseInChunks(flipped(w.toBytes(), write!.offset + RECORD_SIZE + 100), 4096);
    const index = w.written.indexOf(next) + 1;
    expect(report.reason).toBe(`checksum mismatch in record ${index} at byte ${next.offset}`);
    injected('corrupt data', 1);
  });

  it(
    'catches a flip in a stream without per-record checksums at its END',
    { tags: ['faults'] },
    () => {
      const w = plainStream({ recordChecksums: false });
      const end = w.written.at(-1)!;
      const report = parseInChunks(flipped(w.toBytes(), 500), 4096);
      expect(report.reason).toBe(
        `checksum mismatch in record ${w.written.length} at byte ${end.offset} (END)`,
      );
      injected('corrupt data', 1);
    },
  );

  it('reports what is not a send stream as bad magic', { tags: ['faults'] }, () => {
    expect(parseInChunks(new Uint8Array(4096), 4096).reason).toBe(
      'bad magic: not a ZFS send stream',
    );
    expect(parseInChunks(Buffer.from('x'.repeat(400)), 100).reason).toBe(
      'bad magic: not a ZFS send stream',
    );
    expect(parseInChunks(Buffer.from('short text, not a stream\n'), 7).reason).toBe(
      'bad magic: not a ZFS send stream',
    );
    expect(parseInChunks(new Uint8Array(0), 1).reason).toBe('truncated at byte 0 (empty stream)');
    injected('corrupt data', 4);
  });

  it('reports bytes after the end of the stream', { tags: ['faults'] }, () => {
    const bytes = plainStream().toBytes();
    const report = parseInChunks(Buffer.concat([bytes, Buffer.from('more')]), 4096);
    expect(report.reason).toBe(`trailing data after the end of the stream at byte ${bytes.length}`);
    injected('corrupt data', 1);
  });

  it(
    'reports an END that closes another snapshot than its BEGIN opened',
    { tags: ['faults'] },
    () => {
      const w = new StreamWriter()
        .begin({ toname: 'p/fs@a', toguid: GUID_A })
        .bare('FREE')
        .end(77n);
      expect(parseInChunks(w.toBytes(), 4096).reason).toBe(
        `END record 3 closes guid 77, its BEGIN opened ${GUID_A}`,
      );
      injected('corrupt data', 1);
    },
  );

  it('reports malformed grammar with valid checksums', { tags: ['faults'] }, () => {
    const begin = () => new StreamWriter().begin({ toname: 'p/fs@a', toguid: GUID_A });
    const cases: [StreamWriter, string][] = [
      [begin().ofType(11), 'unknown record type 11 in record 2 at byte 312'],
      [begin().begin({ toname: 'p/fs@b', toguid: 5n }), 'unexpected BEGIN in record 2 at byte 312'],
      [begin().end(GUID_A).end(GUID_A), 'trailing data after the end of the stream at byte 624'],
      [
        new StreamWriter()
          .begin({ toname: 'p@a', toguid: 0n, headerType: 2 })
          .headerEnd()
          .finalEnd(),
        'compound stream holds no substream',
      ],
      [
        new StreamWriter().begin({ toname: 'p@a', toguid: 1n, headerType: 3 }),
        'unsupported stream header type 3 in record 1 at byte 0',
      ],
      [
        new StreamWriter().begin({ toname: 'p@a', toguid: 0n, headerType: 2 }).bare('FREE'),
        'unexpected FREE record 2 at byte 312 outside a substream',
      ],
    ];
    for (const [w, reason] of cases) expect(parseInChunks(w.toBytes(), 100).reason).toBe(reason);
    injected('corrupt data', cases.length);
  });

  it(
    'refuses a payload length past 16 MiB instead of skipping that far',
    { tags: ['faults'] },
    () => {
      const w = new StreamWriter({ recordChecksums: false }).begin({
        toname: 'p/fs@a',
        toguid: GUID_A,
      });
      const bytes = Buffer.concat([w.toBytes(), new Uint8Array(RECORD_SIZE)]);
      const view = new DataView(bytes.buffer, bytes.byteOffset + RECORD_SIZE);
      view.setUint32(0, 3, true); // WRITE, uncompressed, logical size 2^40
      view.setBigUint64(32, 2n ** 40n, true);
      expect(parseInChunks(bytes, 4096).reason).toBe(
        `record 2 at byte 312 claims a payload of ${2 ** 40} bytes (over 16 MiB)`,
      );
      injected('corrupt data', 1);
    },
  );
});
