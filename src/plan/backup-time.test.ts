import { describe, expect, it } from 'vitest';
import { backupTime } from './backup-time.js';

const at = (iso: string): number => Date.parse(iso);

describe('backupTime', () => {
  it.each([
    [
      'metadata creation (seconds) wins over the name',
      { name: 'tank/a@zfs-auto-snap_daily-2026-11-26-0000', creation: '1700000000' },
      { time: 1_700_000_000_000, source: 'creation' },
    ],
    [
      'metadata creation as ISO 8601 with a zone',
      { name: 'tank/a@manual', creation: '2026-11-26T01:00:00+01:00' },
      { time: at('2026-11-26T00:00:00Z'), source: 'creation' },
    ],
    [
      'a zfs-auto-snapshot name, as UTC',
      { name: 'tank/a@zfs-auto-snap_daily-2026-11-26-1315', lastModified: '2030-01-01T00:00:00Z' },
      { time: at('2026-11-26T13:15:00Z'), source: 'zfs-auto-snapshot name' },
    ],
    [
      'the colon form of zfs-auto-snapshot prefixes',
      { name: 'tank/a@zfs-auto-snap:hourly-2026-02-03-0400' },
      { time: at('2026-02-03T04:00:00Z'), source: 'zfs-auto-snapshot name' },
    ],
    [
      'a sanoid name',
      { name: 'tank/a@autosnap_2026-11-26_00:00:02_daily' },
      { time: at('2026-11-26T00:00:02Z'), source: 'sanoid name' },
    ],
    [
      'LastModified when the name has no time',
      { name: 'tank/a@before-upgrade', lastModified: '2026-11-20T08:00:00.000Z' },
      { time: at('2026-11-20T08:00:00Z'), source: 'LastModified' },
    ],
    [
      'LastModified when the name holds an impossible date, or creation is not seconds',
      {
        name: 'tank/a@x-2026-02-30-0000',
        creation: 'yesterday',
        lastModified: '2026-11-20T08:00:00Z',
      },
      { time: at('2026-11-20T08:00:00Z'), source: 'LastModified' },
    ],
  ])('%s', (_, input, expected) => {
    expect(backupTime(input)).toEqual(expected);
  });

  it('is undefined when nothing gives a time', () => {
    expect(backupTime({ name: 'tank/a@manual', lastModified: '' })).toBeUndefined();
  });
});
