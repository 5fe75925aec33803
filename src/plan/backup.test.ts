import { describe, expect, it } from 'vitest';
import { EXIT, IntegrityError, UsageError } from '../errors.js';
import { planBackup, type BackupInput, type BackupPlan } from './backup.js';
import { computeHealth } from './health.js';
import {
  backupChain,
  fullBackup,
  localSnapshots,
  originalBucket,
  originalLocal,
} from './testing.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';
import { injected } from '../testing/faults.js';

function plan(
  local: LocalSnapshot[],
  remote: RemoteSnapshot[],
  options: Partial<BackupInput> = {},
): BackupPlan {
  return planBackup({
    local,
    remote,
    health: computeHealth(remote),
    filesystem: 'pool/fs',
    snapshotPrefix: 'snap_',
    mode: 'incremental',
    ...options,
  });
}

describe('planBackup --full', () => {
  it('sends the latest selected snapshot in full', () => {
    expect(plan(originalLocal(), originalBucket(), { mode: 'full' })).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@snap_9', parent: undefined }],
    });
  });

  it('sends --snapshot in full, even when it is already on S3', () => {
    expect(plan(originalLocal(), originalBucket(), { mode: 'full', snapshot: 'snap_3' })).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@snap_3', parent: undefined }],
    });
  });
});

describe('planBackup incremental', () => {
  it('sends each snapshot S3 lacks on its local parent, oldest first', () => {
    // snap_8 and snap_9 are local only; snap_3 is the newest healthy backup.
    expect(plan(originalLocal(), originalBucket())).toEqual({
      kind: 'steps',
      steps: [
        { snapshot: 'pool/fs@snap_8', parent: 'pool/fs@snap_3' },
        { snapshot: 'pool/fs@snap_9', parent: 'pool/fs@snap_8' },
      ],
    });
  });

  it('stops at --snapshot', () => {
    expect(plan(originalLocal(), originalBucket(), { snapshot: 'snap_8' })).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@snap_8', parent: 'pool/fs@snap_3' }],
    });
  });

  it('has nothing to do when the target is on S3 and healthy', () => {
    expect(plan(originalLocal(), originalBucket(), { snapshot: 'snap_3' })).toEqual({
      kind: 'nothing-to-do',
      target: 'pool/fs@snap_3',
    });
  });

  it('sends one step per intermediate snapshot (no -I)', () => {
    const local = localSnapshots('pool/fs@s1', 'pool/fs@s2', 'pool/fs@s3', 'pool/fs@s4');
    const result = plan(local, [fullBackup('pool/fs@s1')], { snapshotPrefix: 's' });
    expect(result).toEqual({
      kind: 'steps',
      steps: [
        { snapshot: 'pool/fs@s2', parent: 'pool/fs@s1' },
        { snapshot: 'pool/fs@s3', parent: 'pool/fs@s2' },
        { snapshot: 'pool/fs@s4', parent: 'pool/fs@s3' },
      ],
    });
  });

  it('bases on the newest backup even if older ones are missing from S3', () => {
    const local = localSnapshots('pool/fs@s1', 'pool/fs@s2', 'pool/fs@s3');
    const remote = [fullBackup('pool/fs@s2')];
    expect(plan(local, remote)).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@s3', parent: 'pool/fs@s2' }],
    });
  });

  it('walks a long chain without trouble', () => {
    const remote = backupChain('pool/fs', 5_000);
    const local = [...remote.map((r) => ({ name: r.name })), { name: 'pool/fs@s99999' }];
    expect(plan(local, remote)).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@s99999', parent: 'pool/fs@s04999' }],
    });
  });
});

describe('planBackup failures', () => {
  it.each<[string, LocalSnapshot[], string]>([
    [
      'a parent broken on S3',
      localSnapshots('pool/fs@snap_1_f', 'pool/fs@snap_4_mp', 'pool/fs@snap_5'),
      "Broken snapshot detected pool/fs@snap_5, reason: 'parent broken'",
    ],
    [
      'a cycle on S3',
      localSnapshots(
        'pool/fs@snap_1_f',
        'pool/fs@snap_2',
        'pool/fs@snap_3',
        'pool/fs@snap_6_cycle',
        'pool/fs@snap_7_cycle',
        'pool/fs@snap_8',
      ),
      "Broken snapshot detected pool/fs@snap_7_cycle, reason: 'cycle detected'",
    ],
    [
      'a missing parent on S3',
      localSnapshots('pool/fs@snap_4_mp', 'pool/fs@snap_new'),
      "Broken snapshot detected pool/fs@snap_4_mp, reason: 'missing parent'",
    ],
  ])('meeting %s is an IntegrityError (exit 3)', { tags: ['faults'] }, (_, local, message) => {
    const run = (): BackupPlan => plan(local, originalBucket());
    expect(run).toThrow(IntegrityError);
    expect(run).toThrow(message);
    expect(() => run()).toThrow(expect.objectContaining({ exitCode: EXIT.INTEGRITY }));
    injected('corrupt data');
  });

  it(
    'refuses an incremental with no base on S3 and says to use --full (exit 2)',
    { tags: ['faults'] },
    () => {
      const run = (): BackupPlan => plan(localSnapshots('pool/fs@s1', 'pool/fs@s2'), []);
      expect(run).toThrow(UsageError);
      expect(run).toThrow('no backup of pool/fs on S3 to base an incremental on');
      expect(run).toThrow(expect.objectContaining({ hint: "run 'z3 backup --full' first" }));
      injected('bad input');
    },
  );

  it(
    'refuses a --snapshot that is not a selected local snapshot (exit 2)',
    { tags: ['faults'] },
    () => {
      const run = (): BackupPlan => plan(originalLocal(), originalBucket(), { snapshot: 'nope' });
      expect(run).toThrow(UsageError);
      expect(run).toThrow('Failed to get the snapshot pool/fs@nope');
      expect(() => plan([], [], { snapshot: 'nope', mode: 'full' })).toThrow(UsageError);
      injected('bad input', 2);
    },
  );

  it.each(['incremental', 'full'] as const)(
    'with no selected snapshot, %s returns the soft "nothing to backup" result',
    (mode) => {
      expect(plan([], originalBucket(), { mode })).toEqual({
        kind: 'nothing-to-backup',
        message:
          'Nothing to backup for filesystem "pool/fs". Are you sure SNAPSHOT_PREFIX="snap_" is correct?',
      });
    },
  );
});
