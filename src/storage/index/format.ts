/**
 * The index object's format (pure): one JSON document per dataset holding what a listing and
 * a HEAD of each of its backups said, so that a machine with an empty CACHE_DIR (the day you
 * restore) reads every backup's metadata from one GET instead of one HEAD per object. The
 * README ("The index") documents it for people; this module is its definition.
 *
 * Versioned: a document of another `format`, another dataset, or a version this z3 does not
 * know is unusable as a whole and reported as such (the caller warns and HEADs instead), so an
 * older z3 never misreads a newer layout. A malformed entry makes the whole document unusable:
 * a half-valid index says something wrote it wrongly, and the objects are the truth.
 */
import { isCachedMetadata, isRecord, type CachedMetadata } from '../metadata-cache.js';

/** What a document says it is, so that no other JSON is taken for an index. */
export const INDEX_FORMAT = 'z3-index';
/** Bumped when the layout changes; a reader refuses versions it does not know. */
export const INDEX_VERSION = 1;

/** One backup as its listing and HEAD gave it: the validators and the user metadata. */
export type IndexEntry = CachedMetadata;

/** The content of an index: the dataset and its backups by name (`<dataset>@<snapshot>`). */
export interface IndexDocument {
  dataset: string;
  /** When it was written (ISO 8601), for people; never used to decide anything. */
  written: string;
  backups: ReadonlyMap<string, IndexEntry>;
}

/** The outcome of reading a document: its backups, or why it cannot be used. */
export type DecodedIndex =
  { kind: 'ok'; backups: Map<string, IndexEntry> } | { kind: 'unusable'; reason: string };

/** The JSON text of `doc`, entries in name order (so equal contents give equal text). */
export function encodeIndex(doc: IndexDocument): string {
  const names = [...doc.backups.keys()].sort();
  const backups = Object.fromEntries(names.map((name) => [name, doc.backups.get(name)]));
  return JSON.stringify({
    format: INDEX_FORMAT,
    version: INDEX_VERSION,
    dataset: doc.dataset,
    written: doc.written,
    backups,
  });
}

/** Read `text` as the index of `dataset`; never throws. */
export function decodeIndex(text: string, dataset: string): DecodedIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return unusable('not JSON');
  }
  if (!isRecord(parsed) || parsed['format'] !== INDEX_FORMAT) return unusable('not a z3 index');
  const version = parsed['version'];
  if (typeof version === 'number' && version > INDEX_VERSION) {
    return unusable(
      `written by a newer z3 (format version ${version}, this z3 reads ${INDEX_VERSION})`,
    );
  }
  if (version !== INDEX_VERSION) return unusable(`unknown format version ${String(version)}`);
  if (parsed['dataset'] !== dataset) {
    return unusable(`the index of ${JSON.stringify(parsed['dataset'])}, not of ${dataset}`);
  }
  const raw = parsed['backups'];
  if (!isRecord(raw)) return unusable('no backups');
  const backups = new Map<string, IndexEntry>();
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(`${dataset}@`) || !isCachedMetadata(value)) {
      return unusable(`malformed entry ${JSON.stringify(name)}`);
    }
    backups.set(name, value);
  }
  return { kind: 'ok', backups };
}

/** Whether two sets of backups say the same (a rewrite of the index would change nothing). */
export function isSameBackups(
  a: ReadonlyMap<string, IndexEntry>,
  b: ReadonlyMap<string, IndexEntry>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, entry] of a) {
    const other = b.get(name);
    if (
      other === undefined ||
      JSON.stringify(canonical(entry)) !== JSON.stringify(canonical(other))
    ) {
      return false;
    }
  }
  return true;
}

/** An entry with its fields and metadata keys in one order, for comparison. */
function canonical(entry: IndexEntry): unknown[] {
  const metadata = Object.entries(entry.metadata).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return [entry.etag, entry.size, entry.lastModified, metadata];
}

function unusable(reason: string): DecodedIndex {
  return { kind: 'unusable', reason };
}
