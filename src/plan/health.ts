/**
 * Health of remote snapshots (spec 4.5), the same verdicts as the Python z3:
 * - a full snapshot is always `ok`;
 * - an incremental whose `parent` is not a listed snapshot (absent, malformed, expired or outside
 *   the snapshot prefix) has a `missing parent`;
 * - an incremental whose parent is unhealthy is `cycle detected` when the parent's reason is a
 *   cycle, else `parent broken`;
 * - every snapshot on a parent cycle, and every snapshot whose chain runs into one, is
 *   `cycle detected`;
 * - a segmented backup with a segment missing (`segmentProblem`, ./segments.ts) is broken for
 *   that reason whatever its chain, and the incrementals on it are `parent broken`.
 */
import { IntegrityError } from '../errors.js';
import type { BrokenReason, Health, RemoteSnapshot } from './types.js';

/**
 * Health of every snapshot in `snapshots`, keyed by name. Parents are looked up only among
 * `snapshots`; with duplicate names the last one wins (as in the original's dict).
 *
 * Why not the original's recursion: a year of daily incrementals is a chain thousands long, and a
 * recursive walk per snapshot is both a stack overflow and O(n²). Since each snapshot has at most
 * one parent, one iterative walk per unresolved chain, memoised, settles everything in O(n).
 */
export function computeHealth(snapshots: readonly RemoteSnapshot[]): Map<string, Health> {
  const byName = new Map<string, RemoteSnapshot>();
  for (const snapshot of snapshots) byName.set(snapshot.name, snapshot);
  const health = new Map<string, Health>();
  // Its own stream is unreadable: known before any walk, and where every walk through it ends.
  for (const snapshot of byName.values()) {
    if (snapshot.segmentProblem !== undefined) health.set(snapshot.name, snapshot.segmentProblem);
  }
  for (const name of byName.keys()) {
    if (!health.has(name)) resolveChain(name, byName, health);
  }
  return health;
}

/** What follows the end of a walked path: a parent's health, or `absent` when the parent is not listed. */
type ParentState = Health | 'absent';

/**
 * Walk parent links from `start` until the chain's fate is known, then give every snapshot on
 * the walked path its verdict, nearest to the end first.
 */
function resolveChain(
  start: string,
  byName: ReadonlyMap<string, RemoteSnapshot>,
  health: Map<string, Health>,
): void {
  const path: RemoteSnapshot[] = [];
  const onPath = new Set<string>();
  let end: ParentState;
  let current: string | undefined = start;
  for (;;) {
    const snapshot: RemoteSnapshot | undefined =
      current === undefined ? undefined : byName.get(current);
    if (snapshot === undefined) {
      end = 'absent';
      break;
    }
    const known = health.get(snapshot.name);
    if (known !== undefined) {
      end = known;
      break;
    }
    if (onPath.has(snapshot.name)) {
      end = 'cycle detected';
      break;
    }
    path.push(snapshot);
    onPath.add(snapshot.name);
    if (snapshot.isFull) {
      end = 'ok';
      break;
    }
    current = snapshot.parent;
  }
  let parentState = end;
  for (let i = path.length - 1; i >= 0; i -= 1) {
    const snapshot = path[i] as RemoteSnapshot;
    const verdict = snapshot.isFull ? 'ok' : verdictFor(parentState);
    health.set(snapshot.name, verdict);
    parentState = verdict;
  }
}

/** The health of an incremental whose parent is in `parent` state. */
function verdictFor(parent: ParentState): Health {
  switch (parent) {
    case 'absent':
      return 'missing parent';
    case 'ok':
      return 'ok';
    case 'cycle detected':
      return 'cycle detected';
    case 'missing parent':
    case 'parent broken':
      return 'parent broken';
    default: // a segment missing (its reasons are open-ended strings)
      return 'parent broken';
  }
}

/**
 * The health of `snapshot` according to `health`, for callers handed a map that may not cover
 * every listed snapshot: an uncovered full backup is `ok`, an uncovered incremental is treated
 * as having a `missing parent`.
 */
export function healthOf(snapshot: RemoteSnapshot, health: ReadonlyMap<string, Health>): Health {
  return health.get(snapshot.name) ?? (snapshot.isFull ? 'ok' : 'missing parent');
}

/**
 * The error for meeting an unhealthy backup in a chain, worded as the original
 * (`Broken snapshot detected <fs@snap>, reason: '<reason>'`), exit 3.
 */
export function brokenSnapshotError(
  name: string,
  reason: BrokenReason,
  hint?: string,
): IntegrityError {
  return new IntegrityError(`Broken snapshot detected ${name}, reason: '${reason}'`, {
    hint: hint ?? `run 'z3 status' to inspect the chain`,
  });
}
