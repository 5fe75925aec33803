import { describe, expect, it } from 'vitest';
import { S3_LIMITS } from '../storage/limits.js';
import type { RemoteSnapshot } from './types.js';
import { etagProblem, headProblem, partSizesFor, sizeProblem } from './verify.js';
import { isInSubset, parseDataSubset } from './verify-subset.js';

const MIB = 1024 * 1024;
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

function snapshot(extra: Partial<RemoteSnapshot> = {}): RemoteSnapshot {
  return {
    name: 'tank/data@s2',
    key: 'z3-backup/tank/data@s2',
    isFull: false,
    parent: 'tank/data@s1',
    compressor: 'pigz1',
    size: 1000,
    objectSize: 600,
    ...extra,
  };
}

describe('headProblem', () => {
  const check = (s: RemoteSnapshot, metadata: Record<string, string> = { size: '1000' }) =>
    headProblem({ snapshot: s, metadata, etag: `"${MD5}"` }, 'ok', S3_LIMITS);

  it('accepts what z3 backup writes', () => {
    expect(check(snapshot())).toBeUndefined();
    expect(
      check(snapshot({ isFull: true, parent: undefined, compressor: undefined })),
    ).toBeUndefined();
  });

  it.each([
    [{ size: undefined }, 'metadata size is missing or not a number: "abc"'],
    [{ isFull: true }, 'metadata says both full and parent tank/data@s1'],
    [{ parent: undefined }, 'metadata has neither isfull=true nor a parent'],
    [{ parent: 's1' }, 'metadata parent is not a snapshot name: "s1"'],
    [{ compressor: 'brotli' }, "metadata names an unknown compressor 'brotli'"],
  ])('reports malformed metadata %j', (extra, reason) => {
    expect(check(snapshot(extra), { size: 'abc' })).toBe(reason);
  });

  it('reports the chain health before size and ETag', () => {
    const s = snapshot();
    const metadata = { size: '1000' };
    expect(headProblem({ snapshot: s, metadata, etag: '' }, 'parent broken', S3_LIMITS)).toBe(
      'parent broken',
    );
  });
});

describe('sizeProblem', () => {
  it('allows compression and a low estimate, not an object far beyond it', () => {
    expect(sizeProblem(snapshot({ size: 10 * MIB, objectSize: 1000 }))).toBeUndefined();
    expect(sizeProblem(snapshot({ size: 10 * MIB, objectSize: 15 * MIB }))).toBeUndefined();
    expect(sizeProblem(snapshot({ size: 10 * MIB, objectSize: 22 * MIB }))).toBe(
      `implausible size: ${22 * MIB} bytes stored for a stream estimated at ${10 * MIB}`,
    );
    expect(sizeProblem(snapshot({ objectSize: 0 }))).toBe(
      'object of 0 bytes cannot hold a send stream',
    );
  });
});

describe('etagProblem', () => {
  it('accepts part counts some part size within the limits gives', () => {
    expect(etagProblem(`"${MD5}-3"`, 12 * MIB, S3_LIMITS)).toBeUndefined();
    expect(etagProblem(`"${MD5}"`, 12 * MIB, S3_LIMITS)).toBeUndefined();
    expect(etagProblem('not-an-md5', 12 * MIB, S3_LIMITS)).toBeUndefined();
    expect(etagProblem('', 12 * MIB, S3_LIMITS)).toBeUndefined();
  });

  it('rejects part counts no allowed part size gives', () => {
    // 3 parts of 12 MiB would need parts under the 5 MiB minimum for 4 or more.
    expect(etagProblem(`"${MD5}-4"`, 12 * MIB, S3_LIMITS)).toBe(
      `ETag names 4 parts, impossible for ${12 * MIB} bytes`,
    );
    expect(etagProblem(`"${MD5}-0"`, 12 * MIB, S3_LIMITS)).toBe('ETag names 0 parts');
    expect(etagProblem(`"${MD5}"`, 6 * 1024 * MIB, S3_LIMITS)).toMatch(/^single-part ETag/);
  });

  it('gives the part-size range of a part count', () => {
    expect(partSizesFor(12 * MIB, 3, S3_LIMITS)).toEqual([5 * MIB, 6 * MIB - 1]);
    expect(partSizesFor(10 * MIB, 2, S3_LIMITS)).toEqual([5 * MIB, 10 * MIB - 1]);
    expect(partSizesFor(12 * MIB, 4, S3_LIMITS)).toEqual([]);
  });
});

describe('--read-data-subset', () => {
  it('parses n/m and p%, and refuses anything else', () => {
    expect(parseDataSubset('2/10')).toEqual({ kind: 'group', index: 2, count: 10 });
    expect(parseDataSubset('10%')).toEqual({ kind: 'percent', percent: 10 });
    for (const bad of ['0/10', '11/10', '1/0', '0%', '101%', 'half', '1/10/2', '']) {
      expect(() => parseDataSubset(bad)).toThrow(/--read-data-subset: cannot use/);
    }
  });

  it('puts every key in exactly one of the m groups, the same one every time', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `z3-backup/tank/data@snap${i}`);
    const groups = [1, 2, 3, 4, 5].map((index) =>
      keys.filter((k) => isInSubset(k, { kind: 'group', index, count: 5 })),
    );
    expect(groups.flat().sort()).toEqual([...keys].sort());
    for (const group of groups) expect(group.length).toBeGreaterThan(60);
    const tenth = keys.filter((k) => isInSubset(k, { kind: 'percent', percent: 10 }));
    expect(tenth.length).toBeGreaterThan(25);
    expect(tenth.length).toBeLessThan(80);
  });
});
