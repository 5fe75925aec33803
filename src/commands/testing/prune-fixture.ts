/** The backups and options of the `z3 prune` tests: daily chains on the memory backend. */
import type { PruneOptions } from '../prune.js';
import { MemBackend } from '../../storage/mem/backend.js';

export const PREFIX = 'z3-backup/tank/data@';
export const snap = (d: number): string =>
  `zfs-auto-snap_daily-2026-11-${String(d).padStart(2, '0')}-0000`;
export const ENV = { SNAPSHOT_PREFIX: 'zfs-auto-snap_daily' };

export function options(extra: Partial<PruneOptions> = {}): PruneOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    keep: {},
    broken: false,
    dryRun: false,
    verbose: false,
    json: false,
    wait: false,
    ...extra,
  };
}

/** Days 1..n, a full every `fullEvery` days; each object 1000 bytes. */
export function bucket(n: number, fullEvery: number): MemBackend {
  const mem = new MemBackend({ now: () => Date.parse('2026-11-25T12:00:00Z') });
  for (let d = 1; d <= n; d += 1) {
    const meta: Record<string, string> =
      (d - 1) % fullEvery === 0 ? { isfull: 'true' } : { parent: `tank/data@${snap(d - 1)}` };
    mem.seed(`${PREFIX}${snap(d)}`, Buffer.alloc(1000), { ...meta, size: '1000' });
  }
  return mem;
}
