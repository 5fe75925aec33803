import { describe, expect, it } from 'vitest';
import { computeHealth } from '../plan/health.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { Verification } from '../storage/verify-record.js';
import { storedValues } from './stored.js';

function snap(name: string, over: Partial<RemoteSnapshot> = {}): RemoteSnapshot {
  return {
    name: `tank/data@${name}`,
    key: `z3-backup/tank/data@${name}`,
    isFull: false,
    parent: undefined,
    compressor: undefined,
    size: 10,
    objectSize: 10,
    etag: `"${name}"`,
    ...over,
  };
}

function values(remote: RemoteSnapshot[], verifications = new Map<string, Verification>()) {
  return storedValues({ remote, health: computeHealth(remote), verifications });
}

describe('storedValues', () => {
  const full = snap('a', { isFull: true, creation: '1000', objectSize: 100 });
  const inc = snap('b', { parent: 'tank/data@a', creation: '2000', objectSize: 7 });

  it('counts objects and bytes and takes the chain and time of the newest snapshot', () => {
    const orphan = snap('c', { parent: 'tank/data@gone', creation: '1500' });
    expect(values([full, inc, orphan])).toEqual({
      z3_stored_objects: 3,
      z3_stored_bytes: 117,
      z3_broken_backups: 1,
      z3_chain_length: 2,
      z3_newest_backup_timestamp_seconds: 2000,
      z3_newest_backup_verified: 0,
    });
  });

  it('the newest backup counts as verified only for the ETag that was verified', () => {
    const at = '2026-11-30T12:00:00.000Z';
    const record = new Map<string, Verification>([
      [inc.key, { etag: '"b"', at, level: 'data' }],
      [full.key, { etag: '"old"', at: '2026-12-01T00:00:00.000Z', level: 'data' }],
    ]);
    const result = values([full, inc], record);
    expect(result.z3_newest_backup_verified).toBe(1);
    expect(result.z3_last_verify_timestamp_seconds).toBe(Date.parse(at) / 1000);
    expect(values([full, { ...inc, etag: '"new"' }], record).z3_newest_backup_verified).toBe(0);
  });

  it('snapshots taken in the same second: the newest is the descendant, whatever the key order', () => {
    // zfs creation has one-second resolution; keys sort `z` before `y`'s child here on purpose
    const base = snap('z', { isFull: true, creation: '3000' });
    const child = snap('y', { parent: 'tank/data@z', creation: '3000' });
    const grandchild = snap('x', { parent: 'tank/data@y', creation: '3000' });
    for (const remote of [
      [base, child, grandchild],
      [grandchild, child, base],
    ]) {
      expect(values(remote).z3_chain_length).toBe(3);
    }
  });

  it('leaves the newest-backup metrics out when nothing is stored', () => {
    expect(values([])).toEqual({ z3_stored_objects: 0, z3_stored_bytes: 0, z3_broken_backups: 0 });
  });
});
