/**
 * Real send streams, made by OpenZFS 2.1.11 (test/fixtures/zstream/make-streams.sh): the parser
 * must accept each and read the guids `zfs get guid` printed and the record counts
 * `zstream dump` printed, and must reject each one corrupted.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { gunzipSync, createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { injected } from '../testing/faults.js';
import { parseZStream } from './parse.js';
import { parseInChunks } from './testing/streams.js';

const DIR = new URL('../../test/fixtures/zstream/', import.meta.url);

interface Expected {
  kind: string;
  toname: string;
  toguid: string;
  fromguid: string;
  bytes: number;
  records: Record<string, number>;
  substreams: { toname: string; toguid: string; fromguid: string }[];
}
const manifest = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as Record<
  string,
  Expected
>;
const fixtures = Object.entries(manifest).filter(([file]) => file.endsWith('.gz'));

describe('ZStreamParser on streams made by OpenZFS 2.1', () => {
  it('has the thirteen fixtures: full, -i, -I, -p, -c, -e, -L, -w, -w -i, -R, -R -i, -R -w, -t', () => {
    expect(fixtures).toHaveLength(13);
  });

  it.each(fixtures)('accepts %s with the guids zfs reported', async (file, want) => {
    const report = await parseZStream(createReadStream(new URL(file, DIR)).pipe(createGunzip()));
    expect(report).toMatchObject({
      ok: true,
      kind: want.kind,
      toname: want.toname,
      toguid: want.toguid,
      fromguid: want.fromguid,
      bytes: want.bytes,
      byteswapped: false,
    });
    expect(report.records).toMatchObject(want.records);
    expect(
      report.substreams.map(({ toname, toguid, fromguid }) => ({ toname, toguid, fromguid })),
    ).toEqual(want.substreams);
  });

  it('rejects every fixture with a flipped byte or cut short', { tags: ['faults'] }, () => {
    let corruptions = 0;
    for (const [file] of fixtures) {
      const bytes = gunzipSync(readFileSync(new URL(file, DIR)));
      for (const at of [
        100,
        600,
        Math.floor(bytes.length / 3),
        Math.floor(bytes.length / 2),
        bytes.length - 200,
      ]) {
        const copy = Uint8Array.from(bytes);
        copy[at] = (copy[at] as number) ^ 0x04;
        expect(parseInChunks(copy, 65536).ok, `${file} flipped at ${at}`).toBe(false);
        corruptions++;
      }
      for (const cut of [Math.floor(bytes.length / 2), bytes.length - 1]) {
        const report = parseInChunks(bytes.subarray(0, cut), 65536);
        expect(report.reason, `${file} cut at ${cut}`).toMatch(
          new RegExp(`^truncated at byte ${cut} `),
        );
        corruptions++;
      }
    }
    injected('corrupt data', corruptions);
  });
});
