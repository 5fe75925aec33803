import { listingPrefix, parseRemoteSnapshots } from '../plan/remote.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { Storage } from '../storage/open.js';
import { resolveSegments } from '../transfer/segments-read.js';

/**
 * The remote side of one dataset: every object under `<prefix><fs>@<snapshotPrefix>` with its
 * metadata (the listing, with the metadata cache where the storage has one), as snapshots,
 * segmented backups with their segments checked (src/transfer/segments-read.ts).
 */
export async function fetchRemoteSnapshots(
  storage: Storage,
  opts: { prefix: string; filesystem: string; snapshotPrefix: string },
): Promise<RemoteSnapshot[]> {
  const listed = await storage.listWithMetadata(
    listingPrefix(opts.prefix, opts.filesystem, opts.snapshotPrefix),
  );
  return resolveSegments(storage.backend, parseRemoteSnapshots(opts.prefix, listed));
}
