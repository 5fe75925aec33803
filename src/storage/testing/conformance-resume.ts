/**
 * Conformance tests of what a resume needs (issue 9): `listChunks` lists the chunks a write
 * holds with their MD5 ETags, `resumeWriter` takes a pending write up again, and a write that
 * is gone is `isNotFound` for both (Ceph RGW answers NoSuchKey to ListParts after an abort).
 */
import { describe, expect, it } from 'vitest';
import type { ListedChunk, WrittenChunk } from '../backend.js';
import { md5 } from '../etag.js';
import {
  chunkOf,
  chunkSizeOf,
  expectSameBytes,
  patternBytes,
  readAll,
  storageErrorOf,
  writeChunk,
  type SuiteFixture,
} from './conformance-helpers.js';

/** The short last chunk: shorter than any chunkSizeOf. */
const TAIL = 345;

/** The listing a backend must give for chunks with these bytes, by number. */
function expectedListing(chunks: ReadonlyMap<number, Uint8Array>): ListedChunk[] {
  return [...chunks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([number, body]) => ({
      number,
      size: body.byteLength,
      etag: `"${md5(body).toString('hex')}"`,
    }));
}

export function describeResume(f: SuiteFixture): void {
  describe('resume', () => {
    it('listChunks lists the chunks written, sorted, with sizes and quoted MD5 ETags', async () => {
      const key = f.key('listed');
      const chunkSize = chunkSizeOf(f.backend);
      const data = patternBytes(2 * chunkSize + TAIL, 40);
      const writer = await f.backend.openWriter({ key, metadata: {}, chunkSize });
      const bodies = new Map([3, 1].map((n) => [n, chunkOf(data, chunkSize, n)] as const));
      for (const [n, body] of bodies) await writeChunk(writer, n, body);
      const listed = await f.backend.listChunks({ key, id: writer.id });
      expect(listed).toEqual(expectedListing(bodies));
      await writer.abort();
    });

    it('resumeWriter takes a pending write up: listed chunks plus new ones commit as one object', async () => {
      const key = f.key('resumed');
      const chunkSize = chunkSizeOf(f.backend);
      const data = patternBytes(2 * chunkSize + TAIL, 41);
      const metadata = { isfull: 'true' };
      const first = await f.backend.openWriter({ key, metadata, chunkSize });
      const one = chunkOf(data, chunkSize, 1);
      await writeChunk(first, 1, one);
      const resumed = await f.backend.resumeWriter({ key, metadata, chunkSize, id: first.id });
      expect(resumed.id).toBe(first.id);
      const [listed] = await f.backend.listChunks({ key, id: first.id });
      const kept: WrittenChunk = {
        number: 1,
        size: one.byteLength,
        md5: md5(one),
        etag: listed!.etag,
      };
      const rest = [];
      for (const n of [2, 3]) rest.push(await writeChunk(resumed, n, chunkOf(data, chunkSize, n)));
      await resumed.complete([kept, ...rest]);
      expectSameBytes(await readAll(f.backend, key, data.byteLength), data);
      expect(await f.backend.stat(key)).toMatchObject({ metadata });
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
    });

    it('a chunk written again through the resumed writer replaces the listed one', async () => {
      const key = f.key('rewritten');
      const chunkSize = chunkSizeOf(f.backend);
      const first = await f.backend.openWriter({ key, metadata: {}, chunkSize });
      await writeChunk(first, 1, patternBytes(TAIL, 42));
      const resumed = await f.backend.resumeWriter({ key, metadata: {}, chunkSize, id: first.id });
      const body = patternBytes(TAIL, 43);
      const chunk = await writeChunk(resumed, 1, body);
      expect(await f.backend.listChunks({ key, id: first.id })).toEqual(
        expectedListing(new Map([[1, body]])),
      );
      await resumed.complete([chunk]);
      expectSameBytes(await readAll(f.backend, key, TAIL), body);
    });

    it('a write aborted or completed is not found by listChunks, nor writable when resumed', async () => {
      const key = f.key('gone');
      const chunkSize = chunkSizeOf(f.backend);
      const aborted = await f.backend.openWriter({ key, metadata: {}, chunkSize });
      await writeChunk(aborted, 1, patternBytes(TAIL, 44));
      await aborted.abort();
      expect((await storageErrorOf(f.backend.listChunks({ key, id: aborted.id }))).isNotFound).toBe(
        true,
      );
      const resumeAndWrite = async (): Promise<unknown> => {
        const w = await f.backend.resumeWriter({ key, metadata: {}, chunkSize, id: aborted.id });
        return writeChunk(w, 1, patternBytes(TAIL, 45));
      };
      expect((await storageErrorOf(resumeAndWrite())).isNotFound).toBe(true);
      const done = await f.backend.openWriter({ key, metadata: {}, chunkSize });
      await done.complete([await writeChunk(done, 1, patternBytes(TAIL, 46))]);
      expect((await storageErrorOf(f.backend.listChunks({ key, id: done.id }))).isNotFound).toBe(
        true,
      );
    });
  });
}

/** On a backend that pages by 2: listChunks gathers every page. */
export function describeChunkPaging(f: SuiteFixture): void {
  it('listChunks lists chunks of every page', async () => {
    const key = f.key('paged-chunks');
    const chunkSize = chunkSizeOf(f.backend);
    const data = patternBytes(2 * chunkSize + TAIL, 47);
    const writer = await f.backend.openWriter({ key, metadata: {}, chunkSize });
    const bodies = new Map([1, 2, 3].map((n) => [n, chunkOf(data, chunkSize, n)] as const));
    for (const [n, body] of bodies) await writeChunk(writer, n, body);
    expect(await f.backend.listChunks({ key, id: writer.id })).toEqual(expectedListing(bodies));
    await writer.abort();
  });
}
