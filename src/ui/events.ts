/**
 * `--json`: the events of a run as JSON Lines on stdout, one object per line, each with
 * `"version": 1` (bumped only when a field changes meaning or goes away; new fields and events
 * may be added), the `event` name and `time` (ISO 8601). The README ("JSON events") documents
 * the schema. Progress is throttled here (at most one `progress` line a second per snapshot), so
 * commands may report every part. Messages pass through `redact`: secrets never reach the line.
 */
import { redact } from '../cli/secrets.js';
import type { OutputSink } from '../commands/ports.js';

/** Bumped when an event's field changes meaning or is removed. */
export const EVENTS_VERSION = 1;

/** Throttle of `progress` events (ms). */
const PROGRESS_INTERVAL_MS = 1000;

/** An event of a run; `time` and `version` are added by the sink. */
export type RunEvent =
  | { event: 'start'; command: string; dataset: string; target: string }
  | { event: 'progress'; snapshot: string; bytes: number; total: number }
  | { event: 'object'; snapshot: string; key: string; bytes: number; seconds: number; etag: string }
  | PruneEvent
  | { event: 'object-deleted'; snapshot: string; key: string; bytes: number }
  | VerifiedEvent
  | PendingEvent
  | { event: 'upload-aborted'; key: string; id: string; bytes: number }
  | OrphanSegmentsEvent
  | { event: 'segments-removed'; dir: string; objects: number; bytes: number }
  | { event: 'warning'; message: string }
  | { event: 'error'; code: number; message: string }
  | { event: 'summary'; code: number; objects: number; bytes: number; seconds: number };

/** `z3 prune`: one backup of the plan, kept (with the rules that keep it) or to be deleted. */
export interface PruneEvent {
  event: 'prune';
  /** `<dataset>@<snapshot>`. */
  snapshot: string;
  action: 'keep' | 'delete';
  reasons: string[];
  health: string;
  /** The object's size. */
  bytes: number;
  /** When the snapshot was taken (ISO 8601) and where that came from; null when unknown. */
  snapshotTime: string | null;
  timeSource: string | null;
  storageClass: string | null;
  earlyDeletion: { storageClass: string; ageDays: number; minimumDays: number } | null;
}

/** `z3 verify`: one object checked, how far (`head`, `object`, `data`) and its verdict. */
export interface VerifiedEvent {
  event: 'verified';
  snapshot: string;
  key: string;
  checked: 'head' | 'object' | 'data';
  ok: boolean;
  /** Why the object is not sound; null when it is. */
  reason: string | null;
  /** What limited the check; null when nothing did. */
  note: string | null;
  bytes: number;
}

/** `z3 cleanup`: one pending write under the prefix, to be aborted or kept (and why). */
export interface PendingEvent {
  event: 'pending';
  key: string;
  /** The upload id (a local temporary's write id). */
  id: string;
  /** When it was started (ISO 8601); null when the backend does not say. */
  started: string | null;
  /** `abort` also with `--dry-run`. */
  action: 'abort' | 'keep';
  /** Why it is kept: `journal`, `younger`, `age unknown`; null for `abort`. */
  reason: string | null;
  /** Bytes its parts hold (what aborting it frees). */
  bytes: number;
}

/** `z3 cleanup`: one segment directory no backup object names, to be removed or kept (and why). */
export interface OrphanSegmentsEvent {
  event: 'orphan-segments';
  /** The directory (key prefix ending in `/`). */
  dir: string;
  /** `<fs>@<snap>`: the backup whose object would own it. */
  snapshot: string;
  /** When its newest object was written (ISO 8601); null when the backend does not say. */
  newest: string | null;
  /** `remove` also with `--dry-run`. */
  action: 'remove' | 'keep';
  /** Why it is kept: `journal`, `younger`, `age unknown`; null for `remove`. */
  reason: string | null;
  /** Objects in it (segments and end marker). */
  objects: number;
  bytes: number;
}

/** Where a command reports its events; the no-op sink without `--json`. */
export interface EventSink {
  /** Report `event`; a `progress` within a second of the last one of its snapshot is dropped. */
  emit(event: RunEvent): void;
}

/** The sink of a run without `--json`: events go nowhere (the human output is unchanged). */
export const NO_EVENTS: EventSink = { emit: () => undefined };

/** JSON Lines on `stdout`, stamped with `now()`. */
export function jsonEventSink(stdout: OutputSink, now: () => number): EventSink {
  const lastProgress = new Map<string, number>();
  return {
    emit: (event) => {
      const at = now();
      if (event.event === 'progress' && event.bytes < event.total) {
        const last = lastProgress.get(event.snapshot);
        if (last !== undefined && at - last < PROGRESS_INTERVAL_MS) return;
        lastProgress.set(event.snapshot, at);
      }
      // Redacted before JSON escaping, which could otherwise hide a secret from `redact`.
      const safe = 'message' in event ? { ...event, message: redact(event.message) } : event;
      const { event: name, ...fields } = safe;
      const line = {
        version: EVENTS_VERSION,
        event: name,
        time: new Date(at).toISOString(),
        ...fields,
      };
      stdout.write(`${JSON.stringify(line)}\n`);
    },
  };
}
