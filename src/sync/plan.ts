/**
 * What `z3_ssh_sync` sends (spec 10), as a pure function of the two snapshot lists: no I/O,
 * no ZFS, no ssh. Source and destination datasets may have different names, so both sides are
 * compared by the snapshot part after `@`.
 */

/**
 * The decision for one sync. Snapshot names are the part after `@`.
 * - `full`: the destination has no (selected) snapshots; send the source's latest in full.
 * - `incremental`: `zfs send -I <from> <to>`; `from` is the destination's latest, which the
 *   source also has; every intermediate source snapshot travels too.
 * - `up-to-date`: both sides end at the same snapshot (`Nothing to do here.`).
 * - `no-source-snapshots`: nothing to send (`No snapshots exist locally!`).
 * - `diverged`: the destination's latest is not on the source, so no incremental stream can
 *   continue it (`Latest snapshot on destination doesn't exist on source!`).
 */
export type SyncPlan =
  | { kind: 'full'; to: string }
  | { kind: 'incremental'; from: string; to: string }
  | { kind: 'up-to-date'; latest: string }
  | { kind: 'no-source-snapshots' }
  | { kind: 'diverged'; destinationLatest: string };

export interface SyncSnapshots {
  /** Source snapshots (part after `@`), oldest first, already filtered by the prefix. */
  source: readonly string[];
  /** Destination snapshots (part after `@`), oldest first, already filtered by the prefix. */
  destination: readonly string[];
}

/**
 * Choose what to send, exactly as the original's `snapshots_to_send`: the destination's latest
 * must exist somewhere on the source (not necessarily as its latest), and the stream goes from
 * there to the source's latest. Older destination snapshots play no part.
 */
export function planSync({ source, destination }: SyncSnapshots): SyncPlan {
  const sourceLatest = source.at(-1);
  if (sourceLatest === undefined) return { kind: 'no-source-snapshots' };
  const destinationLatest = destination.at(-1);
  if (destinationLatest === undefined) return { kind: 'full', to: sourceLatest };
  if (!source.includes(destinationLatest)) return { kind: 'diverged', destinationLatest };
  if (destinationLatest === sourceLatest) return { kind: 'up-to-date', latest: sourceLatest };
  return { kind: 'incremental', from: destinationLatest, to: sourceLatest };
}

/**
 * The snapshot parts of `names` (full `<dataset>@<snapshot>` names, oldest first) that belong to
 * `dataset` and start with `prefix`, order kept. Names of other datasets (a listing that went
 * deeper than asked) are dropped rather than trusted.
 */
export function selectSnapshots(
  names: readonly string[],
  options: { dataset: string; prefix: string },
): string[] {
  const head = `${options.dataset}@`;
  return names
    .filter((name) => name.startsWith(head))
    .map((name) => name.slice(head.length))
    .filter((snap) => snap.startsWith(options.prefix));
}
