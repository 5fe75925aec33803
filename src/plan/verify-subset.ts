/**
 * `--read-data-subset`: which objects a run reads, chosen by key, never at random, so that runs
 * with 1/n, 2/n … n/n read every object exactly once between them, and the same run repeated
 * reads the same objects. An object belongs to group `1 + (h mod n)`, h being the first 32 bits
 * of the SHA-256 of its key; `p%` reads the objects whose `h mod 100` is below p. Pure.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** Read group `index` of `count` (1-based), or the first `percent` of 100 groups. */
export type DataSubset =
  { kind: 'group'; index: number; count: number } | { kind: 'percent'; percent: number };

const HINT = 'use n/m (1 <= n <= m, e.g. 1/10) or p% (0 < p <= 100, e.g. 10%)';

/** Parse `1/10` or `10%`; a UsageError naming the flag for anything else. */
export function parseDataSubset(raw: string): DataSubset {
  const text = raw.trim();
  const group = /^(\d+)\/(\d+)$/.exec(text);
  if (group !== null) {
    const index = Number(group[1]);
    const count = Number(group[2]);
    if (count >= 1 && index >= 1 && index <= count) return { kind: 'group', index, count };
  }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent !== null) {
    const value = Number(percent[1]);
    if (value > 0 && value <= 100) return { kind: 'percent', percent: value };
  }
  throw new UsageError(`--read-data-subset: cannot use '${raw}'`, { hint: HINT });
}

/** Whether the object at `key` is read by a run with `subset`. */
export function isInSubset(key: string, subset: DataSubset): boolean {
  const hash = createHash('sha256').update(key).digest().readUInt32BE(0);
  switch (subset.kind) {
    case 'group':
      return (hash % subset.count) + 1 === subset.index;
    case 'percent':
      return hash % 100 < subset.percent;
  }
}
