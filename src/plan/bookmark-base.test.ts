/**
 * planBackup when the incremental base snapshot is gone locally but z3's bookmark of it is
 * left: the first step is sent from the bookmark, its metadata parent still the snapshot.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { planBackup, type BackupPlan } from './backup.js';
import type { LocalBookmark } from './bookmark-base.js';
import { computeHealth } from './health.js';
import type { LocalSnapshot, RemoteSnapshot } from './types.js';

/** `name:txg:guid` */
function local(...specs: string[]): LocalSnapshot[] {
  return specs.map((spec) => {
    const [name, txg, guid] = spec.split(':') as [string, string, string];
    return { name: `pool/fs@${name}`, createtxg: Number(txg), guid };
  });
}

/** `name:txg:guid` */
function bookmarks(...specs: string[]): LocalBookmark[] {
  return specs.map((spec) => {
    const [name, txg, guid] = spec.split(':') as [string, string, string];
    return { name: `pool/fs#z3_${name}`, createtxg: Number(txg), guid };
  });
}

/** A chain s1 (full) ← s2 ← s3 with guids 101, 102, 103, maybe sent raw. */
function chain(sendFlags?: string): RemoteSnapshot[] {
  return ['s1', 's2', 's3'].map((name, i) => ({
    name: `pool/fs@${name}`,
    key: `z3-backup/pool/fs@${name}`,
    isFull: i === 0,
    parent: i === 0 ? undefined : `pool/fs@s${i}`,
    compressor: undefined,
    size: 1,
    objectSize: 1,
    guid: String(101 + i),
    ...(sendFlags === undefined ? {} : { sendFlags }),
  }));
}

function plan(input: {
  local: LocalSnapshot[];
  bookmarks: LocalBookmark[];
  remote?: RemoteSnapshot[];
}): BackupPlan {
  const remote = input.remote ?? chain();
  return planBackup({
    local: input.local,
    remote,
    health: computeHealth(remote),
    filesystem: 'pool/fs',
    snapshotPrefix: 's',
    mode: 'incremental',
    bookmarks: input.bookmarks,
  });
}

const step = (snapshot: string, parent: string, txg: number, guid: string, from?: string) => ({
  snapshot: `pool/fs@${snapshot}`,
  parent: `pool/fs@${parent}`,
  ...(from === undefined ? {} : { sendFrom: `pool/fs#z3_${from}` }),
  creation: undefined,
  guid,
});

describe('planBackup from a bookmark', () => {
  it('sends the first new snapshot from the newest backed-up bookmark, the next from it', () => {
    const result = plan({
      local: local('s4:40:104', 's5:50:105'),
      bookmarks: bookmarks('s2:20:102', 's3:30:103'),
    });
    expect(result).toEqual({
      kind: 'steps',
      steps: [step('s4', 's3', 40, '104', 's3'), step('s5', 's4', 50, '105')],
    });
  });

  it("skips a bookmark whose guid is not the backup's (a re-created snapshot) for an older one", () => {
    const result = plan({
      local: local('s4:40:104'),
      bookmarks: bookmarks('s2:20:102', 's3:30:999'),
    });
    expect(result).toEqual({ kind: 'steps', steps: [step('s4', 's2', 40, '104', 's2')] });
  });

  it('sends only the snapshots newer than the bookmark', () => {
    const result = plan({
      local: local('s0:5:100', 's4:40:104'),
      bookmarks: bookmarks('s3:30:103'),
    });
    expect(result).toEqual({ kind: 'steps', steps: [step('s4', 's3', 40, '104', 's3')] });
  });

  it('prefers a local snapshot that is backed up (no bookmark needed)', () => {
    const result = plan({
      local: local('s3:30:103', 's4:40:104'),
      bookmarks: bookmarks('s3:30:103'),
    });
    expect(result).toEqual({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@s4', parent: 'pool/fs@s3', creation: undefined, guid: '104' }],
    });
  });

  it('without a matching bookmark, says there is no base (exit 2)', () => {
    expect(() => plan({ local: local('s4:40:104'), bookmarks: bookmarks('s3:30:999') })).toThrow(
      UsageError,
    );
    expect(() => plan({ local: local('s4:40:104'), bookmarks: [] })).toThrow(
      /no backup of pool\/fs on S3 to base an incremental/,
    );
  });

  it('keeps the chain mode: a plain send from the bookmark of a raw chain is refused', () => {
    expect(() =>
      plan({ local: local('s4:40:104'), bookmarks: bookmarks('s3:30:103'), remote: chain('w') }),
    ).toThrow(/cannot append a plain incremental/);
  });

  it('a chain limit that makes the step a full drops the bookmark too', () => {
    const remote = chain();
    const result = planBackup({
      local: local('s4:40:104'),
      remote,
      health: computeHealth(remote),
      filesystem: 'pool/fs',
      snapshotPrefix: 's',
      mode: 'incremental',
      bookmarks: bookmarks('s3:30:103'),
      chainLimits: { maxChain: 3 },
    });
    expect(result).toMatchObject({
      kind: 'steps',
      steps: [{ snapshot: 'pool/fs@s4', parent: undefined, sendFrom: undefined }],
    });
  });
});
