/**
 * A run's view of one dataset's index (src/storage/index/): read once, at the start, alongside
 * the first listing; consulted by every listing of the run, where an entry answers an object
 * only while the listing's ETag, size and LastModified equal the entry's (anything written by
 * Python z3, by hand or by an interrupted run is HEADed); rewritten after a successful backup
 * or prune from a fresh listing of every backup of the dataset. The objects stay the truth: an
 * index that is missing or unusable costs HEADs, never a wrong answer or a failed run.
 *
 * Only for a backend whose listing carries such validators (`features.hasStableListing`);
 * elsewhere (a local directory, where a stat costs nothing) there is no index.
 */
import { indexKey } from '../plan/index-key.js';
import { listingPrefix, normalizePrefix } from '../plan/remote.js';
import type { ObjectInfo } from '../storage/backend.js';
import { isSameBackups, type IndexEntry } from '../storage/index/format.js';
import { readIndex, writeIndex } from '../storage/index/remote.js';
import type { Storage } from '../storage/open.js';
import { warnOn, type CommandPorts } from './ports.js';

/** One dataset's index as this run knows it. */
export interface DatasetIndex {
  readonly isEnabled: boolean;
  readonly key: string;
  readonly dataset: string;
  /** S3_PREFIX, raw or normalised. */
  readonly prefix: string;
  /** The index's backups as read; undefined when it was missing or unusable. */
  readonly stored: Promise<ReadonlyMap<string, IndexEntry> | undefined>;
  /** By object key: the index's entries, then what every listing of this run returned. */
  readonly known: Promise<Map<string, IndexEntry>>;
}

/**
 * Start reading the index of `dataset` (not awaited: the first listing runs meanwhile). An
 * unusable one is reported through `warn`, once, as one line.
 */
export function openDatasetIndex(
  storage: Storage,
  input: { prefix: string; dataset: string; warn: (message: string) => void },
): DatasetIndex {
  const { prefix, dataset } = input;
  const key = indexKey(prefix, dataset);
  const isEnabled = storage.backend.features.hasStableListing;
  const read = isEnabled ? readIndex(storage.backend, key, dataset) : undefined;
  const stored = (async () => {
    const result = await read;
    if (result?.kind === 'unusable') {
      input.warn(
        `index ${key} unusable (${result.reason}); HEADing each backup instead; the next backup rewrites it`,
      );
    }
    return result?.kind === 'ok' ? result.backups : undefined;
  })();
  const known = stored.then((backups) => {
    const normalized = normalizePrefix(prefix);
    return new Map([...(backups ?? [])].map(([name, entry]) => [`${normalized}${name}`, entry]));
  });
  return { isEnabled, key, dataset, prefix, stored, known };
}

/** The objects under `listing` with their metadata, the index answering where it may. */
export async function listWithIndex(
  storage: Storage,
  index: DatasetIndex,
  listing: string,
): Promise<ObjectInfo[]> {
  const infos = await storage.listWithMetadata(listing, index.known);
  const known = await index.known;
  for (const info of infos) known.set(info.key, entryOf(info));
  return infos;
}

/**
 * After a successful backup or prune: list every backup of the dataset (whatever its snapshot
 * prefix) and write the index when it would change. Never throws: the backups are stored
 * whatever happens here, so a failure is a warning and the next run writes the index again.
 */
export async function saveDatasetIndex(
  storage: Storage,
  index: DatasetIndex,
  ports: Pick<CommandPorts, 'now' | 'stderr'>,
): Promise<void> {
  if (!index.isEnabled) return;
  try {
    const infos = await listWithIndex(
      storage,
      index,
      listingPrefix(index.prefix, index.dataset, ''),
    );
    const normalized = normalizePrefix(index.prefix);
    const backups = new Map(
      infos.map((info) => [info.key.slice(normalized.length), entryOf(info)]),
    );
    const stored = await index.stored;
    // Nothing to say (no backups, no index), or nothing new to say.
    if (stored === undefined ? backups.size === 0 : isSameBackups(stored, backups)) return;
    const written = new Date(ports.now()).toISOString();
    await writeIndex(storage.backend, index.key, { dataset: index.dataset, written, backups });
  } catch (err) {
    warnOn(ports)(
      `cannot write the index ${index.key}: ${(err as Error).message}; the backups are stored, the next backup writes it`,
    );
  }
}

/** What the index keeps of a listed and HEADed object. */
function entryOf(info: ObjectInfo): IndexEntry {
  const { etag, size, metadata } = info;
  return { etag, size, lastModified: info.lastModified ?? '', metadata };
}
