import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  datasetExistsArgv,
  listSnapshotsArgv,
  receiveArgv,
  receiveIntoArgv,
  sendArgv,
  sendEstimateArgv,
  sendIncrementalRangeArgv,
  ZFS_PROGRAM,
} from './argv.js';

describe('zfs argv builders', () => {
  it('send: full and incremental, with flags before the names', () => {
    expect(ZFS_PROGRAM).toBe('zfs');
    expect(sendArgv({ snapshot: 'pool/fs@snap 9' })).toEqual(['zfs', 'send', 'pool/fs@snap 9']);
    expect(sendArgv({ snapshot: 'pool/fs@b', incrementalFrom: 'pool/fs@a' })).toEqual([
      'zfs',
      'send',
      '-i',
      'pool/fs@a',
      'pool/fs@b',
    ]);
    expect(sendArgv({ snapshot: 'p/f@b', incrementalFrom: 'p/f@a', flags: ['-w', '-L'] })).toEqual([
      'zfs',
      'send',
      '-w',
      '-L',
      '-i',
      'p/f@a',
      'p/f@b',
    ]);
    expect(sendArgv({ snapshot: 'p/f@b', incrementalFrom: undefined })).toEqual([
      'zfs',
      'send',
      'p/f@b',
    ]);
  });

  it('send estimate: the same stream with -nvP', () => {
    expect(sendEstimateArgv({ snapshot: 'p/f@a' })).toEqual(['zfs', 'send', '-nvP', 'p/f@a']);
    expect(
      sendEstimateArgv({ snapshot: 'p/f@b', incrementalFrom: 'p/f@a', flags: ['-c'] }),
    ).toEqual(['zfs', 'send', '-nvP', '-c', '-i', 'p/f@a', 'p/f@b']);
  });

  it('receive: -F with force, -n -v for a dry run', () => {
    expect(receiveArgv({ target: 'pool/fs@s', force: false })).toEqual([
      'zfs',
      'receive',
      'pool/fs@s',
    ]);
    expect(receiveArgv({ target: 'pool/fs@s', force: true })).toEqual([
      'zfs',
      'receive',
      '-F',
      'pool/fs@s',
    ]);
    expect(receiveArgv({ target: 'p/f@s', force: true, dryRun: true })).toEqual([
      'zfs',
      'receive',
      '-F',
      '-n',
      '-v',
      'p/f@s',
    ]);
  });

  it('ssh sync: send -I range, receive -d', () => {
    expect(sendIncrementalRangeArgv('local/fs@S_0', 'local/fs@S_4')).toEqual([
      'zfs',
      'send',
      '-I',
      'local/fs@S_0',
      'local/fs@S_4',
    ]);
    expect(receiveIntoArgv('remote/fs', { dryRun: false })).toEqual([
      'zfs',
      'receive',
      '-d',
      'remote/fs',
    ]);
    expect(receiveIntoArgv('remote/fs', { dryRun: true })).toEqual([
      'zfs',
      'receive',
      '-n',
      '-v',
      '-d',
      'remote/fs',
    ]);
  });

  it('list: snapshots of exactly one dataset, exact numbers; existence check', () => {
    expect(listSnapshotsArgv('tank/my data')).toEqual([
      'zfs',
      'list',
      '-H',
      '-p',
      '-t',
      'snapshot',
      '-o',
      'name,createtxg,used,referenced,creation,guid',
      '-s',
      'createtxg',
      '-d',
      '1',
      'tank/my data',
    ]);
    expect(datasetExistsArgv('tank/a')).toEqual(['zfs', 'list', '-H', '-o', 'name', 'tank/a']);
  });

  it('refuses names zfs would read as options', () => {
    expect(() => sendArgv({ snapshot: '-R' })).toThrow(UsageError);
    expect(() => receiveArgv({ target: '', force: false })).toThrow(
      "invalid dataset or snapshot name ''",
    );
    expect(() => sendArgv({ snapshot: 'p/f@b', incrementalFrom: '--props' })).toThrow(UsageError);
  });
});
