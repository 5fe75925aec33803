/**
 * The bandwidth limits of a run: LIMIT_UPLOAD (`--limit-upload`) and LIMIT_DOWNLOAD
 * (`--limit-download`), a size per second as CHUNK_SIZE is written (`20M` = 20 MiB/s, `512K`,
 * a plain number of bytes). Unset, empty or 0: no limit, so an `[fs:…]` section can turn off a
 * limit set in `[main]`. Enforced by src/storage/wrappers/throttled.ts.
 */
import { ConfigError } from '../errors.js';
import { sizeOrNaN } from './sizes.js';

type Lookup = (
  key: 'LIMIT_UPLOAD' | 'LIMIT_DOWNLOAD',
) => { value: string; where: string } | undefined;

/** Bytes per second in each direction; undefined: no limit. */
export interface BandwidthLimits {
  upload: number | undefined;
  download: number | undefined;
}

/** Below this a 5 MiB part would take minutes; surely a missing `M` (`--limit-upload 20`). */
const MIN_RATE = 1024;

/** @throws ConfigError `<where> LIMIT_UPLOAD: expected a rate like 20M (bytes per second) …`. */
export function parseBandwidth(lookup: Lookup): BandwidthLimits {
  return {
    upload: parseRate(lookup, 'LIMIT_UPLOAD'),
    download: parseRate(lookup, 'LIMIT_DOWNLOAD'),
  };
}

function parseRate(lookup: Lookup, key: 'LIMIT_UPLOAD' | 'LIMIT_DOWNLOAD'): number | undefined {
  const raw = lookup(key);
  const text = raw?.value.trim() ?? '';
  if (raw === undefined || text === '') return undefined;
  const rate = sizeOrNaN(text);
  if (rate === 0) return undefined;
  if (!(rate >= MIN_RATE)) {
    throw new ConfigError(
      `${raw.where} ${key}: expected a rate like 20M (bytes per second: K, M, G are KiB, MiB, GiB), ` +
        'at least 1K; 0 for no limit',
    );
  }
  return rate;
}
