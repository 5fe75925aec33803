import { describe, expect, it } from 'vitest';
import { computeHealth } from '../plan/health.js';
import { planStatus, type StatusRow } from '../plan/status.js';
import {
  fullBackup,
  incrementalBackup,
  localSnapshots,
  originalBucket,
  originalLocal,
} from '../plan/testing.js';
import { renderStatusJson, renderStatusTable, renderStatusTitle } from './status-table.js';

function originalRows(): StatusRow[] {
  const remote = originalBucket();
  return planStatus({ local: originalLocal(), remote, health: computeHealth(remote) });
}

// Spec 5's example, verbatim (trailing spaces included).
const SPEC_EXAMPLE = [
  'NAME         | PARENT         | TYPE        | HEALTH         | LOCAL STATE | SIZE  ',
  'snap_1_f     |                | full        | ok             | ok          | 50 G  ',
  'snap_5       | snap_4_mp      | incremental | parent broken  | missing     |       ',
  'snap_6_cycle | snap_7_cycle   | incremental | cycle detected | missing     |       ',
  'snap_8       | -              | missing     | -              | ok          |       ',
];

describe('renderStatusTable', () => {
  it('renders the original fixture byte for byte', () => {
    expect(renderStatusTable(originalRows())).toBe(
      [
        'NAME         | PARENT         | TYPE        | HEALTH         | LOCAL STATE | SIZE  ',
        'snap_0       | snap_expired   | incremental | missing parent | ok          |       ',
        'snap_1_f     |                | full        | ok             | ok          | 50 G  ',
        'snap_2       | snap_1_f       | incremental | ok             | ok          | 1.25 M',
        'snap_3       | snap_2         | incremental | ok             | ok          |       ',
        'snap_4_mp    | missing_parent | incremental | missing parent | missing     |       ',
        'snap_5       | snap_4_mp      | incremental | parent broken  | missing     |       ',
        'snap_6_cycle | snap_7_cycle   | incremental | cycle detected | missing     |       ',
        'snap_7_cycle | snap_6_cycle   | incremental | cycle detected | missing     |       ',
        'snap_8       | -              | missing     | -              | ok          |       ',
        'snap_9       | -              | missing     | -              | ok          |       ',
        '',
      ].join('\n'),
    );
  });

  it("contains every line of the spec's example verbatim", () => {
    const lines = renderStatusTable(originalRows()).split('\n');
    expect(lines[0]).toBe(SPEC_EXAMPLE[0]);
    for (const line of SPEC_EXAMPLE) expect(lines).toContain(line);
  });

  it('is as narrow as the header with no rows', () => {
    expect(renderStatusTable([])).toBe('NAME | PARENT | TYPE | HEALTH | LOCAL STATE | SIZE\n');
  });

  it('shows a malformed or absent parent instead of crashing', () => {
    const remote = [
      incrementalBackup('pool/fs@a', 'no_at_sign'),
      incrementalBackup('pool/fs@b', undefined),
    ];
    const rows = planStatus({ local: [], remote, health: computeHealth(remote) });
    expect(renderStatusTable(rows).split('\n').slice(1, 3)).toEqual([
      'a    | no_at_sign | incremental | missing parent | missing     |     ',
      'b    |            | incremental | missing parent | missing     |     ',
    ]);
  });

  it('pads by code points, as Python does', () => {
    const rows = planStatus({
      local: localSnapshots('p@\u{1F600}x'),
      remote: [],
      health: new Map(),
    });
    expect(renderStatusTable(rows).split('\n')[1]).toBe(
      '\u{1F600}x   | -      | missing | -      | ok          |     ',
    );
  });
});

describe('renderStatusTitle', () => {
  it('names the dataset, prefix, bucket and the S3 prefix as given', () => {
    expect(
      renderStatusTitle({
        filesystem: 'pool/fs',
        snapshotPrefix: 'zfs-auto-snap:daily',
        bucket: 'my-bucket',
        s3PrefixRaw: 'z3-backup',
      }),
    ).toBe('backup status for pool/fs@zfs-auto-snap:daily* on my-bucket/z3-backup');
  });
});

describe('renderStatusTable with the chain length', () => {
  it("adds a CHAIN column only when asked (the six columns stay the original's)", () => {
    expect(renderStatusTable(originalRows(), { withChainLength: true })).toBe(
      [
        'NAME         | PARENT         | TYPE        | HEALTH         | LOCAL STATE | SIZE   | CHAIN',
        'snap_0       | snap_expired   | incremental | missing parent | ok          |        |      ',
        'snap_1_f     |                | full        | ok             | ok          | 50 G   | 1    ',
        'snap_2       | snap_1_f       | incremental | ok             | ok          | 1.25 M | 2    ',
        'snap_3       | snap_2         | incremental | ok             | ok          |        | 3    ',
        'snap_4_mp    | missing_parent | incremental | missing parent | missing     |        |      ',
        'snap_5       | snap_4_mp      | incremental | parent broken  | missing     |        |      ',
        'snap_6_cycle | snap_7_cycle   | incremental | cycle detected | missing     |        |      ',
        'snap_7_cycle | snap_6_cycle   | incremental | cycle detected | missing     |        |      ',
        'snap_8       | -              | missing     | -              | ok          |        |      ',
        'snap_9       | -              | missing     | -              | ok          |        |      ',
        '',
      ].join('\n'),
    );
  });
});

describe('renderStatusTable: LOCAL STATE differs, MODE', () => {
  const remote = [
    fullBackup('pool/fs@a', { guid: '1', sendFlags: 'wc' }),
    incrementalBackup('pool/fs@b', 'pool/fs@a', { guid: '2', sendFlags: 'w' }),
    incrementalBackup('pool/fs@c', 'pool/fs@b', { guid: '3' }),
  ];
  const local = [
    { name: 'pool/fs@a', guid: '1' },
    { name: 'pool/fs@b', guid: '9' },
    { name: 'pool/fs@d', guid: '4' },
  ];
  const rows = (): StatusRow[] => planStatus({ local, remote, health: computeHealth(remote) });

  it('shows differs for a local snapshot with another guid; the columns stay the six', () => {
    expect(renderStatusTable(rows())).toBe(
      [
        'NAME | PARENT | TYPE        | HEALTH | LOCAL STATE | SIZE',
        'a    |        | full        | ok     | ok          |     ',
        'b    | a      | incremental | ok     | differs     |     ',
        'c    | b      | incremental | ok     | missing     |     ',
        'd    | -      | missing     | -      | ok          |     ',
        '',
      ].join('\n'),
    );
  });

  it('adds a MODE column only when asked', () => {
    expect(renderStatusTable(rows(), { withMode: true }).split('\n')).toEqual([
      'NAME | PARENT | TYPE        | HEALTH | LOCAL STATE | SIZE | MODE          ',
      'a    |        | full        | ok     | ok          |      | raw+compressed',
      'b    | a      | incremental | ok     | differs     |      | raw           ',
      'c    | b      | incremental | ok     | missing     |      | plain         ',
      'd    | -      | missing     | -      | ok          |      |               ',
      '',
    ]);
  });

  it('JSON: localState differs', () => {
    const states = renderStatusJson(rows())
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { localState: string }).localState);
    expect(states).toEqual(['ok', 'differs', 'missing', 'ok']);
  });
});

describe('renderStatusJson', () => {
  it('writes one JSON object per line, sizes in bytes, null when absent', () => {
    const remote = [
      fullBackup('pool/fs@a', { size: 5000, objectSize: 1200, sendFlags: 'wL' }),
      incrementalBackup('pool/fs@b', 'pool/fs@a'),
    ];
    const rows = planStatus({
      local: localSnapshots('pool/fs@a', 'pool/fs@c'),
      remote,
      health: computeHealth(remote),
    });
    const lines = renderStatusJson(rows).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      {
        name: 'a',
        parent: null,
        type: 'full',
        health: 'ok',
        localState: 'ok',
        size: 5000,
        objectSize: 1200,
        snapshot: 'pool/fs@a',
        chainLength: 1,
        mode: 'raw',
        sendFlags: 'wL',
        verified: null,
      },
      {
        name: 'b',
        parent: 'a',
        type: 'incremental',
        health: 'ok',
        localState: 'missing',
        size: null,
        objectSize: 4,
        snapshot: 'pool/fs@b',
        chainLength: 2,
        mode: 'plain',
        sendFlags: '',
        verified: null,
      },
      {
        name: 'c',
        parent: null,
        type: 'missing',
        health: null,
        localState: 'ok',
        size: null,
        objectSize: null,
        snapshot: 'pool/fs@c',
        chainLength: null,
        mode: null,
        sendFlags: null,
        verified: null,
      },
    ]);
  });

  it('is empty for no rows', () => {
    expect(renderStatusJson([])).toBe('');
  });
});
