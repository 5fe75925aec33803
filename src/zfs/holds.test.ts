import { describe, expect, it } from 'vitest';
import { CommandFailedError, UsageError } from '../errors.js';
import {
  bookmarkArgv,
  holdArgv,
  holdsArgv,
  listBookmarksArgv,
  parseBookmarkList,
  parseHolds,
  releaseArgv,
} from './holds.js';

describe('hold and bookmark argv', () => {
  it.each([
    [holdArgv('z3:0123456789ab', 'tank/a@s-1'), ['zfs', 'hold', 'z3:0123456789ab', 'tank/a@s-1']],
    [releaseArgv('z3:x', 'tank/a@s-1'), ['zfs', 'release', 'z3:x', 'tank/a@s-1']],
    [
      bookmarkArgv('tank/a@auto:2026-12-01_05.00', 'tank/a#z3_auto:2026-12-01_05.00'),
      ['zfs', 'bookmark', 'tank/a@auto:2026-12-01_05.00', 'tank/a#z3_auto:2026-12-01_05.00'],
    ],
    [holdsArgv(['tank/a@1', 'tank/a@2']), ['zfs', 'holds', '-H', 'tank/a@1', 'tank/a@2']],
    [
      listBookmarksArgv('tank/a b'),
      ['zfs', 'list', '-H', '-p', '-t', 'bookmark', '-o', 'name,createtxg,guid'].concat([
        '-s',
        'createtxg',
        '-d',
        '1',
        'tank/a b',
      ]),
    ],
  ])('%j', (argv, expected) => {
    expect(argv).toEqual(expected);
  });

  it('refuses a tag or name zfs would read as an option', () => {
    expect(() => holdArgv('-r', 'tank/a@1')).toThrow(UsageError);
    expect(() => releaseArgv('z3:x', '-d')).toThrow(UsageError);
    expect(() => bookmarkArgv('tank/a@1', '')).toThrow(UsageError);
  });
});

describe('parseHolds', () => {
  it('reads name and tag, the time ignored; names may hold spaces', () => {
    const text =
      'tank/a b@s 1\tz3:0123456789ab\tTue Dec  1 05:00 2026\ntank/a b@s 2\tkeep\tTue Dec  1 05:01 2026\n';
    expect(parseHolds(text)).toEqual([
      { snapshot: 'tank/a b@s 1', tag: 'z3:0123456789ab' },
      { snapshot: 'tank/a b@s 2', tag: 'keep' },
    ]);
    expect(parseHolds('')).toEqual([]);
  });

  it('refuses a line without a tag', () => {
    expect(() => parseHolds('tank/a@1\n')).toThrow(CommandFailedError);
  });
});

describe('parseBookmarkList', () => {
  it('reads name, createtxg and a guid beyond 2^53 as text', () => {
    expect(parseBookmarkList('tank/a#z3_s-1\t42\t18446744073709551615\n')).toEqual([
      { name: 'tank/a#z3_s-1', createtxg: 42, guid: '18446744073709551615' },
    ]);
  });

  it.each(['tank/a@s-1\t42\t7', 'tank/a#b\t-\t7', 'tank/a#b\t4'])('refuses %j', (line) => {
    expect(() => parseBookmarkList(`${line}\n`)).toThrow(CommandFailedError);
  });
});
