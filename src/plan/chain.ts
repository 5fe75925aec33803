/**
 * Where each healthy backup sits in its chain: how many objects a restore of it receives (its
 * full counts one, each incremental after it one more) and which full starts the chain. `z3
 * status` shows the length; `z3 backup` ends a chain that is long enough (MAX_CHAIN) or whose
 * full is old enough (FULL_EVERY). Pure.
 */
import { healthOf } from './health.js';
import type { HealthMap, RemoteSnapshot } from './types.js';

/** A healthy backup's place in its chain. */
export interface ChainPosition {
  /** Objects from the chain's full to this backup, both included (a full: 1). */
  length: number;
  /** The full backup the chain starts with. */
  full: RemoteSnapshot;
}

/**
 * The chain position of every healthy listed backup, by full snapshot name; broken backups have
 * none. Each backup is walked once: a walk stops at a backup already placed (memoised), so a
 * listing of n backups costs O(n) however long its chains are.
 */
export function chainPositions(
  remote: readonly RemoteSnapshot[],
  health: HealthMap,
): Map<string, ChainPosition> {
  const byName = new Map(remote.map((snapshot) => [snapshot.name, snapshot]));
  const positions = new Map<string, ChainPosition>();
  for (const start of remote) {
    if (positions.has(start.name) || healthOf(start, health) !== 'ok') continue;
    const path: RemoteSnapshot[] = [];
    let current: RemoteSnapshot | undefined = start;
    let base: ChainPosition | undefined;
    // Healthy means every parent is listed and the walk reaches a full without a cycle.
    while (current !== undefined) {
      base = positions.get(current.name);
      if (base !== undefined) break;
      path.push(current);
      if (current.isFull) break;
      current = current.parent === undefined ? undefined : byName.get(current.parent);
    }
    placeFromBase(path.reverse(), base, positions);
  }
  return positions;
}

/** Number `path` (oldest first) on from `base`, or from its first element as the full. */
function placeFromBase(
  path: readonly RemoteSnapshot[],
  base: ChainPosition | undefined,
  positions: Map<string, ChainPosition>,
): void {
  let length = base?.length ?? 0;
  const full = base?.full ?? path[0];
  if (full === undefined) return;
  for (const snapshot of path) {
    length += 1;
    positions.set(snapshot.name, { length, full });
  }
}
