import { describe, expect, it } from 'vitest';
import { computeHealth } from './health.js';
import { planStatus, type StatusRow } from './status.js';
import {
  fullBackup,
  incrementalBackup,
  localSnapshots,
  originalBucket,
  originalLocal,
} from './testing.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';

function status(local: LocalSnapshot[], remote: RemoteSnapshot[]): StatusRow[] {
  return planStatus({ local, remote, health: computeHealth(remote) });
}

describe('planStatus', () => {
  it('pairs local snapshots with backups and sorts everything by snapshot name', () => {
    const rows = status(originalLocal(), originalBucket());
    expect(rows.map((r) => [r.name, r.type, r.health, r.isLocal])).toEqual([
      ['snap_0', 'incremental', 'missing parent', true],
      ['snap_1_f', 'full', 'ok', true],
      ['snap_2', 'incremental', 'ok', true],
      ['snap_3', 'incremental', 'ok', true],
      ['snap_4_mp', 'incremental', 'missing parent', false],
      ['snap_5', 'incremental', 'parent broken', false],
      ['snap_6_cycle', 'incremental', 'cycle detected', false],
      ['snap_7_cycle', 'incremental', 'cycle detected', false],
      ['snap_8', 'missing', undefined, true],
      ['snap_9', 'missing', undefined, true],
    ]);
  });

  it('fills a backup row from the object and a local-only row with nothing', () => {
    const rows = status(localSnapshots('pool/fs@a', 'pool/fs@c'), [
      fullBackup('pool/fs@a', { size: 100, objectSize: 40 }),
      incrementalBackup('pool/fs@b', 'pool/fs@a'),
    ]);
    expect(rows).toEqual([
      {
        snapshot: 'pool/fs@a',
        name: 'a',
        type: 'full',
        parent: undefined,
        health: 'ok',
        isLocal: true,
        isGuidDifferent: false,
        sendFlags: undefined,
        size: 100,
        objectSize: 40,
        chainLength: 1,
      },
      {
        snapshot: 'pool/fs@b',
        name: 'b',
        type: 'incremental',
        parent: 'pool/fs@a',
        health: 'ok',
        isLocal: false,
        isGuidDifferent: false,
        sendFlags: undefined,
        size: undefined,
        objectSize: 4,
        chainLength: 2,
      },
      {
        snapshot: 'pool/fs@c',
        name: 'c',
        type: 'missing',
        parent: undefined,
        health: undefined,
        isLocal: true,
        isGuidDifferent: false,
        sendFlags: undefined,
        size: undefined,
        objectSize: undefined,
        chainLength: undefined,
      },
    ]);
  });

  it('gives each healthy backup its chain length, none to broken ones', () => {
    const rows = status(originalLocal(), originalBucket());
    expect(rows.map((r) => [r.name, r.chainLength])).toEqual([
      ['snap_0', undefined],
      ['snap_1_f', 1],
      ['snap_2', 2],
      ['snap_3', 3],
      ['snap_4_mp', undefined],
      ['snap_5', undefined],
      ['snap_6_cycle', undefined],
      ['snap_7_cycle', undefined],
      ['snap_8', undefined],
      ['snap_9', undefined],
    ]);
  });

  it.each([
    ['both recorded, equal', '7', '7', false],
    ['both recorded, different (re-created)', '7', '8', true],
    ['no guid recorded (older z3, Python z3)', '7', undefined, false],
    ['no local guid', undefined, '8', false],
  ])('guid %s: isGuidDifferent %s', (_, localGuid, recorded, isDifferent) => {
    const rows = status(
      [{ name: 'pool/fs@a', guid: localGuid }],
      [fullBackup('pool/fs@a', { guid: recorded })],
    );
    expect(rows.map((r) => [r.isLocal, r.isGuidDifferent])).toEqual([[true, isDifferent]]);
  });

  it('carries the recorded send flags; none recorded or empty is a plain send', () => {
    const rows = status(
      [],
      [
        fullBackup('pool/fs@a', { sendFlags: 'wL' }),
        incrementalBackup('pool/fs@b', 'pool/fs@a', { sendFlags: '' }),
        incrementalBackup('pool/fs@c', 'pool/fs@b'),
      ],
    );
    expect(rows.map((r) => r.sendFlags)).toEqual(['wL', undefined, undefined]);
  });

  it('pairs by exact full name only', () => {
    const rows = status(localSnapshots('pool/fs@a'), [fullBackup('pool/fs2@a')]);
    expect(rows.map((r) => [r.snapshot, r.type, r.isLocal])).toEqual([
      ['pool/fs2@a', 'full', false],
      ['pool/fs@a', 'missing', true],
    ]);
  });

  it('sorts by code point, as Python does', () => {
    const names = ['p@\u{1F600}', 'p@\uFF21', 'p@B', 'p@a'];
    const rows = status(localSnapshots(...names), []);
    expect(rows.map((r) => r.name)).toEqual(['B', 'a', '\uFF21', '\u{1F600}']);
  });

  it('is empty with nothing on either side', () => {
    expect(status([], [])).toEqual([]);
  });
});
