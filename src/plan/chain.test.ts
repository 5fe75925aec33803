import { describe, expect, it } from 'vitest';
import { chainPositions } from './chain.js';
import { computeHealth } from './health.js';
import { backupChain, fullBackup, incrementalBackup, originalBucket } from './testing.js';
import type { RemoteSnapshot } from './types.js';

function lengths(remote: RemoteSnapshot[]): Record<string, [number, string]> {
  const out: Record<string, [number, string]> = {};
  for (const [name, p] of chainPositions(remote, computeHealth(remote))) {
    out[name] = [p.length, p.full.name];
  }
  return out;
}

describe('chainPositions', () => {
  it('numbers each healthy backup from its full; broken backups have no position', () => {
    expect(lengths(originalBucket())).toEqual({
      'pool/fs@snap_1_f': [1, 'pool/fs@snap_1_f'],
      'pool/fs@snap_2': [2, 'pool/fs@snap_1_f'],
      'pool/fs@snap_3': [3, 'pool/fs@snap_1_f'],
    });
  });

  it('keeps chains apart, in any listing order, branches included', () => {
    const remote = [
      incrementalBackup('p/f@c2', 'p/f@c1'),
      incrementalBackup('p/f@a3', 'p/f@a2'),
      fullBackup('p/f@c1'),
      incrementalBackup('p/f@a2', 'p/f@a1'),
      incrementalBackup('p/f@b2', 'p/f@a1'),
      fullBackup('p/f@a1'),
    ];
    expect(lengths(remote)).toEqual({
      'p/f@a1': [1, 'p/f@a1'],
      'p/f@a2': [2, 'p/f@a1'],
      'p/f@a3': [3, 'p/f@a1'],
      'p/f@b2': [2, 'p/f@a1'],
      'p/f@c1': [1, 'p/f@c1'],
      'p/f@c2': [2, 'p/f@c1'],
    });
  });

  it('places a chain of 20,000 backups in linear time', () => {
    const remote = backupChain('p/f', 20_000).reverse();
    const started = performance.now();
    const positions = chainPositions(remote, computeHealth(remote));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(positions.get('p/f@s19999')?.length).toBe(20_000);
    expect(positions.get('p/f@s10000')?.full.name).toBe('p/f@s00000');
  });
});
