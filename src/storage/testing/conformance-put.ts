/**
 * Conformance tests of `put`, the one-request write: the bytes and metadata land as a chunked
 * write's would, an empty object is fine, a wrong MD5 stores nothing, and a conditional put
 * never replaces another writer's object but accepts its own bytes again (a retry).
 */
import { describe, expect, it } from 'vitest';
import { CommitConflictError } from '../../errors.js';
import type { Backend, CommittedObject } from '../backend.js';
import { md5 } from '../etag.js';
import {
  expectSameBytes,
  listKeys,
  patternBytes,
  putObject,
  readAll,
  storageErrorOf,
  type SuiteFixture,
} from './conformance-helpers.js';

/** `put` of `data` at `key`, with its true MD5. */
function putBytes(
  backend: Backend,
  key: string,
  data: Uint8Array,
  options: { metadata?: Record<string, string>; ifNoneMatch?: boolean } = {},
): Promise<CommittedObject> {
  const { metadata = {}, ifNoneMatch } = options;
  return backend.put({ key, body: data, md5: md5(data), metadata, ifNoneMatch });
}

export function describePut(f: SuiteFixture): void {
  describe('put (one request)', () => {
    it('stores the bytes and the metadata, reports size and a quoted ETag as stat does', async () => {
      const key = f.key('put');
      const data = patternBytes(1000, 50);
      const committed = await putBytes(f.backend, key, data, { metadata: { Isfull: 'true' } });
      expect(committed.size).toBe(1000);
      expect(committed.etag).toMatch(/^".+"$/);
      const info = await f.backend.stat(key);
      expect(info).toMatchObject({
        size: 1000,
        etag: committed.etag,
        metadata: { isfull: 'true' },
      });
      expectSameBytes(await readAll(f.backend, key, 1000), data);
    });

    it('stores an empty object', async () => {
      const key = f.key('put-empty');
      expect(await putBytes(f.backend, key, new Uint8Array(0))).toMatchObject({ size: 0 });
      expect(await f.backend.stat(key)).toMatchObject({ size: 0 });
      expect(await listKeys(f.backend, f.prefix)).toEqual([key]);
    });

    it('a body that does not match its MD5 stores nothing', async () => {
      const key = f.key('put-bad-md5');
      const data = patternBytes(100, 51);
      const put = f.backend.put({ key, body: data, md5: md5(patternBytes(100, 52)), metadata: {} });
      await storageErrorOf(put);
      expect(await f.backend.stat(key)).toBeUndefined();
    });

    it('replaces an object at the key', async () => {
      const key = f.key('put-replace');
      await putObject(f.backend, key, patternBytes(10, 53));
      const data = patternBytes(20, 54);
      await putBytes(f.backend, key, data);
      expectSameBytes(await readAll(f.backend, key, 20), data);
    });

    it('ifNoneMatch: another object at the key stays, the same bytes again succeed', async () => {
      if (!f.backend.features.conditionalCommit) return;
      const key = f.key('put-if-none');
      const first = patternBytes(30, 55);
      await putBytes(f.backend, key, first, { ifNoneMatch: true });
      const error = await putBytes(f.backend, key, patternBytes(30, 56), { ifNoneMatch: true })
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommitConflictError);
      expectSameBytes(await readAll(f.backend, key, 30), first);
      await expect(putBytes(f.backend, key, first, { ifNoneMatch: true })).resolves.toMatchObject({
        size: 30,
      });
    });
  });
}
