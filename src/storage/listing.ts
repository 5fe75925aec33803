/**
 * Every object under a prefix with its metadata: a listing, then a stat of each object the
 * metadata cache cannot answer. The cache policy lives here, beside the cache itself
 * (./metadata-cache.ts says why it is safe): it is used only for a backend whose listing
 * carries validators that change with every write (`features.hasStableListing`), and stats go
 * through the backend's bulk stat where it has one.
 */
import type { Backend, ListedObject, ObjectInfo } from './backend.js';
import {
  lookupCachedInfo,
  metadataCachePath,
  readMetadataCache,
  writeMetadataCache,
  type CachedMetadata,
} from './metadata-cache.js';

/** Stats in flight at once (the original did them one by one). */
const STAT_CONCURRENCY = 32;

/** Where a run keeps its metadata cache, and how it reports a cache it cannot write. */
export interface MetadataCacheOptions {
  /** The cache directory (CACHE_DIR). */
  dir: string;
  /** What the cache belongs to: the backend's location and, for S3, its endpoint. */
  endpoint: string | undefined;
  bucket: string;
  /** Called with a one-line message when the cache cannot be written (the run goes on). */
  warn: (message: string) => void;
}

/** Entries known from elsewhere than the local cache (the dataset's index), by object key. */
export type KnownMetadata = ReadonlyMap<string, CachedMetadata>;

/**
 * The objects under `prefix` (all pages) with their metadata, in listing order. Objects
 * removed between the listing and their stat are left out. With `cache` (and a backend whose
 * listing allows it), unchanged objects are answered from the cache, which is rewritten
 * afterwards with exactly this listing's objects; failing to write it is only a warning.
 * `known` (awaited after the listing, so it can be fetched meanwhile) answers the objects the
 * cache does not, under the same rule: its ETag, size and LastModified equal the listing's.
 */
export async function listWithMetadata(
  backend: Backend,
  prefix: string,
  cache?: MetadataCacheOptions,
  known?: Promise<KnownMetadata>,
): Promise<ObjectInfo[]> {
  const listed: ListedObject[] = [];
  for await (const o of backend.list(prefix)) listed.push(o);
  const stable = backend.features.hasStableListing;
  const cachePath =
    cache !== undefined && stable ? metadataCachePath({ ...cache, prefix }) : undefined;
  const cached = cachePath === undefined ? new Map() : await readMetadataCache(cachePath);
  const fromIndex: KnownMetadata = (stable ? await known : undefined) ?? new Map();
  const infos = listed.map((o) => lookupCachedInfo(cached, o) ?? lookupCachedInfo(fromIndex, o));
  const misses = listed.flatMap((o, i) => (infos[i] === undefined ? [i] : []));
  const stat = backend.features.statBulk ?? ((key: string) => backend.stat(key));
  const stats = await mapBounded(misses, STAT_CONCURRENCY, (i) => stat(listed[i]!.key));
  misses.forEach((i, n) => (infos[i] = stats[n]));
  // The listing's own fields, which a stat or the cache does not carry (prune reads them).
  infos.forEach((info, i) => {
    const { lastModified, storageClass } = listed[i]!;
    if (info !== undefined) infos[i] = { ...info, lastModified, storageClass };
  });
  if (cachePath !== undefined && cache !== undefined) {
    await saveCache(cachePath, listed, infos, cache.warn);
  }
  return infos.filter((i): i is ObjectInfo => i !== undefined);
}

/** Write the cache entries of this listing (objects gone before their stat are left out). */
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

/**
 * Map with at most `limit` calls in flight, results in input order; the first error wins. Also
 * the dataset runner's pool (src/commands/for-each-dataset.ts).
 */
export async function mapBounded<T, R>(
  items: T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
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
