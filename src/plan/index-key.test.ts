import { describe, expect, it } from 'vitest';
import { indexKey } from './index-key.js';
import { listingPrefix, snapshotKey } from './remote.js';

describe('indexKey', () => {
  it('is <prefix>/.z3/index/<dataset>.json, the prefix normalised as for snapshot keys', () => {
    expect(indexKey('z3-backup', 'tank/data')).toBe('z3-backup/.z3/index/tank/data.json');
    expect(indexKey('z3-backup//', 'tank/data')).toBe('z3-backup/.z3/index/tank/data.json');
    expect(indexKey('', 'tank')).toBe('.z3/index/tank.json');
    expect(indexKey('/', 'tank/data')).toBe('/.z3/index/tank/data.json');
  });

  it('is under no listing Python z3 makes, for any prefix (its `/` too) and snapshot prefix', () => {
    const datasets = ['tank', 'tank/data', 'tank/data.json', 'z3/.z3', 'a:b/c-d_e.f g'];
    for (const prefix of ['', '/', 'z3-backup', 'a/b/', '.z3', '.z3/index']) {
      for (const dataset of datasets) {
        const key = indexKey(prefix, dataset);
        for (const other of datasets) {
          // every snapshot prefix of `other` starts with this listing prefix
          expect(key.startsWith(listingPrefix(prefix, other, ''))).toBe(false);
          expect(key).not.toBe(snapshotKey(prefix, `${other}@x`));
        }
      }
    }
  });

  it('gives each dataset its own key (two backups of different datasets never share one)', () => {
    const keys = ['tank', 'tank/a', 'tank/a.json', 'tank/a/b', 'tank/ab'].map((d) =>
      indexKey('p', d),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });
});
