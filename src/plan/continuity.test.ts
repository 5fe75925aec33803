import { describe, expect, it } from 'vitest';
import { injected } from '../testing/faults.js';
import { checkContinuity, type StreamGuids } from './continuity.js';
import { fullBackup, incrementalBackup } from './testing.js';

const chain = [
  fullBackup('tank/fs@a'),
  incrementalBackup('tank/fs@b', 'tank/fs@a'),
  incrementalBackup('tank/fs@c', 'tank/fs@b'),
];

function guids(entries: [string, string, string][]): Map<string, StreamGuids> {
  return new Map(entries.map(([name, toguid, fromguid]) => [name, { toguid, fromguid }]));
}

describe('checkContinuity', () => {
  it('finds nothing wrong when each fromguid is its parent’s toguid and the full’s is 0', () => {
    const streams = guids([
      ['tank/fs@a', '11', '0'],
      ['tank/fs@b', '22', '11'],
      ['tank/fs@c', '33', '22'],
    ]);
    expect(checkContinuity(chain, streams)).toEqual(new Map());
  });

  it('reports an incremental re-labelled with another parent', { tags: ['faults'] }, () => {
    const streams = guids([
      ['tank/fs@a', '11', '0'],
      ['tank/fs@b', '22', '11'],
      ['tank/fs@c', '33', '11'],
    ]);
    expect(checkContinuity(chain, streams)).toEqual(
      new Map([['tank/fs@c', 'parent guid mismatch: expected 22, stream says 11']]),
    );
    injected('corrupt data', 1);
  });

  it(
    'reports a full whose stream is an incremental, and an incremental whose stream is a full',
    { tags: ['faults'] },
    () => {
      const streams = guids([
        ['tank/fs@a', '11', '7'],
        ['tank/fs@b', '22', '0'],
      ]);
      expect(checkContinuity(chain, streams)).toEqual(
        new Map([
          ['tank/fs@a', "full backup's stream is incremental: fromguid 7, expected 0"],
          ['tank/fs@b', 'parent guid mismatch: expected 11, stream says 0'],
        ]),
      );
      injected('corrupt data', 2);
    },
  );

  it('leaves unchecked what was not read (a subset run, a missing parent)', () => {
    const streams = guids([['tank/fs@c', '33', '999']]);
    expect(checkContinuity(chain, streams)).toEqual(new Map());
    const orphan = [incrementalBackup('tank/fs@x', undefined)];
    expect(checkContinuity(orphan, guids([['tank/fs@x', '1', '2']]))).toEqual(new Map());
  });
});
