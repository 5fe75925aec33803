/**
 * `z3 cleanup`: abort the pending writes under the prefix that are older than `--older-than`
 * (S3: multipart uploads never completed nor aborted, billed and invisible; BACKUP_DIR: the
 * temporaries of writes that died), except those a journal in STATE_DIR names, which the next
 * backup resumes; and remove the orphaned segment directories (src/transfer/segment-orphans.ts)
 * whose newest object is that old, on the same terms. Read state → pure plan
 * (src/plan/cleanup.ts) → abort and remove, one at a time.
 *
 * Why no lock: the writes of a run in progress are young (kept by the default 7d) or named by
 * its journal; aborting twice is harmless, so two cleanups at once need no order either. It
 * covers the whole prefix, every dataset, so it does not need FILESYSTEM, nor `zfs`.
 */
import { EXIT, StorageError, UsageError } from '../errors.js';
import { parseOlderThan, planCleanup, planOrphans, type CleanupRow } from '../plan/cleanup.js';
import { SEGMENT_DIR_KEY } from '../plan/segments.js';
import { listJournals } from '../resume/journal.js';
import type { Backend } from '../storage/backend.js';
import { findOrphanSegments } from '../transfer/segment-orphans.js';
import {
  aborted,
  orphanEvents,
  pendingEvents,
  removed,
  renderCleanupPlan,
  type CleanupEntry,
  type OrphanEntry,
} from '../ui/cleanup-report.js';
import type { EventSink } from '../ui/events.js';
import { loadSettings, type GlobalFlags } from './context.js';
import { withSafeOutput, type CommandPorts } from './ports.js';
import { withRunEvents } from './run-events.js';
import { targetLabel } from './target-label.js';

/** `--older-than` when absent: a week, long past any backup run that is still going. */
export const DEFAULT_OLDER_THAN = '7d';

export interface CleanupOptions extends GlobalFlags {
  /** `--older-than` as given (`0`, `90m`, `36h`, `7d`); undefined = DEFAULT_OLDER_THAN. */
  olderThan: string | undefined;
  /** Show what would be aborted, abort nothing. */
  dryRun: boolean;
  json: boolean;
}

/**
 * Exit 0 when every write to abort was aborted (or shown, with --dry-run); 2 for a bad
 * `--older-than`; 5 when the server fails a request (the writes aborted before stay aborted).
 */
export async function runCleanup(opts: CleanupOptions, rawPorts: CommandPorts): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  return withRunEvents(opts.json, ports, (events) => cleanup(opts, ports, events));
}

async function cleanup(
  opts: CleanupOptions,
  ports: CommandPorts,
  events: EventSink,
): Promise<number> {
  const { olderThanText, olderThan } = olderThanOf(opts);
  const settings = loadSettings(opts, ports.env);
  events.emit({ event: 'start', command: 'cleanup', dataset: '', target: targetLabel(settings) });
  const { backend } = ports.openStorage(settings);
  const pending = await backend.listPending(settings.s3Prefix);
  const orphans = await findOrphanSegments(backend, settings.s3Prefix);
  // Journals after the listings: a run writes its journal just after it starts its upload, so
  // this leaves the least time in which a listed upload has no journal yet (only a tiny
  // --older-than could abort one then).
  const journaled = await journaledWrites({ stateDir: settings.stateDir, backend, ports, events });
  const now = ports.now();
  const rows = planCleanup({ pending, now, olderThan, journaled: journaled.ids });
  const orphanRows = planOrphans({ orphans, now, olderThan, journaledDirs: journaled.dirs });
  const entries = await withBytes(backend, rows);
  if (opts.json) {
    [...pendingEvents(entries), ...orphanEvents(orphanRows)].forEach((e) => events.emit(e));
  } else {
    const options = { ...opts, olderThan: olderThanText };
    ports.stdout.write(renderCleanupPlan(entries, options, orphanRows));
  }
  if (opts.dryRun) return EXIT.OK;
  await abortInOrder({ entries: aborted(entries), backend, ports, events });
  await removeOrphans({ orphans: removed(orphanRows), backend, ports, events });
  return EXIT.OK;
}

/** `--older-than` as given (or the default) and in milliseconds; a bad one is a UsageError. */
function olderThanOf(opts: CleanupOptions): { olderThanText: string; olderThan: number } {
  const olderThanText = opts.olderThan ?? DEFAULT_OLDER_THAN;
  const olderThan = parseOlderThan(olderThanText);
  if (olderThan === undefined) {
    throw new UsageError(
      `--older-than '${olderThanText}': expected 0 or a duration such as 90m, 36h or 7d ` +
        '(m minutes, h hours, d days)',
    );
  }
  return { olderThanText, olderThan };
}

/**
 * Remove each orphaned segment directory, every key in it, one at a time; a failure or
 * interruption stops the run, and what is left of a directory is an orphan the next run finds.
 */
function removeOrphans(input: {
  orphans: readonly OrphanEntry[];
  backend: Backend;
  ports: CommandPorts;
  events: EventSink;
}): Promise<void> {
  const { backend, ports, events } = input;
  return oneAtATime(
    input.orphans,
    ports,
    'removing #/# orphaned segment directories',
    async (o) => {
      for (const key of o.keys) {
        ports.signal.throwIfAborted();
        await backend.remove(key);
      }
      events.emit({
        event: 'segments-removed',
        dir: o.dir,
        objects: o.keys.length,
        bytes: o.bytes,
      });
    },
  );
}

/**
 * Abort `entries` one at a time, stopping at the first failure or interruption; the ones
 * aborted up to then stay aborted, and the next run plans again from what is left.
 */
function abortInOrder(input: {
  entries: readonly CleanupEntry[];
  backend: Backend;
  ports: CommandPorts;
  events: EventSink;
}): Promise<void> {
  const { backend, ports, events } = input;
  return oneAtATime(input.entries, ports, 'aborting #/# pending uploads', async (entry) => {
    ports.signal.throwIfAborted();
    await backend.abortPending(entry.pending);
    const { key, id } = entry.pending;
    events.emit({ event: 'upload-aborted', key, id, bytes: entry.bytes });
  });
}

/**
 * `act` on each item in order; the first failure (or interruption) is rethrown after a line
 * saying how far it got (`#/#` in `progress`: how many done, of how many).
 */
async function oneAtATime<T>(
  items: readonly T[],
  ports: CommandPorts,
  progress: string,
  act: (item: T) => Promise<void>,
): Promise<void> {
  let done = 0;
  try {
    for (const item of items) {
      await act(item);
      done += 1;
    }
  } catch (err) {
    const far = progress.replace('#/#', `${done} of ${items.length}`);
    ports.stderr.write(`z3: cleanup stopped after ${far}; run it again to finish\n`);
    throw err;
  }
}

/**
 * The ids of the uploads, and the segment directories, a journal in STATE_DIR names for this
 * backend (src/resume/journal.ts): the next backup resumes them. An unreadable journal names
 * none, which a warning says.
 */
async function journaledWrites(input: {
  stateDir: string;
  backend: Backend;
  ports: CommandPorts;
  events: EventSink;
}): Promise<{ ids: Set<string>; dirs: Set<string> }> {
  const ids = new Set<string>();
  const dirs = new Set<string>();
  for (const listed of await listJournals(input.stateDir)) {
    if (listed.journal === undefined) {
      const message = `resume journal ${listed.file} is unreadable (${listed.problem}); it keeps no upload`;
      input.ports.stderr.write(`z3: warning: ${message}\n`);
      input.events.emit({ event: 'warning', message });
    } else if (listed.journal.target === input.backend.location) {
      ids.add(listed.journal.uploadId);
      const dir = listed.journal.metadata[SEGMENT_DIR_KEY];
      if (dir !== undefined) dirs.add(dir);
    }
  }
  return { ids, dirs };
}

/**
 * Each row with the bytes its write holds (the sum of its listed chunks). A write gone since the
 * listing (completed or aborted meanwhile) is dropped: there is nothing left to abort.
 */
async function withBytes(backend: Backend, rows: readonly CleanupRow[]): Promise<CleanupEntry[]> {
  const entries: CleanupEntry[] = [];
  for (const row of rows) {
    try {
      const chunks = await backend.listChunks(row.pending);
      entries.push({ ...row, bytes: chunks.reduce((sum, chunk) => sum + chunk.size, 0) });
    } catch (err) {
      if (!(err instanceof StorageError && err.isNotFound)) throw err;
    }
  }
  return entries;
}
