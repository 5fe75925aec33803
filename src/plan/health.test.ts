import { describe, expect, it } from 'vitest';
import { computeHealth, healthOf } from './health.js';
import { backupChain, fullBackup, incrementalBackup, originalBucket } from './testing.js';
import type { Health, RemoteSnapshot } from './types.js';

describe('computeHealth on the original fixture', () => {
  const health = computeHealth(originalBucket());

  it.each<[string, Health]>([
    ['pool/fs@snap_0', 'missing parent'], // parent expired (not listed)
    ['pool/fs@snap_1_f', 'ok'],
    ['pool/fs@snap_2', 'ok'],
    ['pool/fs@snap_3', 'ok'],
    ['pool/fs@snap_4_mp', 'missing parent'],
    ['pool/fs@snap_5', 'parent broken'],
    ['pool/fs@snap_6_cycle', 'cycle detected'],
    ['pool/fs@snap_7_cycle', 'cycle detected'],
  ])('%s is %s', (name, expected) => {
    expect(health.get(name)).toBe(expected);
  });

  it('covers every snapshot', () => {
    expect(health.size).toBe(originalBucket().length);
  });
});

describe('computeHealth edge cases', () => {
  const cases: [string, RemoteSnapshot[], Record<string, Health>][] = [
    [
      'a full backup is ok whatever its parent says',
      [fullBackup('p@f', { parent: 'p@nowhere' })],
      { 'p@f': 'ok' },
    ],
    ['an absent parent', [incrementalBackup('p@i', undefined)], { 'p@i': 'missing parent' }],
    [
      'a malformed parent (no @)',
      [fullBackup('p@f'), incrementalBackup('p@i', 'missing_parent')],
      { 'p@f': 'ok', 'p@i': 'missing parent' },
    ],
    [
      'a parent of another dataset is not in the listing',
      [fullBackup('p@f'), incrementalBackup('p@i', 'q@f')],
      { 'p@f': 'ok', 'p@i': 'missing parent' },
    ],
    ['a self-cycle', [incrementalBackup('p@a', 'p@a')], { 'p@a': 'cycle detected' }],
    [
      'a three-cycle and a tail into it',
      [
        incrementalBackup('p@a', 'p@c'),
        incrementalBackup('p@b', 'p@a'),
        incrementalBackup('p@c', 'p@b'),
        incrementalBackup('p@t1', 'p@b'),
        incrementalBackup('p@t2', 'p@t1'),
      ],
      {
        'p@a': 'cycle detected',
        'p@b': 'cycle detected',
        'p@c': 'cycle detected',
        'p@t1': 'cycle detected',
        'p@t2': 'cycle detected',
      },
    ],
    [
      'breakage propagates down a chain as parent broken',
      [
        incrementalBackup('p@c', 'p@b'),
        incrementalBackup('p@b', 'p@a'),
        incrementalBackup('p@a', 'p@gone'),
      ],
      { 'p@a': 'missing parent', 'p@b': 'parent broken', 'p@c': 'parent broken' },
    ],
    [
      'listing order does not matter',
      [incrementalBackup('p@b', 'p@a'), incrementalBackup('p@c', 'p@b'), fullBackup('p@a')],
      { 'p@a': 'ok', 'p@b': 'ok', 'p@c': 'ok' },
    ],
    [
      'branches off one full backup',
      [fullBackup('p@a'), incrementalBackup('p@b1', 'p@a'), incrementalBackup('p@b2', 'p@a')],
      { 'p@a': 'ok', 'p@b1': 'ok', 'p@b2': 'ok' },
    ],
  ];

  it.each(cases)('%s', (_, snapshots, expected) => {
    expect(Object.fromEntries(computeHealth(snapshots))).toEqual(expected);
  });
});

describe('computeHealth at scale', () => {
  it('settles a 20,000-long chain without recursion, in linear time', () => {
    const chain = backupChain('pool/fs', 20_000).reverse();
    const started = performance.now();
    const health = computeHealth(chain);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(health.size).toBe(20_000);
    expect([...health.values()].every((h) => h === 'ok')).toBe(true);
  });

  it('marks all 5,000 as parent broken when the full at the root is gone', () => {
    const chain = backupChain('pool/fs', 5_001).slice(1);
    const health = computeHealth(chain);
    expect(health.get('pool/fs@s00001')).toBe('missing parent');
    expect(health.get('pool/fs@s05000')).toBe('parent broken');
    expect([...health.values()].filter((h) => h === 'parent broken')).toHaveLength(4_999);
  });

  it('detects a 5,000-long cycle', () => {
    const chain = backupChain('pool/fs', 5_000);
    chain[0] = incrementalBackup('pool/fs@s00000', 'pool/fs@s04999');
    const health = computeHealth(chain);
    expect([...health.values()].every((h) => h === 'cycle detected')).toBe(true);
  });
});

describe('healthOf', () => {
  it('defaults snapshots the map does not cover', () => {
    expect(healthOf(fullBackup('p@f'), new Map())).toBe('ok');
    expect(healthOf(incrementalBackup('p@i', 'p@f'), new Map())).toBe('missing parent');
    expect(healthOf(fullBackup('p@f'), new Map([['p@f', 'ok']]))).toBe('ok');
  });
});
