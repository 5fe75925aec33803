import { listingPrefix, parseRemoteSnapshots } from '../plan/remote.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { Storage } from '../storage/open.js';
import { resolveSegments } from '../transfer/segments-read.js';
import { listWithIndex, openDatasetIndex, type DatasetIndex } from './dataset-index.js';

/**
 * The remote side of one dataset: every object under `<prefix><fs>@<snapshotPrefix>` with its
 * metadata (the listing, answered from the metadata cache and the dataset's index where they
 * may: ./dataset-index.ts), as snapshots, segmented backups with their segments checked (src/transfer/segments-read.ts).
 * `index` is the run's, when it rewrites the index
 * afterwards; without one, the index is read here, and an unusable one is told to `warn`.
 */
export async function fetchRemoteSnapshots(
  storage: Storage,
  opts: {
    prefix: string;
    filesystem: string;
    snapshotPrefix: string;
    warn: (message: string) => void;
    index?: DatasetIndex | undefined;
  },
): Promise<RemoteSnapshot[]> {
  const index =
    opts.index ??
    openDatasetIndex(storage, { prefix: opts.prefix, dataset: opts.filesystem, warn: opts.warn });
  const listed = await listWithIndex(
    storage,
    index,
    listingPrefix(opts.prefix, opts.filesystem, opts.snapshotPrefix),
  );
  return resolveSegments(storage.backend, parseRemoteSnapshots(opts.prefix, listed));
}
