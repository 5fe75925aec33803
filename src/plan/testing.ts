/**
 * In-memory builders for the planner tests (test-only; pure data). The fixture is the original
 * z3's test bucket (`_tests/test_snap.py`), with sizes added so the status table of spec 5 can be
 * reproduced.
 */
import type { LocalSnapshot, RemoteSnapshot } from './types.js';

/** Key prefix the builders use; any normalised prefix would do. */
export const TEST_PREFIX = 'z3-backup/';

/** A full backup of `name` (full `fs@snap`). */
export function fullBackup(name: string, extra: Partial<RemoteSnapshot> = {}): RemoteSnapshot {
  return backup(name, { isFull: true, ...extra });
}

/** An incremental backup of `name` on `parent` (raw metadata value; may be malformed or undefined). */
export function incrementalBackup(
  name: string,
  parent: string | undefined,
  extra: Partial<RemoteSnapshot> = {},
): RemoteSnapshot {
  return backup(name, { isFull: false, parent, ...extra });
}

function backup(name: string, fields: Partial<RemoteSnapshot>): RemoteSnapshot {
  return {
    name,
    key: `${TEST_PREFIX}${name}`,
    isFull: false,
    parent: undefined,
    compressor: undefined,
    size: undefined,
    objectSize: 4,
    ...fields,
  };
}

/** Local snapshots, oldest first, from full names. */
export function localSnapshots(...names: string[]): LocalSnapshot[] {
  return names.map((name) => ({ name }));
}

/** A linear chain `fs@s0000` (full) ← `fs@s0001` ← … of `length` backups. */
export function backupChain(filesystem: string, length: number): RemoteSnapshot[] {
  const name = (i: number): string => `${filesystem}@s${String(i).padStart(5, '0')}`;
  return Array.from({ length }, (_, i) =>
    i === 0 ? fullBackup(name(i)) : incrementalBackup(name(i), name(i - 1)),
  );
}

const GIB = 1024 ** 3;

/**
 * The original's S3 fixture for `pool/fs`: snap_0 on an expired parent, snap_1_f full (50 GiB),
 * snap_2 and snap_3 healthy, snap_4_mp on a missing parent, snap_5 on snap_4_mp, and the cycle
 * snap_6_cycle ⇄ snap_7_cycle.
 */
export function originalBucket(): RemoteSnapshot[] {
  return [
    incrementalBackup('pool/fs@snap_0', 'pool/fs@snap_expired'),
    fullBackup('pool/fs@snap_1_f', { size: 50 * GIB, compressor: 'pigz1' }),
    incrementalBackup('pool/fs@snap_2', 'pool/fs@snap_1_f', { size: 1.25 * 1024 * 1024 }),
    incrementalBackup('pool/fs@snap_3', 'pool/fs@snap_2'),
    incrementalBackup('pool/fs@snap_4_mp', 'pool/fs@missing_parent'),
    incrementalBackup('pool/fs@snap_5', 'pool/fs@snap_4_mp'),
    incrementalBackup('pool/fs@snap_6_cycle', 'pool/fs@snap_7_cycle'),
    incrementalBackup('pool/fs@snap_7_cycle', 'pool/fs@snap_6_cycle'),
  ];
}

/** The original's selected local snapshots of `pool/fs` with prefix `snap_` (oldest first). */
export function originalLocal(): LocalSnapshot[] {
  return localSnapshots(
    'pool/fs@snap_0',
    'pool/fs@snap_1_f',
    'pool/fs@snap_2',
    'pool/fs@snap_3',
    'pool/fs@snap_8',
    'pool/fs@snap_9',
  );
}
