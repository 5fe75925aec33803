import { describe, expect, it } from 'vitest';
import { EXIT, IntegrityError, UsageError } from '../errors.js';
import { computeHealth } from './health.js';
import { planRestore, type RestoreInput, type RestorePlan } from './restore.js';
import {
  backupChain,
  fullBackup,
  incrementalBackup,
  localSnapshots,
  originalBucket,
} from './testing.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';
import { injected } from '../testing/faults.js';

function restore(
  snapshot: string,
  local: LocalSnapshot[],
  options: Partial<RestoreInput> & { remote?: RemoteSnapshot[] } = {},
): RestorePlan {
  const remote = options.remote ?? originalBucket();
  return planRestore({
    local,
    remote,
    health: computeHealth(remote),
    filesystem: 'pool/fs',
    snapshot,
    targetExists: local.length > 0,
    force: false,
    ...options,
  });
}

/** `[receiveAs, isFull]` per step, or the plan kind. */
function summary(plan: RestorePlan): [string, boolean][] | string {
  if (plan.kind !== 'steps') return plan.kind;
  return plan.steps.map((step) => [step.receiveAs, step.isFull]);
}

describe('planRestore chains', () => {
  it('restores a full backup into an empty dataset', () => {
    const plan = restore('snap_1_f', []);
    expect(summary(plan)).toEqual([['pool/fs@snap_1_f', true]]);
    expect(plan.kind === 'steps' && plan.steps[0]?.source.key).toBe('z3-backup/pool/fs@snap_1_f');
  });

  it('restores an incremental into an empty dataset from its full base, oldest first', () => {
    expect(summary(restore('snap_3', []))).toEqual([
      ['pool/fs@snap_1_f', true],
      ['pool/fs@snap_2', false],
      ['pool/fs@snap_3', false],
    ]);
  });

  it('stops at the newest snapshot the dataset already has', () => {
    const local = localSnapshots('pool/fs@snap_1_f', 'pool/fs@snap_2');
    expect(summary(restore('snap_3', local))).toEqual([['pool/fs@snap_3', false]]);
  });

  it('has nothing to do when the snapshot exists locally', () => {
    const local = localSnapshots('pool/fs@snap_1_f', 'pool/fs@snap_2');
    expect(restore('snap_2', local)).toEqual({ kind: 'nothing-to-do', snapshot: 'pool/fs@snap_2' });
  });

  it('maps fs@snap onto --target and compares against the target dataset', () => {
    const local = localSnapshots('backup/copy@snap_1_f', 'pool/fs@snap_2');
    const plan = restore('snap_3', local, { target: 'backup/copy' });
    expect(summary(plan)).toEqual([
      ['backup/copy@snap_2', false],
      ['backup/copy@snap_3', false],
    ]);
    expect(plan.kind === 'steps' && plan.steps.map((s) => s.source.name)).toEqual([
      'pool/fs@snap_2',
      'pool/fs@snap_3',
    ]);
  });

  it('walks a 5,000-long chain', () => {
    const remote = backupChain('pool/fs', 5_000);
    const plan = restore('s04999', [], { remote });
    expect(plan.kind === 'steps' && plan.steps.length).toBe(5_000);
    expect(plan.kind === 'steps' && plan.steps[0]?.receiveAs).toBe('pool/fs@s00000');
  });
});

describe('planRestore --force and existing datasets', () => {
  const existing = localSnapshots('pool/fs@other');

  it(
    'refuses a full stream into an existing dataset without --force (exit 2)',
    { tags: ['faults'] },
    () => {
      const run = (): RestorePlan => restore('snap_3', existing);
      expect(run).toThrow(UsageError);
      expect(run).toThrow(
        'restore: pool/fs already exists; a full stream would have to replace it',
      );
      expect(run).toThrow(
        expect.objectContaining({
          hint: 'use --force to roll it back and overwrite (zfs receive -F)',
        }),
      );
      injected('bad input');
    },
  );

  it('refuses even when the existing dataset has no snapshots', { tags: ['faults'] }, () => {
    expect(() => restore('snap_1_f', [], { targetExists: true })).toThrow(UsageError);
    injected('bad input');
  });

  it('allows it with --force', () => {
    expect(summary(restore('snap_1_f', existing, { force: true }))).toEqual([
      ['pool/fs@snap_1_f', true],
    ]);
  });

  it('names --target in the refusal', () => {
    expect(() => restore('snap_1_f', [], { target: 'tank/copy', targetExists: true })).toThrow(
      'restore: tank/copy already exists',
    );
  });

  it('does not ask for --force when the chain is incremental only', () => {
    const local = localSnapshots('pool/fs@snap_1_f');
    expect(summary(restore('snap_2', local, { targetExists: true }))).toEqual([
      ['pool/fs@snap_2', false],
    ]);
  });
});

describe('planRestore failures', () => {
  it.each([
    ['snap_4_mp', "Broken snapshot detected pool/fs@snap_4_mp, reason: 'missing parent'"],
    ['snap_5', "Broken snapshot detected pool/fs@snap_5, reason: 'parent broken'"],
    ['snap_6_cycle', "Broken snapshot detected pool/fs@snap_6_cycle, reason: 'cycle detected'"],
    ['snap_0', "Broken snapshot detected pool/fs@snap_0, reason: 'missing parent'"],
  ])('restoring %s is an IntegrityError (exit 3)', { tags: ['faults'] }, (snapshot, message) => {
    const run = (): RestorePlan => restore(snapshot, localSnapshots('pool/fs@snap_1_f'));
    expect(run).toThrow(IntegrityError);
    expect(run).toThrow(message);
    expect(run).toThrow(expect.objectContaining({ exitCode: EXIT.INTEGRITY }));
    injected('corrupt data');
  });

  it('refuses a snapshot that is not on S3 (exit 2)', { tags: ['faults'] }, () => {
    const run = (): RestorePlan => restore('snap_8', []);
    expect(run).toThrow(UsageError);
    expect(run).toThrow('no such snapshot "pool/fs@snap_8"');
    injected('bad input');
  });

  it.each(['', 'pool/fs@x'])('refuses --target %j', { tags: ['faults'] }, (target) => {
    expect(() => restore('snap_1_f', [], { target })).toThrow(UsageError);
    injected('bad input');
  });

  it(
    'never loops or guesses when handed a health map that disagrees with the listing',
    { tags: ['faults'] },
    () => {
      const remote = [
        incrementalBackup('pool/fs@a', 'pool/fs@b'),
        incrementalBackup('pool/fs@b', 'pool/fs@a'),
      ];
      const allOk = new Map(remote.map((r) => [r.name, 'ok' as const]));
      expect(() => restore('a', [], { remote, health: allOk })).toThrow("reason: 'cycle detected'");
      const orphan = [incrementalBackup('pool/fs@c', 'pool/fs@gone'), fullBackup('pool/fs@f')];
      const orphanOk = new Map(orphan.map((r) => [r.name, 'ok' as const]));
      expect(() => restore('c', [], { remote: orphan, health: orphanOk })).toThrow(
        "reason: 'missing parent'",
      );
      injected('corrupt data', 2); // a cycle and an orphan, both called ok
    },
  );
});
