import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../errors.js';
import { md5, multipartEtag } from '../etag.js';
import { writtenMd5 } from '../rules.js';
import { patternBytes, writeChunk } from '../testing/conformance-helpers.js';
import { runBackendSuite } from '../testing/conformance.js';
import { MemBackend } from './backend.js';
import { injected } from '../../testing/faults.js';

runBackendSuite('mem', ({ pageSize }) =>
  Promise.resolve({ backend: new MemBackend({ pageSize }), prefix: 'conf/' }),
);

// The suite's branch for a backend that declares no conditional commit (it must refuse one).
runBackendSuite('mem without conditional commits', ({ pageSize }) =>
  Promise.resolve({
    backend: new MemBackend({ pageSize, conditionalCommit: false }),
    prefix: 'conf/',
  }),
);

describe('MemBackend', () => {
  it('builds each listing page when it is reached, pageSize objects at a time', async () => {
    const backend = new MemBackend({ pageSize: 2 });
    for (const name of ['a', 'b', 'c', 'd']) backend.seed(name, patternBytes(1, 1));
    const seen: string[] = [];
    for await (const o of backend.list('')) {
      seen.push(o.key);
      // Added after the first page was built: the next page, built now, has it.
      if (o.key === 'b') backend.seed('bb', patternBytes(1, 1));
    }
    expect(seen).toEqual(['a', 'b', 'bb', 'c', 'd']);
  });

  it("gives S3's ETags: MD5 for put, the multipart rule for a chunked write", async () => {
    const backend = new MemBackend({ limits: { ...new MemBackend().limits, minPartSize: 4 } });
    const data = patternBytes(10, 2);
    backend.seed('single', data);
    expect((await backend.stat('single'))?.etag).toBe(`"${md5(data).toString('hex')}"`);
    const writer = await backend.openWriter({ key: 'multi', metadata: {}, chunkSize: 4 });
    const chunks = [];
    for (const [n, from] of [
      [1, 0],
      [2, 4],
      [3, 8],
    ] as const) {
      chunks.push(await writeChunk(writer, n, data.subarray(from, from + 4)));
    }
    const committed = await writer.complete(chunks);
    expect(committed.etag).toBe(multipartEtag(chunks.map((c) => writtenMd5(c, 'k'))));
    expect(committed.etag).toMatch(/-3"$/);
  });

  it(
    "complete with an MD5 that is not the stored bytes' is an IntegrityError, no object",
    { tags: ['faults'] },
    async () => {
      const backend = new MemBackend();
      const writer = await backend.openWriter({ key: 'k', metadata: {}, chunkSize: 5 << 20 });
      const chunk = await writeChunk(writer, 1, patternBytes(100, 3));
      await expect(writer.complete([{ ...chunk, md5: new Uint8Array(16) }])).rejects.toBeInstanceOf(
        IntegrityError,
      );
      expect(await backend.stat('k')).toBeUndefined();
      injected('corrupt data');
    },
  );
});
