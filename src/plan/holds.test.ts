import { describe, expect, it } from 'vitest';
import { computeHealth } from './health.js';
import { bookmarkName, holdTag, newestBackedUp, planHolds } from './holds.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';

describe('holdTag', () => {
  const s3 = { bucket: 'b', backupDir: undefined, s3Prefix: 'z3-backup/' };

  it('is z3: and 12 hex digits, the same for the same target', () => {
    expect(holdTag(s3)).toMatch(/^z3:[0-9a-f]{12}$/);
    expect(holdTag({ ...s3 })).toBe(holdTag(s3));
  });

  it('differs for another bucket, prefix or directory', () => {
    const tags = [
      holdTag(s3),
      holdTag({ ...s3, bucket: 'c' }),
      holdTag({ ...s3, s3Prefix: 'other/' }),
      holdTag({ bucket: undefined, backupDir: '/mnt/b', s3Prefix: 'z3-backup/' }),
      holdTag({ bucket: undefined, backupDir: '/mnt/c', s3Prefix: 'z3-backup/' }),
    ];
    expect(new Set(tags).size).toBe(tags.length);
  });

  it('is pinned: a changed formula would orphan every hold already placed', () => {
    // sha256("s3:b/z3-backup/") starts so
    expect(holdTag(s3)).toBe('z3:d8ee63ec9ee3');
  });
});

describe('bookmarkName', () => {
  it.each([
    ['tank/a@s-1', 'tank/a#z3_s-1'],
    [
      'tank/v1.2:prod_db@zfs-auto-snap:hourly-2026-12-01-0500',
      'tank/v1.2:prod_db#z3_zfs-auto-snap:hourly-2026-12-01-0500',
    ],
  ])('%s → %s', (snapshot, bookmark) => {
    expect(bookmarkName(snapshot)).toBe(bookmark);
  });
});

const local = (names: string[]): LocalSnapshot[] =>
  names.map((n, i) => ({ name: `tank/a@${n}`, guid: String(100 + i) }));

function remote(specs: string[]): RemoteSnapshot[] {
  // 's1 F 100' | 's2 <s1 101': name, full or parent, guid
  return specs.map((spec) => {
    const [name, kind, guid] = spec.split(' ') as [string, string, string];
    return {
      name: `tank/a@${name}`,
      key: `z3-backup/tank/a@${name}`,
      isFull: kind === 'F',
      parent: kind === 'F' ? undefined : `tank/a@${kind.slice(1)}`,
      compressor: undefined,
      size: 1,
      objectSize: 1,
      guid,
    };
  });
}

describe('newestBackedUp', () => {
  it.each([
    [
      'the newest local one on the target',
      ['s1', 's2', 's3'],
      ['s1 F 100', 's2 <s1 101'],
      [],
      's2',
    ],
    ['one committed by this run', ['s1', 's2', 's3'], ['s1 F 100'], ['tank/a@s3'], 's3'],
    ['not one whose chain is broken', ['s1', 's2'], ['s1 F 100', 's2 <s0 101'], [], 's1'],
    [
      'not one re-created under its name (guid)',
      ['s1', 's2'],
      ['s1 F 100', 's2 <s1 999'],
      [],
      's1',
    ],
    ['none when nothing is backed up', ['s1'], [], [], undefined],
  ])('%s', (_case, names, specs, committed, expected) => {
    const r = remote(specs);
    const found = newestBackedUp({
      local: local(names),
      remote: r,
      health: computeHealth(r),
      committed,
    });
    expect(found).toBe(expected === undefined ? undefined : `tank/a@${expected}`);
  });
});

describe('planHolds', () => {
  const TAG = 'z3:0123456789ab';
  const OTHER = 'z3:ba9876543210';

  it.each([
    [
      'first run: hold and bookmark',
      { newest: 's2', holds: [], bookmarks: [] },
      ['hold s2', 'bookmark s2'],
    ],
    [
      'next run: hold the new one before releasing the old one',
      { newest: 's3', holds: [['s2', TAG]], bookmarks: ['s2'] },
      ['hold s3', 'bookmark s3', 'release s2'],
    ],
    ['nothing new: nothing to do', { newest: 's3', holds: [['s3', TAG]], bookmarks: ['s3'] }, []],
    [
      "another target's hold and a user's hold are left alone",
      {
        newest: 's3',
        holds: [
          ['s1', OTHER],
          ['s2', 'keep'],
          ['s2', TAG],
        ],
        bookmarks: ['s3'],
      },
      ['hold s3', 'release s2'],
    ],
    [
      'leaked holds of earlier runs are released too',
      {
        newest: 's4',
        holds: [
          ['s1', TAG],
          ['s2', TAG],
          ['s4', TAG],
        ],
        bookmarks: ['s4'],
      },
      ['release s1', 'release s2'],
    ],
    [
      'nothing backed up: every hold is kept',
      { newest: undefined, holds: [['s1', TAG]], bookmarks: [] },
      [],
    ],
  ])('%s', (_case, input, expected) => {
    const full = (n: string): string => `tank/a@${n}`;
    const plan = planHolds({
      tag: TAG,
      newest: input.newest === undefined ? undefined : full(input.newest),
      holds: input.holds.map(([s, tag]) => ({ snapshot: full(s as string), tag: tag as string })),
      bookmarks: input.bookmarks.map((n) => `tank/a#z3_${n}`),
    });
    const shown = plan.actions.map((a) => `${a.kind} ${a.snapshot.slice(7)}`);
    expect(shown).toEqual(expected);
    expect(plan.warnings).toEqual([]);
  });

  it('warns instead of bookmarking when the bookmark name would pass 255 characters', () => {
    const newest = `tank/a@${'x'.repeat(248)}`; // 255 characters; the bookmark is 258
    const plan = planHolds({ tag: TAG, newest, holds: [], bookmarks: [] });
    expect(plan.actions).toEqual([{ kind: 'hold', snapshot: newest }]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/no bookmark, .* longer than zfs allows/),
    ]);
  });
});
