import { describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../storage/backend.js';
import {
  buildBackupMetadata,
  listingPrefix,
  normalizePrefix,
  parseRemoteSnapshots,
  snapshotKey,
} from './remote.js';

describe('normalizePrefix', () => {
  it.each([
    ['z3-backup', 'z3-backup/'],
    ['z3-backup/', 'z3-backup/'],
    ['z3-backup///', 'z3-backup/'],
    ['a/b', 'a/b/'],
    ['/lead', '/lead/'],
    ['', ''],
    ['/', '/'],
    ['///', '/'],
  ])('%j → %j', (raw, normalized) => {
    expect(normalizePrefix(raw)).toBe(normalized);
    expect(normalizePrefix(normalized)).toBe(normalized);
  });
});

describe('keys', () => {
  it('joins prefix and full snapshot name', () => {
    expect(snapshotKey('z3-backup', 'pool/fs@zfs-auto-snap:daily-2018-01-01')).toBe(
      'z3-backup/pool/fs@zfs-auto-snap:daily-2018-01-01',
    );
    expect(snapshotKey('z3-backup/', 'pool/fs@s')).toBe('z3-backup/pool/fs@s');
    expect(snapshotKey('', 'pool/fs@s')).toBe('pool/fs@s');
  });

  it('with S3_PREFIX = / reaches the keys of the original with an empty prefix (/pool/fs@s)', () => {
    expect(snapshotKey('/', 'pool/fs@s')).toBe('/pool/fs@s');
    expect(listingPrefix('/', 'pool/fs', 'snap')).toBe('/pool/fs@snap');
    const listed = [object('/pool/fs@s1', { isfull: 'true' }), object('pool/fs@s2', {})];
    expect(parseRemoteSnapshots('/', listed).map((s) => [s.name, s.key])).toEqual([
      ['pool/fs@s1', '/pool/fs@s1'],
    ]);
  });

  it('lists one dataset and snapshot prefix', () => {
    expect(listingPrefix('z3-backup', 'pool/fs', 'zfs-auto-snap:daily')).toBe(
      'z3-backup/pool/fs@zfs-auto-snap:daily',
    );
    expect(listingPrefix('', 'pool/fs', '')).toBe('pool/fs@');
  });
});

function object(key: string, metadata: Record<string, string>, size = 10): ObjectInfo {
  return { key, size, etag: '"x"', metadata };
}

describe('parseRemoteSnapshots', () => {
  it('reads name, type, parent, compressor, sizes', () => {
    const parsed = parseRemoteSnapshots('z3-backup', [
      object('z3-backup/pool/fs@a', { isfull: 'true', size: '5000', compressor: 'pigz4' }, 77),
      object('z3-backup/pool/fs@b', { parent: 'pool/fs@a', size: '12' }),
    ]);
    expect(parsed).toEqual([
      {
        name: 'pool/fs@a',
        key: 'z3-backup/pool/fs@a',
        isFull: true,
        parent: undefined,
        compressor: 'pigz4',
        size: 5000,
        objectSize: 77,
        etag: '"x"',
      },
      {
        name: 'pool/fs@b',
        key: 'z3-backup/pool/fs@b',
        isFull: false,
        parent: 'pool/fs@a',
        compressor: undefined,
        size: 12,
        objectSize: 10,
        etag: '"x"',
      },
    ]);
  });

  it.each([
    [{ isfull: 'true' }, true],
    [{ is_full: 'true' }, true],
    [{ 'is-full': 'true' }, true],
    [{ is_full: 'true', isfull: 'false' }, true],
    [{ is_full: 'false', parent: 'pool/fs@a' }, false],
    [{ isfull: 'True' }, false],
    [{}, false],
  ])('full iff isfull or legacy is_full is the string true: %j → %s', (metadata, isFull) => {
    const [snapshot] = parseRemoteSnapshots('p', [object('p/pool/fs@s', metadata)]);
    expect(snapshot?.isFull).toBe(isFull);
  });

  it.each([
    ['1234', 1234],
    [' 1234 ', 1234],
    ['1.5', 1.5],
    ['', undefined],
    ['abc', undefined],
    ['-1', undefined],
    [undefined, undefined],
  ])('size %j → %j', (raw, size) => {
    const metadata: Record<string, string> = raw === undefined ? {} : { size: raw };
    expect(parseRemoteSnapshots('p', [object('p/pool/fs@s', metadata)])[0]?.size).toBe(size);
  });

  it('skips keys outside the prefix and keys that are not snapshot names', () => {
    const parsed = parseRemoteSnapshots('p/', [
      object('q/pool/fs@s', {}),
      object('p/pool/fs-no-at', {}),
      object('p/pool/fs@s', {}),
    ]);
    expect(parsed.map((s) => s.name)).toEqual(['pool/fs@s']);
  });

  it('with an empty prefix, names are whole keys', () => {
    expect(parseRemoteSnapshots('', [object('pool/fs@s', {})])[0]?.name).toBe('pool/fs@s');
  });
});

describe('buildBackupMetadata (spec 4.3)', () => {
  it.each([
    [
      { size: 5000, compressor: 'pigz4' },
      { size: '5000', isfull: 'true', compressor: 'pigz4' },
    ],
    [
      { size: 5000, compressor: 'none' },
      { size: '5000', isfull: 'true' },
    ],
    [
      { size: 1234, parent: 'pool/fs@snap_3', compressor: 'pigz1' },
      { size: '1234', parent: 'pool/fs@snap_3', compressor: 'pigz1' },
    ],
    [
      { size: 0, parent: 'pool/fs@snap_3', compressor: 'none' },
      { size: '0', parent: 'pool/fs@snap_3' },
    ],
    [
      { size: 7, compressor: 'none', creation: 1793491200, guid: '18446744073709551557' },
      { size: '7', isfull: 'true', creation: '1793491200', guid: '18446744073709551557' },
    ],
    [
      { size: 7, parent: 'pool/fs@a', compressor: 'none', sendFlags: 'wL' },
      { size: '7', parent: 'pool/fs@a', sendflags: 'wL' },
    ],
    [
      { size: 7, compressor: 'none', sendFlags: '' },
      { size: '7', isfull: 'true' },
    ],
  ])('%j → %j', (input, metadata) => {
    expect(buildBackupMetadata(input)).toEqual(metadata);
  });

  it('writes what parseRemoteSnapshots reads back', () => {
    const metadata = buildBackupMetadata({
      size: 42,
      parent: 'pool/fs@a',
      compressor: 'gpg',
      creation: 1793491200,
      guid: '99',
      sendFlags: 'wc',
    });
    const [snapshot] = parseRemoteSnapshots('p', [object('p/pool/fs@b', metadata)]);
    expect(snapshot).toMatchObject({
      isFull: false,
      parent: 'pool/fs@a',
      compressor: 'gpg',
      size: 42,
      creation: '1793491200',
      guid: '99',
      sendFlags: 'wc',
    });
  });
});
