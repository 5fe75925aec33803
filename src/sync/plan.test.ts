import { describe, expect, it } from 'vitest';
import { planSync, selectSnapshots, type SyncPlan } from './plan.js';

const ALL = ['S_0', 'S_1', 'S_2', 'S_3', 'S_4'];

describe('planSync (spec 10 table)', () => {
  it.each<[string, string[], string[], SyncPlan]>([
    ['empty destination → full send of the latest', ALL, [], { kind: 'full', to: 'S_4' }],
    ['[S_0] → -I S_0 S_4', ALL, ['S_0'], { kind: 'incremental', from: 'S_0', to: 'S_4' }],
    [
      '[S_1, S_3] → -I S_3 S_4',
      ALL,
      ['S_1', 'S_3'],
      { kind: 'incremental', from: 'S_3', to: 'S_4' },
    ],
    ['all five → nothing to do', ALL, ALL, { kind: 'up-to-date', latest: 'S_4' }],
    // the original's test: the source pruned S_0, the destination still has it
    [
      'source pruned older ones → nothing to do',
      ALL.slice(1),
      ALL,
      { kind: 'up-to-date', latest: 'S_4' },
    ],
    ['no source snapshots', [], [], { kind: 'no-source-snapshots' }],
    ['no source snapshots, destination has some', [], ['S_0'], { kind: 'no-source-snapshots' }],
    [
      'destination latest not on source',
      ['S_0'],
      ['S_10'],
      { kind: 'diverged', destinationLatest: 'S_10' },
    ],
    [
      'destination newer than the source (source pruned its latest)',
      ['S_0', 'S_1'],
      ['S_0', 'S_1', 'S_2'],
      { kind: 'diverged', destinationLatest: 'S_2' },
    ],
    [
      'only the latest counts on the destination',
      ALL,
      ['S_9', 'S_2'],
      { kind: 'incremental', from: 'S_2', to: 'S_4' },
    ],
  ])('%s', (_name, source, destination, expected) => {
    expect(planSync({ source, destination })).toEqual(expected);
  });
});

describe('selectSnapshots', () => {
  const names = [
    'tank/a@zfs-auto-snap:daily-1',
    'tank/a@manual',
    'tank/a/child@zfs-auto-snap:daily-1',
    'tank/ab@zfs-auto-snap:daily-2',
    'tank/a@zfs-auto-snap:daily-2',
  ];

  it('keeps the dataset’s own snapshots that start with the prefix, in order', () => {
    expect(selectSnapshots(names, { dataset: 'tank/a', prefix: 'zfs-auto-snap:daily' })).toEqual([
      'zfs-auto-snap:daily-1',
      'zfs-auto-snap:daily-2',
    ]);
  });

  it('an empty prefix keeps every snapshot of the dataset', () => {
    expect(selectSnapshots(names, { dataset: 'tank/a', prefix: '' })).toEqual([
      'zfs-auto-snap:daily-1',
      'manual',
      'zfs-auto-snap:daily-2',
    ]);
  });

  it('handles names with spaces', () => {
    expect(selectSnapshots(['my pool/a b@s 1'], { dataset: 'my pool/a b', prefix: 's' })).toEqual([
      's 1',
    ]);
  });
});
