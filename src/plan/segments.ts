/**
 * The layout of a segmented backup (issue 9 item 2): a stream longer than one object can hold
 * (the backend's part count or size limit, or SEGMENT_SIZE) is stored as several objects.
 *
 * - Segment 1 is the backup object itself, at `<prefix><fs>@<snap>`, with every metadata key
 *   Python z3 reads. Its metadata is fixed when its upload starts, before the stream's length
 *   is known, so it records what is known then, on every z3 backup: `segmentsize` (the
 *   capacity of one segment in bytes) and `segmentdir` (where segments 2..N go).
 * - Segments 2..N are `<segmentdir>00002`, `00003`, …; `<segmentdir>` is
 *   `<prefix>.z3/segments/<fs>@<snap>/<run id>/`, where Python z3's listing
 *   (`<prefix><fs>@<SNAPSHOT_PREFIX>`) never looks. The run id keeps two runs of one snapshot
 *   (another host, a retried run) from ever writing each other's segments.
 * - After the last segment, an empty end marker `<segmentdir>last-0000N` names the count.
 *   It is what tells "the stream ended exactly at a segment boundary" from "the next segment
 *   is missing": without it the count is unknowable from a listing.
 * - The backup object is committed last (the uploader's commit gate waits for the segments
 *   and the marker), so a backup that is listed always had all of its segments written.
 *
 * A reader needs the segments only when segment 1 is full (its length reaches `segmentsize`):
 * a shorter first object is the whole stream, which is every backup below the limit, and
 * every backup Python z3 or an older z3 wrote (no `segmentsize`). Pure: no I/O.
 */
import type { ListedObject } from '../storage/backend.js';

/** Metadata keys of the backup object (lower-case, as ObjectInfo.metadata carries them). */
export const SEGMENT_SIZE_KEY = 'segmentsize';
export const SEGMENT_DIR_KEY = 'segmentdir';

/** Digits of a segment number in its key: sorts by number up to 99,999 segments (parsed, not sorted, anyway). */
const NUMBER_DIGITS = 5;
const MARKER_NAME = 'last-';

/** Where a backup's segments 2..N live, as recorded in its metadata. */
export interface SegmentLayout {
  /** Key prefix of the segments, ending in `/`. */
  dir: string;
  /** Bytes of every segment but the last. */
  capacity: number;
}

/** One stored object of a segmented stream. */
export interface StoredSegment {
  key: string;
  size: number;
  /** Quoted, as listed (`""` when the backend has none). */
  etag: string;
}

/** What the listing of a segment directory says about the stream. */
export type SegmentCheck =
  { kind: 'complete'; segments: StoredSegment[] } | { kind: 'broken'; problem: SegmentProblem };

/** Why a segmented backup cannot be read as one stream; shown as-is by `z3 status`. */
export type SegmentProblem = `missing segment ${string}` | `segment ${string}`;

/** `<prefix>.z3/segments/<fs>@<snap>/<runId>/`: the segment directory of one backup run. */
export function segmentDir(prefix: string, snapshotName: string, runId: string): string {
  return `${segmentsRoot(prefix)}${snapshotName}/${runId}/`;
}

/** `<prefix>.z3/segments/`: every segment directory under `prefix` (normalised). */
export function segmentsRoot(prefix: string): string {
  return `${prefix}.z3/segments/`;
}

/** The key of segment `n` (≥ 2). */
export function segmentKey(dir: string, n: number): string {
  return `${dir}${String(n).padStart(NUMBER_DIGITS, '0')}`;
}

/** The key of the end marker of a stream of `count` segments. */
export function markerKey(dir: string, count: number): string {
  return `${dir}${MARKER_NAME}${String(count).padStart(NUMBER_DIGITS, '0')}`;
}

/** The metadata every z3 backup records about its segments (see the module comment). */
export function segmentMetadata(layout: SegmentLayout): Record<string, string> {
  return { [SEGMENT_SIZE_KEY]: String(layout.capacity), [SEGMENT_DIR_KEY]: layout.dir };
}

/**
 * The layout to check for a backup object, or undefined when the object alone is the stream:
 * no (or malformed) segment metadata, or an object shorter than one segment.
 */
export function layoutToCheck(
  metadata: Readonly<Record<string, string>>,
  objectSize: number,
): SegmentLayout | undefined {
  const capacity = Number(metadata[SEGMENT_SIZE_KEY]);
  const dir = metadata[SEGMENT_DIR_KEY];
  if (!Number.isSafeInteger(capacity) || capacity < 1 || dir === undefined || dir === '') {
    return undefined;
  }
  return objectSize >= capacity ? { dir, capacity } : undefined;
}

/**
 * Check the listing of `layout.dir` against the first object: the marker names the count N,
 * segments 2..N are all there, every segment but the last is exactly `capacity` long and the
 * last is not empty. Objects past N (a stray copy) are ignored.
 */
export function checkSegments(
  first: StoredSegment,
  layout: SegmentLayout,
  listed: readonly ListedObject[],
): SegmentCheck {
  const byNumber = new Map<number, ListedObject>();
  let count: number | undefined;
  for (const o of listed) {
    const name = o.key.slice(layout.dir.length);
    if (/^\d+$/.test(name)) byNumber.set(Number(name), o);
    else if (name.startsWith(MARKER_NAME)) count = Number(name.slice(MARKER_NAME.length));
  }
  if (count === undefined || !Number.isSafeInteger(count) || count < 1) {
    return broken(missingMarkerProblem(byNumber, layout.capacity));
  }
  const segments: StoredSegment[] = [first];
  for (let n = 2; n <= count; n += 1) {
    const o = byNumber.get(n);
    if (o === undefined) return broken(`missing segment ${n}`);
    segments.push({ key: o.key, size: o.size, etag: o.etag });
  }
  const problem = sizeProblem(segments, layout.capacity);
  return problem === undefined ? { kind: 'complete', segments } : broken(problem);
}

/**
 * Without the marker the count is unknown. The first segment not listed is missing (it may be
 * the only thing missing); when every one up to a short one is there, only the marker is.
 */
function missingMarkerProblem(
  byNumber: ReadonlyMap<number, ListedObject>,
  capacity: number,
): SegmentProblem {
  let n = 2;
  while (byNumber.has(n) && byNumber.get(n)!.size === capacity) n += 1;
  if (!byNumber.has(n)) return `missing segment ${n}`;
  return `missing segment end marker (after segment ${n})`;
}

function sizeProblem(
  segments: readonly StoredSegment[],
  capacity: number,
): SegmentProblem | undefined {
  for (const [i, s] of segments.entries()) {
    const isLast = i === segments.length - 1;
    const isWrong = isLast ? s.size < 1 || s.size > capacity : s.size !== capacity;
    if (isWrong) {
      const expected = isLast ? `1 to ${capacity}` : String(capacity);
      return `segment ${i + 1} has ${s.size} bytes, expected ${expected}`;
    }
  }
  return undefined;
}

function broken(problem: SegmentProblem): SegmentCheck {
  return { kind: 'broken', problem };
}

/**
 * The segment directory a key under `segmentsRoot(prefix)` belongs to, and the snapshot name
 * whose backup object should own it; undefined for a key that is not in a segment directory.
 */
export function ownerOfSegmentKey(
  prefix: string,
  key: string,
): { dir: string; snapshotName: string } | undefined {
  const root = segmentsRoot(prefix);
  if (!key.startsWith(root)) return undefined;
  const rest = key.slice(root.length);
  const match = /^(.+)\/([^/]+)\/[^/]+$/.exec(rest);
  if (match === null) return undefined;
  const [, snapshotName = '', runId = ''] = match;
  return { dir: segmentDir(prefix, snapshotName, runId), snapshotName };
}
