import { describe, expect, it } from 'vitest';
import { CommandFailedError } from '../errors.js';
import { parseSendEstimate, parseZfsList } from './parse.js';
import { injected } from '../testing/faults.js';

describe('parseZfsList', () => {
  it('parses -H -p lines in order', () => {
    const text =
      'tank/fs@zfs-auto-snap_daily-2024-01-01-0000\t1200\t0\t98304\ntank/fs@b\t1300\t65536\t131072\n';
    expect(parseZfsList(text)).toEqual([
      {
        name: 'tank/fs@zfs-auto-snap_daily-2024-01-01-0000',
        createtxg: 1200,
        used: 0,
        referenced: 98304,
      },
      { name: 'tank/fs@b', createtxg: 1300, used: 65536, referenced: 131072 },
    ]);
  });

  it('keeps names with spaces, quotes, $, ; and : verbatim', () => {
    const names = [
      'tank/my data@snap 1',
      `tank/q"uo'te@it's`,
      'tank/$HOME@$(id)',
      'tank/a;b@c;rm -rf /',
      'tank/v1.2:x@zfs-auto-snap:daily-2018',
    ];
    const text = names.map((n, i) => `${n}\t${i + 1}\t${i * 10}\t${i * 100}`).join('\n');
    expect(parseZfsList(text).map((s) => s.name)).toEqual(names);
    expect(parseZfsList(text)[4]).toEqual({
      name: names[4],
      createtxg: 5,
      used: 40,
      referenced: 400,
    });
  });

  it('takes the numbers from the right, so even a tab in a name survives', () => {
    expect(parseZfsList('a\tb@c\t7\t8\t9\n')).toEqual([
      { name: 'a\tb@c', createtxg: 7, used: 8, referenced: 9 },
    ]);
  });

  it('accepts empty output and CRLF', () => {
    expect(parseZfsList('')).toEqual([]);
    expect(parseZfsList('\n')).toEqual([]);
    expect(parseZfsList('t@a\t1\t2\t3\r\n')).toEqual([
      { name: 't@a', createtxg: 1, used: 2, referenced: 3 },
    ]);
  });

  it(
    'rejects lines of another shape (human-readable sizes, missing columns)',
    { tags: ['faults'] },
    () => {
      expect(() => parseZfsList('tank/fs@a\t12\t1.5K\t20K\n')).toThrow(CommandFailedError);
      expect(() => parseZfsList('tank/fs@a  12  0  20\n')).toThrow(
        'unexpected output from zfs list, line 1',
      );
      expect(() => parseZfsList('ok@a\t1\t2\t3\n\t1\t2\t3\n')).toThrow('line 2');
      injected('corrupt data', 3); // unexpected zfs list output
    },
  );
});

describe('parseSendEstimate', () => {
  // Captured shapes: OpenZFS 2.1.5 (Ubuntu 22.04) and 2.3.1 print the same parsable lines to
  // stdout for -n; a full send goes through estimate_size(), -I through dump_snapshot().
  const full21 = 'full\ttank/data@zfs-auto-snap_daily-2024-01-02-0000\t3702224\nsize\t3702224\n';
  const incr21 = 'incremental\ttank/data@snap1\ttank/data@snap2\t1133488\nsize\t1133488\n';
  const full23 = 'full\ttank/my data@first snap\t87112\nsize\t87112\n';
  const incr23 = 'incremental\ttank/my data@a\ttank/my data@b\t46736\nsize\t46736\n';
  const range23 = 'incremental\ta\ttank/fs@b\t5120\nincremental\tb\ttank/fs@c\t6144\nsize\t11264\n';

  it('OpenZFS 2.1 full and incremental', () => {
    expect(parseSendEstimate(full21)).toEqual({
      size: 3702224,
      streams: [
        {
          kind: 'full',
          from: undefined,
          to: 'tank/data@zfs-auto-snap_daily-2024-01-02-0000',
          size: 3702224,
        },
      ],
    });
    expect(parseSendEstimate(incr21)).toEqual({
      size: 1133488,
      streams: [
        { kind: 'incremental', from: 'tank/data@snap1', to: 'tank/data@snap2', size: 1133488 },
      ],
    });
  });

  it('OpenZFS 2.3 full, incremental (names with spaces) and an -I range', () => {
    expect(parseSendEstimate(full23)?.size).toBe(87112);
    expect(parseSendEstimate(incr23)?.streams[0]).toEqual({
      kind: 'incremental',
      from: 'tank/my data@a',
      to: 'tank/my data@b',
      size: 46736,
    });
    const range = parseSendEstimate(range23);
    expect(range?.size).toBe(11264);
    expect(range?.streams.map((s) => [s.from, s.to])).toEqual([
      ['a', 'tank/fs@b'],
      ['b', 'tank/fs@c'],
    ]);
  });

  it('takes the last size line and ignores other lines (warnings, progress)', () => {
    const noisy = 'warning: something\nfull\tt@a\t10\nsize\t10\n06:04:57\t4096\tt@a\n\n';
    expect(parseSendEstimate(noisy)?.size).toBe(10);
    expect(parseSendEstimate('size\t1\nsize\t2\n')?.size).toBe(2);
  });

  it('sums the streams when the size line is missing', () => {
    expect(parseSendEstimate('full\tt@a\t10\nincremental\tt@a\tt@b\t5\n')?.size).toBe(15);
  });

  it('is undefined without an estimate', () => {
    expect(parseSendEstimate('')).toBeUndefined();
    expect(parseSendEstimate('total estimated size is 3.53M\n')).toBeUndefined();
    expect(parseSendEstimate('size\t-\n')).toBeUndefined();
  });
});
