import { describe, expect, it } from 'vitest';
import { computeHealth } from './health.js';
import { planPrune, type PrunePlan } from './prune.js';
import type { RetentionPolicy } from './retention.js';
import { fullBackup, incrementalBackup } from './testing.js';
import type { RemoteSnapshot } from './types.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');

/** `tank/a@zfs-auto-snap_daily-2026-11-DD-0000`: one daily snapshot of November 2026. */
const day = (d: number): string =>
  `tank/a@zfs-auto-snap_daily-2026-11-${String(d).padStart(2, '0')}-0000`;

/** Daily backups of days 1..n, a full every `fullEvery` days (day 1 is a full). */
function dailyChains(n: number, fullEvery: number): RemoteSnapshot[] {
  return Array.from({ length: n }, (_, i) =>
    i % fullEvery === 0
      ? fullBackup(day(i + 1), { objectSize: 100 })
      : incrementalBackup(day(i + 1), day(i), { objectSize: 10 }),
  );
}

function plan(backups: RemoteSnapshot[], policy: RetentionPolicy, deleteBroken = false): PrunePlan {
  const health = computeHealth(backups);
  return planPrune({ backups, health, policy, now: NOW, deleteBroken, snapshotPrefix: '' });
}

const dayOf = (name: string): number => Number(name.slice(-7, -5));
const keptDays = (p: PrunePlan): number[] =>
  p.kept.map((r) => dayOf(r.snapshot.name)).sort((a, b) => a - b);

/**
 * Replays the deletions one by one: after each, no remaining backup may have lost its parent
 * unless it had lost it before the prune. Returns the number of checks made.
 */
function assertNoOrphanAtAnyPoint(backups: RemoteSnapshot[], p: PrunePlan): void {
  const brokenBefore = new Set(p.broken.map((r) => r.snapshot.name));
  let remaining = [...backups];
  for (const row of p.deleted) {
    remaining = remaining.filter((b) => b.name !== row.snapshot.name);
    const health = computeHealth(remaining);
    const orphans = remaining.filter(
      (b) => health.get(b.name) !== 'ok' && !brokenBefore.has(b.name),
    );
    expect(
      orphans.map((b) => b.name),
      `after deleting ${row.snapshot.name}`,
    ).toEqual([]);
  }
}

describe('planPrune', () => {
  it('backups created in the same second: the newest is the one furthest down its chain', () => {
    // `creation` has one-second resolution; the names sort against the chain order on purpose
    const at = { creation: String(NOW / 1000 - 3600) };
    const backups = [
      fullBackup('tank/a@z', at),
      incrementalBackup('tank/a@y', 'tank/a@z', at),
      incrementalBackup('tank/a@x', 'tank/a@y', at),
    ];
    const p = plan(backups, { last: 1 });
    expect(p.deleted).toEqual([]);
    const newest = p.kept.find((r) => r.reasons.includes('newest'));
    expect(newest?.snapshot.name).toBe('tank/a@x');
  });

  it('keep-daily 3 on chains with a full every 7 days keeps the ancestors back to the full', () => {
    const backups = dailyChains(20, 7); // fulls on days 1, 8, 15
    const p = plan(backups, { daily: 3 });
    expect(keptDays(p)).toEqual([15, 16, 17, 18, 19, 20]);
    const reasons = Object.fromEntries(p.kept.map((r) => [dayOf(r.snapshot.name), r.reasons]));
    expect(reasons[20]).toEqual(['newest', 'daily snapshot']);
    expect(reasons[18]).toEqual([
      'daily snapshot',
      'ancestor of zfs-auto-snap_daily-2026-11-20-0000',
    ]);
    expect(reasons[15]).toEqual(['ancestor of zfs-auto-snap_daily-2026-11-20-0000']);
    expect(p.deleted).toHaveLength(14);
    expect(p.bytesFreed).toBe(2 * 100 + 12 * 10);
    assertNoOrphanAtAnyPoint(backups, p);
  });

  it('deletes every object before its parent (descendants first)', () => {
    const backups = dailyChains(10, 5);
    const p = plan(backups, { last: 1 });
    const position = new Map(p.deleted.map((r, i) => [r.snapshot.name, i]));
    for (const row of p.deleted) {
      const parent = row.snapshot.parent;
      if (parent !== undefined && position.has(parent)) {
        expect(position.get(parent)).toBeGreaterThan(position.get(row.snapshot.name)!);
      }
    }
    assertNoOrphanAtAnyPoint(backups, p);
  });

  it('a long chain with one full keeps everything a kept backup needs', () => {
    const backups = dailyChains(30, 1000);
    const p = plan(backups, { daily: 1, monthly: 1 });
    expect(keptDays(p)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(p.deleted).toEqual([]);
  });

  it('always keeps the newest backup, even when the policy keeps only older ones', () => {
    const backups = dailyChains(5, 1); // all fulls
    const p = plan(backups, { within: { years: 0, months: 0, days: 0, hours: 1 } });
    expect(keptDays(p)).toEqual([5]);
    expect(p.kept[0]?.reasons).toEqual(['newest', 'within 1h']);
  });

  it('reports broken backups and keeps them, unless --broken, then deletes them children first', () => {
    const backups = [
      ...dailyChains(3, 3),
      incrementalBackup(day(10), 'tank/a@gone', { objectSize: 7 }),
      incrementalBackup(day(11), day(10), { objectSize: 7 }),
    ];
    const kept = plan(backups, { last: 1 });
    expect(kept.broken.map((r) => [dayOf(r.snapshot.name), r.health])).toEqual([
      [10, 'missing parent'],
      [11, 'parent broken'],
    ]);
    expect(keptDays(kept)).toEqual([1, 2, 3, 10, 11]);
    expect(kept.kept.find((r) => dayOf(r.snapshot.name) === 10)?.reasons).toEqual([
      'broken: missing parent (deleted only with --broken)',
    ]);
    const removed = plan(backups, { last: 1 }, true);
    expect(removed.deleted.map((r) => dayOf(r.snapshot.name))).toEqual([11, 10]);
    expect(keptDays(removed)).toEqual([1, 2, 3]);
  });

  it('the newest is the newest restorable backup (ties broken by name)', () => {
    const backups = [
      fullBackup('tank/a@autosnap_2026-11-26_00:00:00_daily'),
      fullBackup('tank/a@autosnap_2026-11-26_00:00:00_hourly'),
      incrementalBackup('tank/a@autosnap_2026-11-27_00:00:00_daily', 'tank/a@nope'),
    ];
    const p = plan(backups, { last: 1 }, true);
    expect(p.kept.map((r) => [r.snapshot.name, r.reasons])).toEqual([
      ['tank/a@autosnap_2026-11-26_00:00:00_hourly', ['newest', 'last snapshot']],
    ]);
  });

  it('keeps a backup whose time is unknown, with its ancestors', () => {
    const backups = [
      fullBackup('tank/a@base', { lastModified: '2026-01-01T00:00:00Z' }),
      incrementalBackup('tank/a@manual', 'tank/a@base', { lastModified: '' }),
      fullBackup('tank/a@later', { lastModified: '2026-06-01T00:00:00Z' }),
    ];
    const p = plan(backups, { last: 1 });
    expect(p.kept.map((r) => [r.snapshot.name, r.reasons])).toEqual([
      ['tank/a@manual', ['time unknown']],
      ['tank/a@later', ['newest', 'last snapshot']],
      ['tank/a@base', ['ancestor of manual']],
    ]);
  });

  it('warns of deletions before the storage class minimum billed duration', () => {
    const old = { lastModified: '2026-06-01T00:00:00Z' };
    const backups = [
      fullBackup(day(1), { storageClass: 'GLACIER_IR', lastModified: '2026-11-21T00:00:00Z' }),
      fullBackup(day(2), { storageClass: 'STANDARD_IA', ...old }),
      fullBackup(day(3), { storageClass: 'STANDARD', lastModified: '2026-11-30T00:00:00Z' }),
      fullBackup(day(4)),
    ];
    const p = plan(backups, { last: 1 });
    expect(p.deleted.map((r) => [dayOf(r.snapshot.name), r.earlyDeletion])).toEqual([
      [3, undefined],
      [2, undefined],
      [1, { storageClass: 'GLACIER_IR', ageDays: 10, minimumDays: 90 }],
    ]);
  });

  it('prunes only under SNAPSHOT_PREFIX, keeping other backups and the ancestors they need', () => {
    const backups = [
      fullBackup('tank/a@zfs-auto-snap_daily-2026-11-01-0000'),
      incrementalBackup(
        'tank/a@zfs-auto-snap_hourly-2026-11-01-0100',
        'tank/a@zfs-auto-snap_daily-2026-11-01-0000',
      ),
      fullBackup('tank/a@zfs-auto-snap_daily-2026-11-02-0000'),
      fullBackup('tank/a@zfs-auto-snap_daily-2026-11-03-0000'),
    ];
    const p = planPrune({
      backups,
      health: computeHealth(backups),
      policy: { last: 1 },
      now: NOW,
      deleteBroken: true,
      snapshotPrefix: 'zfs-auto-snap_daily',
    });
    expect(p.deleted.map((r) => r.snapshot.name)).toEqual([
      'tank/a@zfs-auto-snap_daily-2026-11-02-0000',
    ]);
    expect(p.kept.map((r) => r.reasons)).toEqual([
      ['newest', 'last snapshot'],
      ['not under SNAPSHOT_PREFIX'],
      ['ancestor of zfs-auto-snap_hourly-2026-11-01-0100'],
    ]);
  });
});
