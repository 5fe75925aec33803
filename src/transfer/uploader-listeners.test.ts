/**
 * With CONCURRENCY 32 every worker's request listens to the upload's stop signal, as the AWS SDK
 * does with its abortSignal: Node must not print a MaxListenersExceededWarning for that on the
 * user's terminal (it did for every `z3 backup` with the defaults).
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, ChunkWriter, OpenWriterInput } from '../storage/backend.js';
import { S3_LIMITS } from '../storage/limits.js';
import { MemBackend } from '../storage/mem/backend.js';
import { uploadStream } from './uploader.js';

/** `mem`, whose chunk writes listen to their signal while they take 5 ms. */
function listening(mem: MemBackend): Backend {
  return Object.assign(Object.create(mem) as Backend, {
    async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
      const writer = await mem.openWriter(input);
      return {
        key: writer.key,
        id: writer.id,
        digest: writer.digest,
        complete: (chunks) => writer.complete(chunks),
        abort: () => writer.abort(),
        async writeChunk(chunk) {
          const onAbort = (): void => undefined;
          chunk.signal?.addEventListener('abort', onAbort);
          await sleep(5);
          chunk.signal?.removeEventListener('abort', onAbort);
          return writer.writeChunk(chunk);
        },
      };
    },
  });
}

const warnings: Error[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w);
};
afterEach(() => {
  process.off('warning', onWarning);
});

describe('uploadStream with many workers', () => {
  it('prints no MaxListenersExceededWarning at CONCURRENCY 32', async () => {
    process.on('warning', onWarning);
    const mem = new MemBackend({ limits: { ...S3_LIMITS, minPartSize: 1 } });
    const result = await uploadStream({
      source: Readable.from([Buffer.alloc(1000, 7)]),
      backend: listening(mem),
      key: 'k',
      metadata: {},
      storageClass: undefined,
      partSize: 10,
      concurrency: 32,
    });
    await sleep(10); // warnings are emitted on a later tick
    expect(result.parts).toBe(100);
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });
});
