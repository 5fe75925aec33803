/**
 * Small tools of the backend conformance suite: deterministic test data, writing a whole object
 * through the chunk writer, collecting listings, and catching the error a call rejects with.
 * They use only the `Backend` contract, so they work on every backend.
 */
import { expect } from 'vitest';
import { StorageError } from '../../errors.js';
import type { Backend, ChunkWriter, CommittedObject, WrittenChunk } from '../backend.js';
import { md5 } from '../etag.js';

/** The key prefix and backend one group of tests works on. */
export interface SuiteFixture {
  readonly backend: Backend;
  /** Unique to this run; every key the suite writes starts with it. */
  readonly prefix: string;
  /** `name` under the prefix. */
  key(name: string): string;
}

/**
 * A chunk size every backend accepts for a chunk that is not the last: its minimum, but at
 * least 1 KiB so that chunks on a backend without a minimum (a local directory) are not single
 * bytes. S3: 5 MiB, so multi-chunk objects are kept few.
 */
export function chunkSizeOf(backend: Backend): number {
  return Math.min(backend.limits.maxPartSize, Math.max(backend.limits.minPartSize, 1024));
}

/**
 * `length` pseudo-random bytes, the same for the same `seed` (xorshift32): content where a
 * misplaced chunk or an off-by-one range shows, without a random failure that cannot be replayed.
 */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}

/** Write chunk `number` with its true MD5. */
export function writeChunk(
  writer: ChunkWriter,
  number: number,
  body: Uint8Array,
): Promise<WrittenChunk> {
  return writer.writeChunk({ number, body, md5: md5(body) });
}

/** Bytes of chunk `number` (1-based) of `data` cut in chunks of `chunkSize`. */
export function chunkOf(data: Uint8Array, chunkSize: number, number: number): Uint8Array {
  return data.subarray((number - 1) * chunkSize, number * chunkSize);
}

/**
 * Store `data` at `key` through the chunk writer, as the uploader does: chunks of
 * `chunkSizeOf(backend)` in order, then complete. On a failure the write is aborted.
 */
export async function putObject(
  backend: Backend,
  key: string,
  data: Uint8Array,
  metadata: Record<string, string> = {},
): Promise<CommittedObject> {
  const chunkSize = chunkSizeOf(backend);
  const writer = await backend.openWriter({ key, metadata, chunkSize });
  try {
    const count = Math.max(1, Math.ceil(data.byteLength / chunkSize));
    const chunks: WrittenChunk[] = [];
    for (let n = 1; n <= count; n++)
      chunks.push(await writeChunk(writer, n, chunkOf(data, chunkSize, n)));
    return await writer.complete(chunks);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** The keys a listing yields, in the order it yields them. */
export async function listKeys(
  backend: Backend,
  prefix: string,
  startAfter?: string,
): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of backend.list(prefix, { startAfter })) keys.push(o.key);
  return keys;
}

/** The whole object at `key`, read as one range. */
export function readAll(backend: Backend, key: string, size: number): Promise<Uint8Array> {
  return backend.readRange({ key, start: 0, end: size - 1 });
}

/**
 * Assert that `actual` holds exactly the bytes of `expected`. Why not `toEqual`: it compares
 * megabytes element by element and prints them all on a mismatch; this names the first offset.
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength, 'length').toBe(expected.byteLength);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  if (a.equals(expected)) return;
  const offset = a.findIndex((byte, i) => byte !== expected[i]);
  expect.fail(`bytes differ from offset ${offset}`);
}

/**
 * The StorageError `promise` rejects with. Fails the test when it resolves or rejects with
 * anything else, so a backend that throws a plain Error (or nothing) is caught.
 */
export async function storageErrorOf(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StorageError) return error;
    throw new Error(`expected a StorageError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a StorageError, but the call succeeded');
}

/**
 * Remove every object and pending write under `prefix`. Keys are collected before removing, so
 * no backend has to list a folder while it changes.
 */
export async function sweepPrefix(backend: Backend, prefix: string): Promise<void> {
  for (const key of await listKeys(backend, prefix)) await backend.remove(key);
  for (const pending of await backend.listPending(prefix)) await backend.abortPending(pending);
}
