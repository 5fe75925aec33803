/** `z3 status --check` on the memory backend: the plugin line and exit code, and UNKNOWN on any failure. */
import { describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { MemBackend } from '../storage/mem/backend.js';
import { FaultyBackend } from '../storage/wrappers/faulty.js';
import { injected } from '../testing/faults.js';
import { runStatusCheck, type StatusCheckOptions } from './status-check.js';
import { testPorts } from './testing/ports.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const flags: StatusCheckOptions = {
  config: undefined,
  s3Prefix: undefined,
  filesystem: undefined,
  snapshotPrefix: undefined,
  warn: undefined,
  crit: undefined,
};

/** A full 30 h old and an incremental `hoursAgo` old (their `creation` metadata). */
function backups(hoursAgo: number): MemBackend {
  const mem = new MemBackend();
  const creation = (hours: number): string => String((NOW - hours * 3_600_000) / 1000);
  mem.seed('z3-backup/tank/data@snap-1', Buffer.alloc(4), {
    isfull: 'true',
    creation: creation(30),
  });
  mem.seed('z3-backup/tank/data@snap-2', Buffer.alloc(4), {
    parent: 'tank/data@snap-1',
    creation: creation(hoursAgo),
  });
  return mem;
}

// `zfs` is never run by the check: a program that does not exist proves it.
function ports(backend: MemBackend | FaultyBackend, env: Record<string, string> = {}) {
  return testPorts({ backend, zfs: '/nonexistent/zfs', env, now: () => NOW });
}

describe('runStatusCheck', () => {
  it('OK with the default thresholds (26h, 50h), without zfs', async () => {
    const p = ports(backups(3));
    expect(await runStatusCheck(flags, p)).toBe(0);
    expect(p.out()).toBe(
      'OK: tank/data newest backup 3h ago, chain healthy | age=10800s;93600;180000;0 backups=2\n',
    );
    expect(p.err()).toBe('');
  });

  it('WARNING and CRITICAL by --warn / --crit', async () => {
    const warned = ports(backups(3));
    expect(await runStatusCheck({ ...flags, warn: '2h', crit: '1d' }, warned)).toBe(1);
    expect(warned.out()).toMatch(/^WARNING: tank\/data newest backup 3h ago, chain healthy \|/);
    const critical = ports(backups(3));
    expect(await runStatusCheck({ ...flags, warn: '1h', crit: '2h' }, critical)).toBe(2);
    expect(critical.out()).toMatch(/^CRITICAL: /);
  });

  it('a broken chain is CRITICAL however fresh', async () => {
    const mem = backups(1);
    mem.seed('z3-backup/tank/data@snap-3', Buffer.alloc(4), { parent: 'tank/data@gone' });
    const p = ports(mem);
    expect(await runStatusCheck(flags, p)).toBe(2);
    expect(p.out()).toMatch(/^CRITICAL: .*1 broken backup \(tank\/data@snap-3: missing parent\)/);
  });

  it('no backup is CRITICAL', async () => {
    const p = ports(new MemBackend());
    expect(await runStatusCheck(flags, p)).toBe(2);
    expect(p.out()).toBe('CRITICAL: tank/data has no backup\n');
  });

  it(
    'storage that cannot be listed is UNKNOWN (3), one line on stdout',
    { tags: ['faults'] },
    async () => {
      const faulty = new FaultyBackend(backups(1), (call) => {
        if (call.op === 'list')
          throw new StorageError('list s3://test-bucket: connect ECONNREFUSED');
      });
      const p = ports(faulty);
      expect(await runStatusCheck(flags, p)).toBe(3);
      injected('S3 error', faulty.thrown);
      expect(p.out()).toBe('UNKNOWN: list s3://test-bucket: connect ECONNREFUSED\n');
    },
  );

  it.each([
    [{ warn: '26' }, 'UNKNOWN: --warn 26: expected an age like 26h, 2d, 90m or 1d2h\n'],
    [{ warn: '3d', crit: '2d' }, 'UNKNOWN: --warn 3d is longer than --crit 2d\n'],
  ])('a bad threshold %j is UNKNOWN', { tags: ['faults'] }, async (extra, line) => {
    const p = ports(backups(1));
    expect(await runStatusCheck({ ...flags, ...extra }, p)).toBe(3);
    injected('bad input', 1);
    expect(p.out()).toBe(line);
  });

  it('no FILESYSTEM is UNKNOWN, not the usual exit 2', async () => {
    const p = ports(backups(1), { FILESYSTEM: '' });
    expect(await runStatusCheck(flags, p)).toBe(3);
    expect(p.out()).toBe('UNKNOWN: FILESYSTEM is not set\n');
  });
});
