/**
 * Restore takes the shortest chain to the requested snapshot. Each backup names one parent, so
 * the choice is where to start: at the nearest full on the way back (a later full, not the
 * first one), or at a snapshot the target already has when that comes first.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { computeHealth } from './health.js';
import { planRestore } from './restore.js';
import { fullBackup, incrementalBackup, localSnapshots } from './testing.js';
import type { RemoteSnapshot } from './types.js';

/** `F1 2 3 F4 5 6 F7` of `pool/fs@d<N>`: what `--max-chain 3` writes over a week. */
const WEEK: RemoteSnapshot[] = [1, 2, 3, 4, 5, 6, 7].map((n) =>
  n % 3 === 1
    ? fullBackup(`pool/fs@d${n}`)
    : incrementalBackup(`pool/fs@d${n}`, `pool/fs@d${n - 1}`),
);

/** The restore's steps as `F<n>` / `<n>`, or the plan kind. */
function route(snapshot: string, targetHas: string[], force = false): string[] | string {
  const plan = planRestore({
    local: localSnapshots(...targetHas.map((s) => `pool/fs@${s}`)),
    remote: WEEK,
    health: computeHealth(WEEK),
    filesystem: 'pool/fs',
    snapshot,
    targetExists: targetHas.length > 0,
    force,
  });
  if (plan.kind !== 'steps') return plan.kind;
  return plan.steps.map((s) => `${s.isFull ? 'F' : ''}${s.receiveAs.slice(-1)}`);
}

describe('planRestore takes the shortest chain', () => {
  it.each<[string, string[], boolean, string[] | string]>([
    ['d6', [], false, ['F4', '5', '6']],
    ['d7', [], false, ['F7']],
    ['d3', [], false, ['F1', '2', '3']],
    ['d6', ['d1', 'd2', 'd3', 'd4'], false, ['5', '6']],
    ['d6', ['d4', 'd5'], false, ['6']],
    ['d3', ['d1'], false, ['2', '3']],
    ['d6', ['d1', 'd2', 'd3'], true, ['F4', '5', '6']],
    ['d5', ['d5'], false, 'nothing-to-do'],
  ])('%s with the target holding %j (force %s): %j', (snapshot, targetHas, force, expected) => {
    expect(route(snapshot, targetHas, force)).toEqual(expected);
  });

  it('a nearer full into an existing dataset still needs --force (it replaces the dataset)', () => {
    expect(() => route('d6', ['d1', 'd2', 'd3'])).toThrow(UsageError);
    expect(() => route('d6', ['d1', 'd2', 'd3'])).toThrow(
      'restore: pool/fs already exists; a full stream would have to replace it',
    );
  });
});
