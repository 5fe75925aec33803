/**
 * MEMORY_LIMIT (`--memory`): the bytes a run may hold in part buffers (uploads) or range
 * buffers (downloads), written like CHUNK_SIZE (`256M`, `1G`); default 1 GiB. Why a budget and
 * not only CONCURRENCY: `z3 backup` sizes its parts from the stream's estimate, so at a fixed
 * CONCURRENCY memory grew with the stream (32 parts of 220 MiB for 2 TiB, about 7 GiB). The
 * budget turns into parts in flight in src/transfer/memory-budget.ts.
 */
import { ConfigError } from '../errors.js';
import { sizeOrNaN } from './sizes.js';

/** The default budget: 1 GiB (issue 14: small NAS boxes must survive a 2 TiB backup). */
export const DEFAULT_MEMORY_LIMIT = 1024 * 1024 * 1024;

type Lookup = (key: 'MEMORY_LIMIT') => { value: string; where: string } | undefined;

/**
 * MEMORY_LIMIT in bytes, DEFAULT_MEMORY_LIMIT when unset or empty.
 *
 * @throws ConfigError `<where> MEMORY_LIMIT: expected a size like 1G …` for anything that is not
 *   a positive size.
 */
export function parseMemoryLimit(lookup: Lookup): number {
  const raw = lookup('MEMORY_LIMIT');
  const text = raw?.value.trim() ?? '';
  if (raw === undefined || text === '') return DEFAULT_MEMORY_LIMIT;
  const bytes = sizeOrNaN(text);
  if (!(bytes > 0)) {
    throw new ConfigError(
      `${raw.where} MEMORY_LIMIT: expected a size like 1G or 256M (K, M, G, T are powers of 1024)`,
    );
  }
  return bytes;
}
