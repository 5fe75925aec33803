/**
 * Chains that end: with MAX_CHAIN or FULL_EVERY an incremental run sends a full where the chain
 * would pass the limit, and the snapshots after it extend the new chain.
 */
import { describe, expect, it } from 'vitest';
import { planBackup, type BackupStep, type ChainLimits } from './backup.js';
import { computeHealth } from './health.js';
import { fullBackup, incrementalBackup } from './testing.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';

/** `pool/fs@daily-2026-11-<day>-0000`: zfs-auto-snapshot's names, so each has a time. */
const daily = (day: number): string => `pool/fs@daily-2026-11-${day}-0000`;
const DAY_S = 86_400;
/** 2026-11-20T00:00:00Z in seconds. */
const NOV_20 = Date.UTC(2026, 10, 20) / 1000;

/** Local snapshots of days `from`..`to` (all of November 2026). */
function days(from: number, to: number, extra: Partial<LocalSnapshot> = {}): LocalSnapshot[] {
  const out: LocalSnapshot[] = [];
  for (let day = from; day <= to; day++) out.push({ name: daily(day), ...extra });
  return out;
}

/** A chain on S3: a full of day `from`, incrementals up to day `to`. */
function chain(from: number, to: number): RemoteSnapshot[] {
  return Array.from({ length: to - from + 1 }, (_, i) =>
    i === 0 ? fullBackup(daily(from)) : incrementalBackup(daily(from + i), daily(from + i - 1)),
  );
}

/** The steps of an incremental run with `limits`. */
function steps(
  local: LocalSnapshot[],
  remote: RemoteSnapshot[],
  limits: ChainLimits,
  now?: number,
): BackupStep[] {
  const result = planBackup({
    local,
    remote,
    health: computeHealth(remote),
    filesystem: 'pool/fs',
    snapshotPrefix: 'daily-',
    mode: 'incremental',
    chainLimits: limits,
    now,
  });
  if (result.kind !== 'steps') throw new Error(`expected steps, got ${result.kind}`);
  return result.steps;
}

/** The steps, as `F day` (full, with the limit that ended the chain) or `I day`. */
function shape(
  local: LocalSnapshot[],
  remote: RemoteSnapshot[],
  limits: ChainLimits,
  now?: number,
): string[] {
  return steps(local, remote, limits, now).map(stepShape);
}

function stepShape(step: BackupStep): string {
  const day = step.snapshot.slice(-7, -5);
  if (step.parent === undefined) return `F ${day} ${step.endsChain ?? ''}`.trim();
  // An incremental is on the day before (every test's local snapshots are one a day).
  if (step.parent.endsWith('-0000')) expect(step.parent.slice(-7, -5)).toBe(String(+day - 1));
  return `I ${day}`;
}

const DAYS_3 = { years: 0, months: 0, days: 3, hours: 0 };

describe('planBackup with MAX_CHAIN', () => {
  it.each<[string, RemoteSnapshot[], LocalSnapshot[], ChainLimits, string[]]>([
    [
      'a week in one run, max 3: fulls every third object',
      chain(20, 21),
      days(20, 26),
      { maxChain: 3 },
      ['I 22', 'F 23 max-chain', 'I 24', 'I 25', 'F 26 max-chain'],
    ],
    [
      'one a day: the fourth is a full',
      chain(20, 22),
      days(20, 23),
      { maxChain: 3 },
      ['F 23 max-chain'],
    ],
    [
      'one a day, chain shorter than the limit',
      chain(20, 21),
      days(20, 22),
      { maxChain: 3 },
      ['I 22'],
    ],
    [
      'max 1: every backup is a full',
      chain(20, 20),
      days(20, 22),
      { maxChain: 1 },
      ['F 21 max-chain', 'F 22 max-chain'],
    ],
    ['0 is no limit', chain(20, 24), days(20, 26), { maxChain: 0 }, ['I 25', 'I 26']],
    ['no limits at all', chain(20, 24), days(20, 26), {}, ['I 25', 'I 26']],
    [
      'a chain already longer than a newly set limit ends at once',
      chain(20, 25),
      days(20, 26),
      { maxChain: 3 },
      ['F 26 max-chain'],
    ],
    [
      "the chain counted is the base backup's, not the oldest full on S3",
      [...chain(20, 21), ...chain(22, 23)],
      days(20, 25),
      { maxChain: 3 },
      ['I 24', 'F 25 max-chain'],
    ],
  ])('%s', (_, remote, local, limits, expected) => {
    expect(shape(local, remote, limits)).toEqual(expected);
  });
});

describe('planBackup with FULL_EVERY', () => {
  it.each<[string, RemoteSnapshot[], LocalSnapshot[], string[]]>([
    [
      'names give the times: the full of day 20 is too old for day 24 (older than 3 days)',
      chain(20, 20),
      days(20, 26),
      ['I 21', 'I 22', 'I 23', 'F 24 full-every', 'I 25', 'I 26'],
    ],
    ['exactly 3 days older is not older', chain(20, 22), days(20, 23), ['I 23']],
    [
      "the full's metadata creation beats its name",
      [fullBackup(daily(20), { creation: String(NOV_20 - 10 * DAY_S) })],
      days(20, 21),
      ['F 21 full-every'],
    ],
    [
      "the full's LastModified when neither gives a time",
      [fullBackup('pool/fs@daily-first', { lastModified: '2026-11-01T00:00:00Z' })],
      [{ name: 'pool/fs@daily-first' }, ...days(21, 21)],
      ['F 21 full-every'],
    ],
    [
      'a full without a known time is never too old',
      [fullBackup('pool/fs@daily-first')],
      [{ name: 'pool/fs@daily-first' }, ...days(21, 21)],
      ['I 21'],
    ],
  ])('%s', (_, remote, local, expected) => {
    expect(shape(local, remote, { fullEvery: DAYS_3 })).toEqual(expected);
  });

  it("takes a snapshot's time from its creation, which beats its name", () => {
    const local = [
      { name: daily(20) },
      { name: daily(21), creation: NOV_20 + 30 * DAY_S, guid: '77' },
    ];
    expect(shape(local, chain(20, 20), { fullEvery: DAYS_3 })).toEqual(['F 21 full-every']);
  });

  it('takes now for a snapshot with no time of its own', () => {
    const local = [{ name: daily(20) }, { name: 'pool/fs@daily-x' }];
    const now = (NOV_20 + 4 * DAY_S) * 1000;
    const plan = (at: number | undefined): BackupStep[] =>
      steps(local, chain(20, 20), { fullEvery: DAYS_3 }, at);
    expect(plan(now)).toEqual([
      { snapshot: 'pool/fs@daily-x', parent: undefined, endsChain: 'full-every' },
    ]);
    expect(plan(undefined)).toEqual([{ snapshot: 'pool/fs@daily-x', parent: daily(20) }]);
  });

  it('with both limits, whichever comes first ends the chain', () => {
    expect(shape(days(20, 28), chain(20, 20), { fullEvery: DAYS_3, maxChain: 2 })).toEqual([
      'I 21',
      'F 22 max-chain',
      'I 23',
      'F 24 max-chain',
      'I 25',
      'F 26 max-chain',
      'I 27',
      'F 28 max-chain',
    ]);
    expect(shape(days(20, 28), chain(20, 20), { fullEvery: DAYS_3, maxChain: 5 })).toEqual([
      'I 21',
      'I 22',
      'I 23',
      'F 24 full-every',
      'I 25',
      'I 26',
      'I 27',
      'F 28 full-every',
    ]);
  });
});

describe('planBackup steps carry what the metadata records', () => {
  it('creation and guid of each snapshot, full or incremental', () => {
    const local = days(20, 22).map((s, i) => ({
      ...s,
      creation: NOV_20 + i * DAY_S,
      guid: `${i}`,
    }));
    expect(steps(local, chain(20, 20), { maxChain: 2 })).toEqual([
      { snapshot: daily(21), parent: daily(20), creation: NOV_20 + DAY_S, guid: '1' },
      {
        snapshot: daily(22),
        parent: undefined,
        creation: NOV_20 + 2 * DAY_S,
        guid: '2',
        endsChain: 'max-chain',
      },
    ]);
  });
});
