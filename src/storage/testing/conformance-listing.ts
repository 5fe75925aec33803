/**
 * Conformance tests of listings, on a backend that pages by 2 so that every listing here spans
 * several pages: order, each object once, prefix edges, `startAfter`, and writes in progress.
 */
import { describe, expect, it } from 'vitest';
import type { ListedObject } from '../backend.js';
import { normalizeEtag } from '../etag.js';
import {
  chunkSizeOf,
  listKeys,
  patternBytes,
  putObject,
  writeChunk,
  type SuiteFixture,
} from './conformance-helpers.js';

/**
 * Names in UTF-8 byte order, which differs from JavaScript's UTF-16 order at the end: U+FF5E
 * (EF BD 9E) sorts before U+1F600 (F0 9F 98 80), whose UTF-16 surrogate D83D sorts first.
 * Upper case sorts before lower case.
 */
const ORDERED_NAMES = ['B', 'Z', 'a', 'b', 'z', '~', 'é', '\uFF5E', '\u{1F600}'];

/** Store one small object per name, in an order unlike the listing's. */
async function putAll(f: SuiteFixture, names: readonly string[]): Promise<void> {
  for (const [i, name] of [...names].reverse().entries()) {
    await putObject(f.backend, f.key(name), patternBytes(i + 1, 30 + i));
  }
}

export function describeListing(f: SuiteFixture): void {
  describe('list', () => {
    it('lists every object once, in UTF-8 byte order, across pages', async () => {
      await putAll(f, ORDERED_NAMES);
      const listed: ListedObject[] = [];
      for await (const o of f.backend.list(f.prefix)) listed.push(o);
      expect(listed.map((o) => o.key)).toEqual(ORDERED_NAMES.map((n) => f.key(n)));
      for (const o of listed) {
        const info = await f.backend.stat(o.key);
        expect(o.size).toBe(info?.size);
        if (o.etag !== '""') expect(normalizeEtag(o.etag)).toBe(normalizeEtag(info?.etag ?? ''));
        if (o.lastModified !== '') expect(Number.isNaN(Date.parse(o.lastModified))).toBe(false);
      }
    });

    it('startAfter resumes strictly after a key, listed or not', async () => {
      await putAll(f, ['a', 'b', 'c', 'd', 'e']);
      const after = (name: string): Promise<string[]> => listKeys(f.backend, f.prefix, f.key(name));
      expect(await after('b')).toEqual(['c', 'd', 'e'].map((n) => f.key(n)));
      expect(await after('bb')).toEqual(['c', 'd', 'e'].map((n) => f.key(n)));
      expect(await after('d')).toEqual([f.key('e')]);
      expect(await after('e')).toEqual([]);
      expect(await listKeys(f.backend, f.prefix, f.prefix)).toHaveLength(5);
    });

    it('a prefix matches bytes, not folders: fs@ is not fs2@ nor fs/child@', async () => {
      const names = ['fs/child@1', 'fs2@1', 'fs@1', 'fs@2', 'fsx/deep/er@1'];
      await putAll(f, names);
      const list = (prefix: string): Promise<string[]> => listKeys(f.backend, f.key(prefix));
      expect(await list('fs@')).toEqual([f.key('fs@1'), f.key('fs@2')]);
      expect(await list('fs')).toEqual(names.map((n) => f.key(n)));
      expect(await list('fs/')).toEqual([f.key('fs/child@1')]);
      expect(await list('fsx/de')).toEqual([f.key('fsx/deep/er@1')]);
      expect(await list('fs@3')).toEqual([]);
      expect(await list('nothing/')).toEqual([]);
    });

    it('an object being written is neither listed nor stat-able until complete', async () => {
      await putAll(f, ['a', 'c']);
      const key = f.key('b');
      const writer = await f.backend.openWriter({
        key,
        metadata: {},
        chunkSize: chunkSizeOf(f.backend),
      });
      const chunk = await writeChunk(writer, 1, patternBytes(10, 40));
      expect(await listKeys(f.backend, f.prefix)).toEqual([f.key('a'), f.key('c')]);
      expect(await f.backend.stat(key)).toBeUndefined();
      await writer.complete([chunk]);
      expect(await listKeys(f.backend, f.prefix)).toEqual(['a', 'b', 'c'].map((n) => f.key(n)));
    });
  });
}
