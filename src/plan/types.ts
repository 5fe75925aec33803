/**
 * The data the pure planners work on: local snapshots (from `zfs list`), remote snapshots (from
 * the S3 listing and its metadata) and the health of each remote snapshot. Every planner in
 * src/plan takes these in and returns plain data out: no I/O, no clock, no environment.
 */

/** One selected local snapshot. Lists of them are ordered oldest first (zfs `createtxg` order). */
export interface LocalSnapshot {
  /** Full name `<dataset>@<snapshot>`. */
  name: string;
  /** Its `creation` in seconds since the epoch; undefined when not listed. */
  creation?: number | undefined;
  /** Its guid in decimal; undefined when not listed. */
  guid?: string | undefined;
  /** Its createtxg: orders it against bookmarks; undefined when not listed. */
  createtxg?: number | undefined;
}

import type { SegmentLayout, SegmentProblem, StoredSegment } from './segments.js';

/** One backup object on S3, as listed and described by its metadata (spec 4.2). */
export interface RemoteSnapshot {
  /** Full snapshot name `<dataset>@<snapshot>`: the object key minus the normalised prefix. */
  name: string;
  /** The object key. */
  key: string;
  /** True iff metadata `isfull` or legacy `is_full` is exactly the string `true`. */
  isFull: boolean;
  /**
   * Raw metadata `parent` (meant to be a full `<dataset>@<snapshot>` name); undefined when the
   * object has none. Not validated: health decides whether it points at a listed object.
   */
  parent: string | undefined;
  /** Raw metadata `compressor`; undefined for uncompressed objects (`none` is never written). */
  compressor: string | undefined;
  /** Metadata `size`: the estimated uncompressed stream size in bytes; undefined if absent or not a number. */
  size: number | undefined;
  /**
   * Stored bytes of the backup (compressed): the object's content length, or for a segmented
   * backup whose segments were found complete, the sum of its segments' (./segments.ts).
   */
  objectSize: number;
  /** The object's ETag as listed (`""` when the backend has none); undefined when not known. */
  etag?: string | undefined;
  /** Raw metadata `creation` (the snapshot's creation, seconds since the epoch); undefined if absent. */
  creation?: string | undefined;
  /** Raw metadata `guid` (the snapshot's guid in decimal); undefined if absent. */
  guid?: string | undefined;
  /** Raw metadata `sendflags` (zfs send letters, e.g. `wc`); undefined for a plain send. */
  sendFlags?: string | undefined;
  /** The object's LastModified (ISO 8601) from the listing; undefined or `""` when unknown. */
  lastModified?: string | undefined;
  /** The object's storage class from the listing (S3: `STANDARD` when the server says none); undefined when unknown. */
  storageClass?: string | undefined;
  /**
   * Where its segments 2..N are, when the object is full (as long as one segment) and so may be
   * the first of several (./segments.ts); undefined when the object alone is the stream.
   */
  segmentLayout?: SegmentLayout | undefined;
  /** Every object of a complete segmented backup, the backup object first; undefined otherwise. */
  segments?: StoredSegment[] | undefined;
  /** Why a segmented backup cannot be read as one stream (a segment missing); undefined when it can. */
  segmentProblem?: SegmentProblem | undefined;
}

/** Why a remote snapshot cannot be restored; the strings are shown as-is by `z3 status` (spec 4.5). */
export type BrokenReason = 'missing parent' | 'parent broken' | 'cycle detected' | SegmentProblem;

/** Health of a remote snapshot: `ok` when its chain reaches a full backup, else why not. */
export type Health = 'ok' | BrokenReason;

/** Health of every listed remote snapshot, keyed by full snapshot name (see `computeHealth`). */
export type HealthMap = ReadonlyMap<string, Health>;
