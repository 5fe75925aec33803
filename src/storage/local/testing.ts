/**
 * Test helpers for the local backend: a fresh directory under the system's temp directory per
 * test, and a one-call write of a whole object in chunks. Not used by production code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend, CommittedObject, WrittenChunk } from '../backend.js';
import { md5 } from '../etag.js';

/** A new empty directory; `cleanup` removes it with everything in it. */
export async function makeTempRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'z3-local-'));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export interface PutInput {
  key: string;
  data: Uint8Array;
  metadata?: Record<string, string>;
  /** Default: the whole object in one chunk. */
  chunkSize?: number;
}

/** The chunk bodies of `data` cut at `chunkSize` (one empty chunk for empty data). */
export function splitChunks(data: Uint8Array, chunkSize: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength; at += chunkSize) {
    out.push(data.subarray(at, at + chunkSize));
  }
  return out.length === 0 ? [data] : out;
}

/** Write `data` as an object through a chunk writer, chunks in order. */
export async function putObject(backend: Backend, input: PutInput): Promise<CommittedObject> {
  const chunkSize = input.chunkSize ?? Math.max(1, input.data.byteLength);
  const writer = await backend.openWriter({
    key: input.key,
    metadata: input.metadata ?? {},
    chunkSize,
  });
  const written: WrittenChunk[] = [];
  for (const [i, body] of splitChunks(input.data, chunkSize).entries()) {
    written.push(await writer.writeChunk({ number: i + 1, body, md5: md5(body) }));
  }
  return writer.complete(written);
}

/** Everything an async iterable yields, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
