/**
 * The index object on the backend: read with a stat and one ranged GET of the whole object,
 * written with one PUT (`Backend.put`: visible only complete, so a reader sees the old index or
 * the new one). Reading never throws: anything short of a well-formed index of this dataset is
 * `missing` or `unusable` with a reason, and the caller falls back to HEADs (the objects are the
 * truth; the index only saves requests).
 */
import type { Backend } from '../backend.js';
import { md5 } from '../etag.js';
import { decodeIndex, encodeIndex, type IndexDocument, type IndexEntry } from './format.js';

/** Larger than any index z3 writes (some 200,000 backups of a dataset): refused unread. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** What reading an index found. */
export type IndexRead =
  | { kind: 'missing' }
  | { kind: 'ok'; backups: Map<string, IndexEntry> }
  | { kind: 'unusable'; reason: string };

/** The index of `dataset` stored at `key`; never throws (a failed read is `unusable`). */
export async function readIndex(
  backend: Backend,
  key: string,
  dataset: string,
): Promise<IndexRead> {
  try {
    const info = await backend.stat(key);
    if (info === undefined) return { kind: 'missing' };
    if (info.size === 0) return { kind: 'unusable', reason: 'empty' };
    if (info.size > MAX_INDEX_BYTES) {
      return { kind: 'unusable', reason: `${info.size} bytes, larger than any index z3 writes` };
    }
    const bytes = await backend.readRange({
      key,
      start: 0,
      end: info.size - 1,
      ifMatch: info.etag === '' ? undefined : info.etag,
    });
    return decodeIndex(Buffer.from(bytes).toString('utf8'), dataset);
  } catch (err) {
    return { kind: 'unusable', reason: `cannot be read: ${(err as Error).message}` };
  }
}

/**
 * Replace the index at `key` with `doc`, in one request.
 *
 * @throws the backend's StorageError, or an Error when the document is too large to be read back.
 */
export async function writeIndex(backend: Backend, key: string, doc: IndexDocument): Promise<void> {
  const body = Buffer.from(encodeIndex(doc), 'utf8');
  if (body.byteLength > MAX_INDEX_BYTES) {
    throw new Error(`${body.byteLength} bytes, more than an index may hold (${MAX_INDEX_BYTES})`);
  }
  await backend.put({ key, body, md5: md5(body), metadata: {} });
}
