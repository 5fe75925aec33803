import { describe, expect, it } from 'vitest';
import { parseOlderThan, planCleanup, planOrphans } from './cleanup.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-11-26T00:00:00Z');

describe('parseOlderThan', () => {
  it.each([
    ['0', 0],
    ['0d', 0],
    ['90m', 90 * MINUTE],
    ['36h', 36 * HOUR],
    ['7d', 7 * DAY],
    ['1d12h', 36 * HOUR],
    ['30s', 30_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseOlderThan(text)).toBe(ms);
  });

  it.each(['7x', '-1d', '-0', '1.5d', '7', '', 'd', '7 d', '1w'])('%j is no duration', (text) => {
    expect(parseOlderThan(text)).toBeUndefined();
  });
});

describe('planCleanup', () => {
  const pending = (id: string, started: string): { key: string; id: string; started: string } => ({
    key: `z3-backup/tank/data@${id}`,
    id,
    started,
  });
  const ago = (ms: number): string => new Date(NOW - ms).toISOString();

  it('aborts what is at least --older-than old, keeps younger and journaled writes', () => {
    const rows = planCleanup({
      pending: [
        pending('old', ago(8 * DAY)),
        pending('exact', ago(7 * DAY)),
        pending('young', ago(6 * DAY)),
        pending('journaled', ago(30 * DAY)),
      ],
      now: NOW,
      olderThan: 7 * DAY,
      journaled: new Set(['journaled']),
    });
    expect(rows.map((r) => [r.pending.id, r.action, r.reason, r.age])).toEqual([
      ['old', 'abort', undefined, 8 * DAY],
      ['exact', 'abort', undefined, 7 * DAY],
      ['young', 'keep', 'younger', 6 * DAY],
      ['journaled', 'keep', 'journal', 30 * DAY],
    ]);
  });

  it('keeps a write of unknown age unless --older-than is 0, and a journaled one even then', () => {
    const input = {
      pending: [pending('unknown', ''), pending('garbled', 'yesterday'), pending('j', ago(1))],
      now: NOW,
      journaled: new Set(['j']),
    };
    expect(planCleanup({ ...input, olderThan: DAY }).map((r) => r.reason)).toEqual([
      'age unknown',
      'age unknown',
      'journal',
    ]);
    expect(planCleanup({ ...input, olderThan: 0 }).map((r) => r.action)).toEqual([
      'abort',
      'abort',
      'keep',
    ]);
  });

  it('keeps a write started in the future (clock skew) as younger', () => {
    const [row] = planCleanup({
      pending: [pending('future', new Date(NOW + HOUR).toISOString())],
      now: NOW,
      olderThan: MINUTE,
      journaled: new Set(),
    });
    expect(row).toMatchObject({ action: 'keep', reason: 'younger', age: -HOUR });
  });
});

describe('planOrphans', () => {
  const ago = (ms: number): string => new Date(NOW - ms).toISOString();
  const orphans = [
    { dir: 'old/', newest: ago(8 * DAY) },
    { dir: 'exact/', newest: ago(7 * DAY) },
    { dir: 'young/', newest: ago(2 * HOUR) },
    { dir: 'unknown/', newest: '' },
    { dir: 'journaled/', newest: ago(30 * DAY) },
  ];
  const plan = (olderThan: number) =>
    planOrphans({ orphans, now: NOW, olderThan, journaledDirs: new Set(['journaled/']) }).map(
      (r) => [r.dir, r.action, r.reason, r.age],
    );

  it('removes a directory whose newest object is at least --older-than old, keeps the rest', () => {
    expect(plan(7 * DAY)).toEqual([
      ['old/', 'remove', undefined, 8 * DAY],
      ['exact/', 'remove', undefined, 7 * DAY],
      ['young/', 'keep', 'younger', 2 * HOUR],
      ['unknown/', 'keep', 'age unknown', undefined],
      ['journaled/', 'keep', 'journal', 30 * DAY],
    ]);
  });

  it('--older-than 0 removes every one no journal names, of unknown age too', () => {
    expect(plan(0).map(([dir, action]) => [dir, action])).toEqual([
      ['old/', 'remove'],
      ['exact/', 'remove'],
      ['young/', 'remove'],
      ['unknown/', 'remove'],
      ['journaled/', 'keep'],
    ]);
  });
});
