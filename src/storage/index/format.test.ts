import { describe, expect, it } from 'vitest';
import { decodeIndex, encodeIndex, isSameBackups, type IndexEntry } from './format.js';

const entry = (
  etag: string,
  metadata: Record<string, string> = { isfull: 'true' },
): IndexEntry => ({
  etag: `"${etag}"`,
  size: 10,
  lastModified: '2026-12-01T08:00:00.000Z',
  metadata,
});

const backups = new Map([
  ['tank/data@b', entry('bb', { parent: 'tank/data@a', size: '5' })],
  ['tank/data@a', entry('aa')],
]);
const written = '2026-12-01T09:00:00.000Z';

describe('the index format', () => {
  it('round-trips, names in order, with its format, version and dataset', () => {
    const text = encodeIndex({ dataset: 'tank/data', written, backups });
    expect(JSON.parse(text)).toEqual({
      format: 'z3-index',
      version: 1,
      dataset: 'tank/data',
      written,
      backups: {
        'tank/data@a': entry('aa'),
        'tank/data@b': entry('bb', { parent: 'tank/data@a', size: '5' }),
      },
    });
    expect(Object.keys((JSON.parse(text) as { backups: object }).backups)).toEqual([
      'tank/data@a',
      'tank/data@b',
    ]);
    const decoded = decodeIndex(text, 'tank/data');
    expect(decoded.kind).toBe('ok');
    expect(decoded.kind === 'ok' && isSameBackups(decoded.backups, backups)).toBe(true);
  });

  const valid = JSON.parse(encodeIndex({ dataset: 'tank/data', written, backups })) as Record<
    string,
    unknown
  >;
  const cases: [string, string, string][] = [
    ['truncated', encodeIndex({ dataset: 'tank/data', written, backups }).slice(0, 40), 'not JSON'],
    ['another JSON document', '{"entries":{}}', 'not a z3 index'],
    ['an array', '[]', 'not a z3 index'],
    [
      'a newer version',
      JSON.stringify({ ...valid, version: 2 }),
      'written by a newer z3 (format version 2, this z3 reads 1)',
    ],
    [
      'a version that is no number',
      JSON.stringify({ ...valid, version: '1' }),
      'unknown format version 1',
    ],
    [
      'another dataset',
      JSON.stringify({ ...valid, dataset: 'tank/other' }),
      'the index of "tank/other", not of tank/data',
    ],
    ['no backups', JSON.stringify({ ...valid, backups: [] }), 'no backups'],
    [
      'an entry of another dataset',
      JSON.stringify({ ...valid, backups: { 'tank/other@a': entry('aa') } }),
      'malformed entry "tank/other@a"',
    ],
    [
      'an entry without an ETag',
      JSON.stringify({ ...valid, backups: { 'tank/data@a': { ...entry('aa'), etag: 1 } } }),
      'malformed entry "tank/data@a"',
    ],
    [
      'metadata that is not text',
      JSON.stringify({ ...valid, backups: { 'tank/data@a': entry('aa', { size: 5 } as never) } }),
      'malformed entry "tank/data@a"',
    ],
  ];
  it.each(cases)('refuses %s as a whole, saying why', (_, text, reason) => {
    expect(decodeIndex(text, 'tank/data')).toEqual({ kind: 'unusable', reason });
  });

  it('tells a change of any validator or metadata value, not of key order', () => {
    const same = new Map([
      ['tank/data@a', entry('aa')],
      ['tank/data@b', { ...entry('bb'), metadata: { size: '5', parent: 'tank/data@a' } }],
    ]);
    expect(isSameBackups(backups, same)).toBe(true);
    const changed = (e: Partial<IndexEntry>): Map<string, IndexEntry> =>
      new Map([...same, ['tank/data@a', { ...entry('aa'), ...e }]]);
    expect(isSameBackups(backups, changed({ etag: '"cc"' }))).toBe(false);
    expect(isSameBackups(backups, changed({ size: 11 }))).toBe(false);
    expect(isSameBackups(backups, changed({ lastModified: '' }))).toBe(false);
    expect(isSameBackups(backups, changed({ metadata: { isfull: 'false' } }))).toBe(false);
    expect(isSameBackups(backups, new Map([...same].slice(1)))).toBe(false);
  });
});
