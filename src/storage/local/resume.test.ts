import { appendFile, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import { md5 } from '../etag.js';
import { createLocalBackend } from './backend.js';
import { makeTempRoot } from './testing.js';

const KEY = 'z3-backup/tank@snap';
const CHUNK = 8;

let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ root, cleanup } = await makeTempRoot());
});
afterEach(() => cleanup());

function bytes(n: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) % 251));
}

const etagOf = (b: Uint8Array): string => `"${md5(b).toString('hex')}"`;

/** The chunk log of `id` beside the key's temporary. */
function logFile(id: string): string {
  return path.join(root, 'z3-backup', `.tank@snap.${id}.z3parts.z3tmp`);
}

/** A write with chunks 1 and 2 on disk, left open as a killed run would leave it. */
async function leftByKilledRun(): Promise<string> {
  const first = createLocalBackend(root);
  const writer = await first.openWriter({ key: KEY, metadata: { a: '1' }, chunkSize: CHUNK });
  for (const n of [1, 2]) {
    const body = bytes(CHUNK, n);
    await writer.writeChunk({ number: n, body, md5: md5(body) });
  }
  return writer.id;
}

describe('local backend resume (chunk log)', () => {
  it('another instance lists the chunks a killed run wrote, and resumes the write', async () => {
    const id = await leftByKilledRun();
    const backend = createLocalBackend(root);
    expect(await backend.listChunks({ key: KEY, id })).toEqual([
      { number: 1, size: CHUNK, etag: etagOf(bytes(CHUNK, 1)) },
      { number: 2, size: CHUNK, etag: etagOf(bytes(CHUNK, 2)) },
    ]);
    const writer = await backend.resumeWriter({
      key: KEY,
      id,
      metadata: { a: '1' },
      chunkSize: CHUNK,
    });
    const tail = bytes(3, 3);
    const last = await writer.writeChunk({ number: 3, body: tail, md5: md5(tail) });
    const kept = [1, 2].map((n) => ({
      number: n,
      size: CHUNK,
      md5: md5(bytes(CHUNK, n)),
      etag: etagOf(bytes(CHUNK, n)),
    }));
    await writer.complete([...kept, last]);
    const stored = await readFile(path.join(root, KEY));
    expect(stored.equals(Buffer.concat([bytes(CHUNK, 1), bytes(CHUNK, 2), tail]))).toBe(true);
    expect(await backend.listPending('')).toEqual([]);
  });

  it('a torn last log line is ignored, then cut off before the resumed write appends', async () => {
    const id = await leftByKilledRun();
    await appendFile(logFile(id), '{"n":3,"size":8,"md5":"00');
    const backend = createLocalBackend(root);
    expect((await backend.listChunks({ key: KEY, id })).map((c) => c.number)).toEqual([1, 2]);
    const writer = await backend.resumeWriter({ key: KEY, id, metadata: {}, chunkSize: CHUNK });
    const body = bytes(CHUNK, 3);
    await writer.writeChunk({ number: 3, body, md5: md5(body) });
    expect((await backend.listChunks({ key: KEY, id })).map((c) => c.number)).toEqual([1, 2, 3]);
    await writer.abort();
  });

  it('a chunk being written again when the run died is not listed (dropped before the write)', async () => {
    const id = await leftByKilledRun();
    await appendFile(logFile(id), '{"n":2,"drop":true}\n');
    const backend = createLocalBackend(root);
    expect((await backend.listChunks({ key: KEY, id })).map((c) => c.number)).toEqual([1]);
  });

  it('a logged chunk beyond the end of the data file is not listed', async () => {
    const id = await leftByKilledRun();
    await truncate(path.join(root, 'z3-backup', `.tank@snap.${id}.z3tmp`), CHUNK + 2);
    const backend = createLocalBackend(root);
    expect((await backend.listChunks({ key: KEY, id })).map((c) => c.number)).toEqual([1]);
  });

  it('resuming with another chunk size is refused', async () => {
    const id = await leftByKilledRun();
    const backend = createLocalBackend(root);
    const err = await backend
      .resumeWriter({ key: KEY, id, metadata: {}, chunkSize: CHUNK * 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(/written in chunks of 8 bytes, not 16/);
  });
});
