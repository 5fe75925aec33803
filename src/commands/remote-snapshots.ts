import { parseRemoteSnapshots, listingPrefix } from '../plan/remote.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { ObjectInfo, ObjectReader } from '../storage/types.js';

/** HEAD requests in flight at once when reading metadata (the original did them serially). */
const HEAD_CONCURRENCY = 32;

/**
 * Read the S3 side of one dataset: every object under `<prefix><fs>@<snapshotPrefix>` (all
 * pages), then its metadata with bounded concurrent HEADs. Objects deleted between the
 * listing and their HEAD are left out.
 */
export async function fetchRemoteSnapshots(
  reader: ObjectReader,
  opts: { prefix: string; filesystem: string; snapshotPrefix: string },
): Promise<RemoteSnapshot[]> {
  const keys: string[] = [];
  for await (const o of reader.list(
    listingPrefix(opts.prefix, opts.filesystem, opts.snapshotPrefix),
  )) {
    keys.push(o.key);
  }
  const infos = await mapBounded(keys, HEAD_CONCURRENCY, (k) =>
    reader.headBulk !== undefined ? reader.headBulk(k) : reader.head(k),
  );
  const found = infos.filter((i): i is ObjectInfo => i !== undefined);
  return parseRemoteSnapshots(opts.prefix, found);
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
