import { describe, expect, it } from 'vitest';
import type { ListedObject } from '../storage/backend.js';
import {
  checkSegments,
  layoutToCheck,
  markerKey,
  ownerOfSegmentKey,
  segmentDir,
  segmentKey,
} from './segments.js';

const DIR = segmentDir('z3-backup/', 'tank/data@s1', 'abc');
const FIRST = { key: 'z3-backup/tank/data@s1', size: 10, etag: '"e"' };
const LAYOUT = { dir: DIR, capacity: 10 };

function listed(entries: [string, number][]): ListedObject[] {
  return entries.map(([key, size]) => ({ key, size, etag: '"x"', lastModified: '' }));
}

describe('layoutToCheck', () => {
  it('only a full first object with both keys may have segments', () => {
    const meta = { segmentsize: '10', segmentdir: DIR };
    expect(layoutToCheck(meta, 10)).toEqual(LAYOUT);
    expect(layoutToCheck(meta, 9)).toBeUndefined();
    expect(layoutToCheck({ segmentsize: '10' }, 10)).toBeUndefined();
    expect(layoutToCheck({ segmentsize: 'x', segmentdir: DIR }, 10)).toBeUndefined();
    expect(layoutToCheck({}, 10)).toBeUndefined();
  });
});

describe('checkSegments', () => {
  it('complete: the marker names the count and every segment is there, full but the last', () => {
    const check = checkSegments(
      FIRST,
      LAYOUT,
      listed([
        [segmentKey(DIR, 2), 10],
        [segmentKey(DIR, 3), 4],
        [markerKey(DIR, 3), 40],
      ]),
    );
    expect(check.kind === 'complete' && check.segments.map((s) => s.size)).toEqual([10, 10, 4]);
  });

  it.each<[string, [string, number][], string]>([
    [
      'a middle one',
      [
        [segmentKey(DIR, 3), 4],
        [markerKey(DIR, 3), 1],
      ],
      'missing segment 2',
    ],
    [
      'the last one',
      [
        [segmentKey(DIR, 2), 10],
        [markerKey(DIR, 3), 1],
      ],
      'missing segment 3',
    ],
    ['everything', [], 'missing segment 2'],
    ['the marker after a full one', [[segmentKey(DIR, 2), 10]], 'missing segment 3'],
    [
      'the marker after a short one',
      [[segmentKey(DIR, 2), 3]],
      'missing segment end marker (after segment 2)',
    ],
    [
      'nothing, but a segment is short',
      [
        [segmentKey(DIR, 2), 3],
        [segmentKey(DIR, 3), 3],
        [markerKey(DIR, 3), 1],
      ],
      'segment 2 has 3 bytes, expected 10',
    ],
  ])('missing %s: broken, saying what', (_case, entries, problem) => {
    expect(checkSegments(FIRST, LAYOUT, listed(entries))).toEqual({ kind: 'broken', problem });
  });

  it('exact boundary of one segment: the marker alone completes it', () => {
    const check = checkSegments(FIRST, LAYOUT, listed([[markerKey(DIR, 1), 1]]));
    expect(check).toEqual({ kind: 'complete', segments: [FIRST] });
  });
});

describe('ownerOfSegmentKey', () => {
  it('names the directory and the snapshot that owns it, with any prefix', () => {
    expect(ownerOfSegmentKey('z3-backup/', segmentKey(DIR, 2))).toEqual({
      dir: DIR,
      snapshotName: 'tank/data@s1',
    });
    const bare = segmentDir('', 'tank@s', 'r');
    expect(bare).toBe('.z3/segments/tank@s/r/');
    expect(ownerOfSegmentKey('', markerKey(bare, 1))).toEqual({
      dir: bare,
      snapshotName: 'tank@s',
    });
    expect(ownerOfSegmentKey('z3-backup/', 'z3-backup/.z3/index/tank')).toBeUndefined();
  });
});
