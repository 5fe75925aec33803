/**
 * Conformance tests of the chunk writer: nothing visible before complete, chunks in any order
 * and re-sent, a complete that must fail, the MD5 check, abort and the pending-write calls.
 */
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../errors.js';
import { normalizeEtag } from '../etag.js';
import {
  chunkOf,
  chunkSizeOf,
  expectSameBytes,
  listKeys,
  openAt,
  patternBytes,
  putObject,
  readAll,
  storageErrorOf,
  writeChunk,
  type SuiteFixture,
} from './conformance-helpers.js';

/** The short last chunk of a multi-chunk object: shorter than any chunkSizeOf (at least 1 KiB). */
const TAIL = 234;

export function describeWriter(f: SuiteFixture): void {
  describe('chunk writer', () => {
    it('shows nothing before complete; listPending shows the write with its id', async () => {
      const key = f.key('open');
      const writer = await openAt(f.backend, key);
      expect(writer.key).toBe(key);
      const chunk = await writeChunk(writer, 1, patternBytes(10, 10));
      expect(await f.backend.stat(key)).toBeUndefined();
      expect(await listKeys(f.backend, f.prefix)).toEqual([]);
      expect(await f.backend.listPending(f.prefix)).toContainEqual(
        expect.objectContaining({ key, id: writer.id }),
      );
      await writer.complete([chunk]);
      expect(await f.backend.stat(key)).toMatchObject({ key, size: 10 });
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
    });

    it('chunks written out of order (3, 1, 2) make the object in chunk-number order', async () => {
      const key = f.key('out-of-order');
      const chunkSize = chunkSizeOf(f.backend);
      const data = patternBytes(2 * chunkSize + TAIL, 11);
      const writer = await f.backend.openWriter({ key, metadata: {}, chunkSize });
      const chunks = [];
      for (const n of [3, 1, 2])
        chunks.push(await writeChunk(writer, n, chunkOf(data, chunkSize, n)));
      expect(chunks.map((c) => c.size)).toEqual([TAIL, chunkSize, chunkSize]);
      const committed = await writer.complete(chunks);
      expect(committed.size).toBe(data.byteLength);
      expect(normalizeEtag((await f.backend.stat(key))?.etag ?? '')).toBe(
        normalizeEtag(committed.etag),
      );
      expectSameBytes(await readAll(f.backend, key, data.byteLength), data);
      // A range across the boundary of chunks 1 and 2 lies where chunkSize puts it.
      const across = await f.backend.readRange({ key, start: chunkSize - 5, end: chunkSize + 4 });
      expectSameBytes(across, data.subarray(chunkSize - 5, chunkSize + 5));
    });

    it('a re-sent chunk replaces the first: the object has the bytes sent last', async () => {
      const key = f.key('resent');
      const data = patternBytes(300, 12);
      const writer = await openAt(f.backend, key);
      await writeChunk(writer, 1, patternBytes(300, 13));
      const chunk = await writeChunk(writer, 1, data);
      await writer.complete([chunk]);
      expectSameBytes(await readAll(f.backend, key, 300), data);
    });

    it('complete replaces an existing object at the key, metadata included', async () => {
      const key = f.key('replaced');
      await putObject(f.backend, key, patternBytes(100, 14), { isfull: 'true' });
      const data = patternBytes(60, 15);
      await putObject(f.backend, key, data, { isfull: 'false' });
      expect(await f.backend.stat(key)).toMatchObject({ size: 60, metadata: { isfull: 'false' } });
      expectSameBytes(await readAll(f.backend, key, 60), data);
    });

    it('complete with a missing chunk rejects, shows nothing, and the write aborts', async () => {
      const key = f.key('gap');
      const chunkSize = chunkSizeOf(f.backend);
      const data = patternBytes(2 * chunkSize + TAIL, 16);
      const writer = await f.backend.openWriter({ key, metadata: {}, chunkSize });
      const first = await writeChunk(writer, 1, chunkOf(data, chunkSize, 1));
      const third = await writeChunk(writer, 3, chunkOf(data, chunkSize, 3));
      await storageErrorOf(writer.complete([first, third]));
      expect(await f.backend.stat(key)).toBeUndefined();
      expect(await listKeys(f.backend, f.prefix)).toEqual([]);
      await writer.abort();
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
    });

    it('complete checks the size: a chunk claimed longer than stored is an IntegrityError', async () => {
      // Why the size and not the MD5: where chunk receipts are not MD5s (S3 with SSE-KMS) a
      // backend cannot tell the digest, but every backend can tell the size.
      const key = f.key('tampered');
      const writer = await openAt(f.backend, key);
      const chunk = await writeChunk(writer, 1, patternBytes(100, 17));
      const error = await writer.complete([{ ...chunk, size: 101 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      await writer.abort();
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
      // No object, unless the backend could not prove it its own (S3 on Ceph RGW: its Complete
      // answers no ETag): then it stays, and the message must say so.
      if ((await f.backend.stat(key)) !== undefined) {
        expect((error as IntegrityError).message).toMatch(/; it was left in place: /);
      }
    });

    it('a chunk whose bytes do not match its MD5 is a StorageError; the write still aborts', async () => {
      const key = f.key('bad-md5');
      const writer = await openAt(f.backend, key);
      const body = patternBytes(100, 18);
      await storageErrorOf(writer.writeChunk({ number: 1, body, md5: new Uint8Array(16) }));
      await writer.abort();
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
      expect(await f.backend.stat(key)).toBeUndefined();
    });

    it('a chunk number outside 1..maxParts is a StorageError', async () => {
      const key = f.key('numbers');
      const writer = await openAt(f.backend, key);
      const body = patternBytes(10, 19);
      await storageErrorOf(writeChunk(writer, 0, body));
      await storageErrorOf(writeChunk(writer, f.backend.limits.maxParts + 1, body));
      await writer.abort();
    });

    it('abort twice resolves and leaves nothing: not listed, not pending', async () => {
      const key = f.key('aborted');
      const writer = await openAt(f.backend, key);
      await writeChunk(writer, 1, patternBytes(10, 20));
      await writer.abort();
      await expect(writer.abort()).resolves.toBeUndefined();
      expect(await f.backend.stat(key)).toBeUndefined();
      expect(await listKeys(f.backend, f.prefix)).toEqual([]);
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
    });

    it('abortPending removes a pending write by key and id; a missing one resolves', async () => {
      const key = f.key('pending');
      const writer = await openAt(f.backend, key);
      await writeChunk(writer, 1, patternBytes(10, 21));
      await f.backend.abortPending({ key, id: writer.id });
      expect(await f.backend.listPending(f.prefix)).toEqual([]);
      await expect(f.backend.abortPending({ key, id: writer.id })).resolves.toBeUndefined();
      expect(await listKeys(f.backend, f.prefix)).toEqual([]);
    });
  });
}
