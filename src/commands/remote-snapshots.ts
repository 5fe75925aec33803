import { parseRemoteSnapshots, listingPrefix } from '../plan/remote.js';
import type { RemoteSnapshot } from '../plan/types.js';
import {
  lookupCachedInfo,
  metadataCachePath,
  readMetadataCache,
  writeMetadataCache,
  type CachedMetadata,
} from '../storage/metadata-cache.js';
import type { ListedObject, ObjectInfo, ObjectReader } from '../storage/types.js';

/** HEAD requests in flight at once when reading metadata (the original did them serially). */
const HEAD_CONCURRENCY = 32;

/** Where the metadata cache of a run lives and which bucket it is for. */
export interface RemoteCacheOptions {
  /** The cache directory (CACHE_DIR). */
  dir: string;
  /** The S3 endpoint URL; undefined = AWS. */
  endpoint: string | undefined;
  bucket: string;
  /** Called with a one-line message when the cache cannot be written (the run goes on). */
  warn: (message: string) => void;
}

/**
 * Read the S3 side of one dataset: every object under `<prefix><fs>@<snapshotPrefix>` (all
 * pages), then its metadata: from the local cache when the listing shows the object unchanged
 * (src/storage/metadata-cache.ts), else with bounded concurrent HEADs. Objects deleted between
 * the listing and their HEAD are left out. With `cache`, the cache is rewritten afterwards with
 * exactly this listing's objects; failing to write it is only a warning.
 */
export async function fetchRemoteSnapshots(
  reader: ObjectReader,
  opts: {
    prefix: string;
    filesystem: string;
    snapshotPrefix: string;
    cache?: RemoteCacheOptions | undefined;
  },
): Promise<RemoteSnapshot[]> {
  const prefix = listingPrefix(opts.prefix, opts.filesystem, opts.snapshotPrefix);
  const listed: ListedObject[] = [];
  for await (const o of reader.list(prefix)) listed.push(o);
  const cachePath =
    opts.cache === undefined ? undefined : metadataCachePath({ ...opts.cache, prefix });
  const cached = cachePath === undefined ? new Map() : await readMetadataCache(cachePath);
  const infos = listed.map((o) => lookupCachedInfo(cached, o));
  const misses = listed.flatMap((o, i) => (infos[i] === undefined ? [i] : []));
  const heads = await mapBounded(misses, HEAD_CONCURRENCY, (i) => {
    const key = (listed[i] as ListedObject).key;
    return reader.headBulk !== undefined ? reader.headBulk(key) : reader.head(key);
  });
  misses.forEach((i, n) => (infos[i] = heads[n]));
  if (cachePath !== undefined && opts.cache !== undefined) {
    await saveCache(cachePath, listed, infos, opts.cache.warn);
  }
  const found = infos.filter((i): i is ObjectInfo => i !== undefined);
  return parseRemoteSnapshots(opts.prefix, found);
}

/** Write the cache entries of this listing (objects gone before their HEAD are left out). */
async function saveCache(
  path: string,
  listed: ListedObject[],
  infos: (ObjectInfo | undefined)[],
  warn: (message: string) => void,
): Promise<void> {
  const entries = new Map<string, CachedMetadata>();
  listed.forEach((o, i) => {
    const info = infos[i];
    if (info === undefined) return;
    const { etag, size, lastModified } = o;
    entries.set(o.key, { etag, size, lastModified, metadata: info.metadata });
  });
  try {
    await writeMetadataCache(path, entries);
  } catch (err) {
    warn(`cannot write the metadata cache ${path}: ${(err as Error).message}`);
  }
}

/** Map with at most `limit` calls in flight, results in input order; the first error wins. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
