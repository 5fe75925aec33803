/**
 * Conformance tests of single objects: stat, metadata, byte ranges, remove, awkward keys, and
 * the limits and features a backend declares.
 */
import { describe, expect, it } from 'vitest';
import { normalizeEtag } from '../etag.js';
import {
  expectSameBytes,
  listKeys,
  patternBytes,
  putObject,
  readAll,
  storageErrorOf,
  type SuiteFixture,
} from './conformance-helpers.js';

/** A key as a ZFS snapshot name makes it: a slash, spaces, `@` and `:`. */
const AWKWARD_KEY = 'tank/my data@zfs-auto-snap:daily-2026-11-26 00:00';

export function describeObjects(f: SuiteFixture): void {
  describe('stat, metadata and remove', () => {
    it('a missing key: stat is undefined, readRange is not-found, remove resolves', async () => {
      const key = f.key('missing');
      expect(await f.backend.stat(key)).toBeUndefined();
      const error = await storageErrorOf(f.backend.readRange({ key, start: 0, end: 0 }));
      expect(error.isNotFound).toBe(true);
      await expect(f.backend.remove(key)).resolves.toBeUndefined();
    });

    it('keeps metadata: keys lower-cased, values with =, + and spaces unchanged', async () => {
      const key = f.key('meta');
      const metadata = { Ana: 'are+mere', dana: 'are=pere', NOTE: 'a value with spaces' };
      await putObject(f.backend, key, patternBytes(10, 1), metadata);
      expect((await f.backend.stat(key))?.metadata).toEqual({
        ana: 'are+mere',
        dana: 'are=pere',
        note: 'a value with spaces',
      });
    });

    it('complete reports the size and a quoted ETag, and stat reports the same', async () => {
      const key = f.key('etag');
      const committed = await putObject(f.backend, key, patternBytes(100, 2));
      expect(committed.size).toBe(100);
      expect(committed.etag).toMatch(/^".+"$/);
      const info = await f.backend.stat(key);
      expect(info).toMatchObject({ key, size: 100 });
      expect(normalizeEtag(info?.etag ?? '')).toBe(normalizeEtag(committed.etag));
    });

    it('remove deletes: stat undefined, not listed, readRange not-found', async () => {
      const key = f.key('removed');
      await putObject(f.backend, key, patternBytes(10, 3));
      await f.backend.remove(key);
      expect(await f.backend.stat(key)).toBeUndefined();
      expect(await listKeys(f.backend, f.prefix)).toEqual([]);
      const error = await storageErrorOf(f.backend.readRange({ key, start: 0, end: 0 }));
      expect(error.isNotFound).toBe(true);
    });

    it('a key with a slash, spaces, @ and : round-trips through every call', async () => {
      const key = f.key(AWKWARD_KEY);
      const data = patternBytes(50, 4);
      await putObject(f.backend, key, data, { isfull: 'true' });
      expect(await f.backend.stat(key)).toMatchObject({
        key,
        size: 50,
        metadata: { isfull: 'true' },
      });
      expect(await listKeys(f.backend, f.key('tank/my data@'))).toEqual([key]);
      expectSameBytes(await readAll(f.backend, key, 50), data);
      await f.backend.remove(key);
      expect(await f.backend.stat(key)).toBeUndefined();
    });
  });

  describe('readRange', () => {
    const size = 1000;
    const data = patternBytes(size, 5);

    it('reads the first byte, the last byte, a middle range and the whole object', async () => {
      const key = f.key('ranges');
      await putObject(f.backend, key, data);
      const read = (start: number, end: number): Promise<Uint8Array> =>
        f.backend.readRange({ key, start, end });
      expectSameBytes(await read(0, 0), data.subarray(0, 1));
      expectSameBytes(await read(size - 1, size - 1), data.subarray(size - 1));
      expectSameBytes(await read(100, 299), data.subarray(100, 300));
      expectSameBytes(await read(0, size - 1), data);
    });

    it('fills a target larger than needed and returns a view of it, exactly as long', async () => {
      const key = f.key('target');
      await putObject(f.backend, key, data);
      const target = new Uint8Array(500);
      const result = await f.backend.readRange({ key, start: 10, end: 209, target });
      expect(result.byteLength).toBe(200);
      expect(result.buffer).toBe(target.buffer);
      expectSameBytes(result, data.subarray(10, 210));
      expectSameBytes(target.subarray(0, 200), data.subarray(10, 210));
    });

    it('a range past the end is a StorageError, not a short read', async () => {
      const key = f.key('past-end');
      await putObject(f.backend, key, data);
      const overlapping = await storageErrorOf(
        f.backend.readRange({ key, start: size - 2, end: size }),
      );
      expect(overlapping.isNotFound).toBe(false);
      const beyond = await storageErrorOf(f.backend.readRange({ key, start: size, end: size + 9 }));
      expect(beyond.isNotFound).toBe(false);
    });
  });

  describe('limits and features', () => {
    it('declares consistent limits', () => {
      const { minPartSize, maxPartSize, maxParts, maxObjectSize } = f.backend.limits;
      expect(minPartSize).toBeGreaterThanOrEqual(1);
      expect(minPartSize).toBeLessThanOrEqual(maxPartSize);
      expect(maxParts).toBeGreaterThanOrEqual(1);
      expect(maxObjectSize).toBeGreaterThanOrEqual(maxPartSize);
    });

    it('declares its features as data; statBulk, where present, agrees with stat', async () => {
      const { features } = f.backend;
      expect(typeof features.hasStableListing).toBe('boolean');
      const key = f.key('bulk');
      await putObject(f.backend, key, patternBytes(10, 6), { isfull: 'false' });
      if (features.statBulk === undefined) return;
      expect(await features.statBulk(key)).toEqual(await f.backend.stat(key));
      expect(await features.statBulk(f.key('bulk-missing'))).toBeUndefined();
    });
  });
}
