/**
 * After `z3 backup` committed its objects: hold the newest backed-up snapshot under the
 * target's tag, bookmark it, and release the tag's hold on the snapshot before (plan in
 * src/plan/holds.ts). Best effort: the backup is already safe on the target, so a zfs that
 * refuses (no permission to hold, an old pool without bookmarks) is a warning on stderr and
 * the run keeps its exit code. Why hold before release: a failure between the two leaves two
 * holds (released by the next run or `z3 holds --release-stale`), never none.
 */
import type { Settings } from '../config/types.js';
import type { LocalBookmark } from '../plan/bookmark-base.js';
import { holdTag, newestBackedUp, planHolds, type HoldAction } from '../plan/holds.js';
import type { HealthMap, LocalSnapshot, RemoteSnapshot } from '../plan/types.js';
import {
  bookmarkArgv,
  holdArgv,
  listBookmarks,
  listHolds,
  releaseArgv,
  runZfs,
} from '../zfs/zfs.js';
import { zfsRunner, type CommandPorts } from './ports.js';

/** The bookmarks of `dataset`, as the backup planner takes them. */
export async function readBookmarks(
  dataset: string,
  ports: Pick<CommandPorts, 'zfs' | 'signal'>,
): Promise<LocalBookmark[]> {
  return listBookmarks(dataset, { run: zfsRunner(ports), signal: ports.signal });
}

/** What `keepIncrementalBase` works from: the state the backup read, and what it committed. */
export interface KeepBaseInput {
  settings: Settings;
  local: readonly LocalSnapshot[];
  remote: readonly RemoteSnapshot[];
  health: HealthMap;
  /** Full names of the snapshots this run committed. */
  committed: readonly string[];
  ports: CommandPorts;
}

/** Hold, bookmark and release as planned; every failure is a warning (see the module doc). */
export async function keepIncrementalBase(input: KeepBaseInput): Promise<void> {
  const { settings, ports } = input;
  const tag = holdTag(settings);
  const newest = newestBackedUp(input);
  if (newest === undefined) return;
  const dataset = newest.slice(0, newest.indexOf('@'));
  const options = { run: zfsRunner(ports), signal: ports.signal };
  try {
    const holds = await listHolds(
      input.local.map((s) => s.name),
      options,
    );
    const bookmarks = await listBookmarks(dataset, options);
    const plan = planHolds({ tag, newest, holds, bookmarks: bookmarks.map((b) => b.name) });
    for (const warning of plan.warnings) ports.stderr.write(`z3: warning: ${warning}\n`);
    for (const action of plan.actions) {
      await runZfs(argvOf(tag, action), options).catch((err: unknown) => {
        if (ports.signal.aborted) throw err;
        ports.stderr.write(`z3: warning: ${describe(tag, action)}: ${messageOf(err)}\n`);
        // Without the new hold, the old one is the only thing keeping a base: keep it.
        if (action.kind === 'hold') throw new StopError();
      });
    }
  } catch (err) {
    if (err instanceof StopError) return;
    if (ports.signal.aborted) throw err;
    ports.stderr.write(`z3: warning: could not hold ${newest} (${tag}): ${messageOf(err)}\n`);
  }
}

/** Thrown past the remaining actions once the new hold failed (already reported). */
class StopError extends Error {}

function argvOf(tag: string, action: HoldAction): string[] {
  switch (action.kind) {
    case 'hold':
      return holdArgv(tag, action.snapshot);
    case 'release':
      return releaseArgv(tag, action.snapshot);
    case 'bookmark':
      return bookmarkArgv(action.snapshot, action.bookmark);
  }
}

function describe(tag: string, action: HoldAction): string {
  switch (action.kind) {
    case 'hold':
      return `could not hold ${action.snapshot} (${tag}); the backup is complete, the previous hold is kept`;
    case 'release':
      return `could not release the hold ${tag} of ${action.snapshot} ('z3 holds --release-stale' retries)`;
    case 'bookmark':
      return `could not create the bookmark ${action.bookmark}`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
