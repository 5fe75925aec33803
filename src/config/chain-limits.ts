/**
 * When `z3 backup` ends a chain with a full (src/plan/backup.ts): FULL_EVERY (`--full-if-older-
 * than`), a restic duration like KEEP_WITHIN's, and MAX_CHAIN (`--max-chain`), a number of
 * objects counting the full. Unset, empty or 0: no limit, so an `[fs:…]` section can turn off
 * a limit set in `[main]`.
 */
import { ConfigError } from '../errors.js';
import type { ChainLimits } from '../plan/backup.js';
import { parseDuration } from './retention.js';

type Lookup = (key: 'FULL_EVERY' | 'MAX_CHAIN') => { value: string; where: string } | undefined;

/** Chains this long are surely a typo (a million daily incrementals is 2,700 years). */
const MAX_MAX_CHAIN = 1_000_000;

/** @throws ConfigError `<where> MAX_CHAIN: expected …` or `<where> FULL_EVERY: expected …`. */
export function parseChainLimits(lookup: Lookup): ChainLimits {
  const limits: ChainLimits = {};
  const fullEvery = parseDuration(lookup('FULL_EVERY'), 'FULL_EVERY');
  if (fullEvery !== undefined) limits.fullEvery = fullEvery;
  const raw = lookup('MAX_CHAIN');
  const text = raw?.value.trim() ?? '';
  if (raw !== undefined && text !== '') {
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(value <= MAX_MAX_CHAIN)) {
      throw new ConfigError(
        `${raw.where} MAX_CHAIN: expected a whole number of backups from 1 to ${MAX_MAX_CHAIN} ` +
          '(0: no limit)',
      );
    }
    limits.maxChain = value;
  }
  return limits;
}
