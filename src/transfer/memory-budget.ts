/**
 * From a memory budget to the parts (or ranges) in flight: `min(concurrency, max(2,
 * floor(budget / part size)))`. Two is the floor because one buffer is always being filled (or
 * written out) while another is on the wire; with fewer the transfer would be serial. When even
 * two parts do not fit the budget, the run is refused before it starts rather than silently
 * overspending what the user allowed.
 */
import { ConfigError } from '../errors.js';
import { formatSize } from '../config/sizes.js';

/** The least parts a transfer holds: one filled or written out, one in flight. */
export const MIN_PARTS_IN_FLIGHT = 2;

export interface MemoryBudgetInput {
  /** CONCURRENCY: the most parts (ranges) in flight the user asked for. */
  concurrency: number;
  /** Bytes per part (upload) or per range (download). */
  partSize: number;
  /** MEMORY_LIMIT in bytes. */
  memoryLimit: number;
}

/**
 * How many parts (ranges) to keep in flight so that their buffers stay within `memoryLimit`.
 * Pure.
 *
 * @throws ConfigError (exit 2) `MEMORY_LIMIT 256M holds fewer than 2 parts of 200M: …` when
 *   `2 × partSize` exceeds the budget.
 */
export function partsInFlight(input: MemoryBudgetInput): number {
  const { concurrency, partSize, memoryLimit } = input;
  const fitting = Math.floor(memoryLimit / partSize);
  if (fitting < MIN_PARTS_IN_FLIGHT) {
    throw new ConfigError(
      `MEMORY_LIMIT ${formatSize(memoryLimit)} holds fewer than ${MIN_PARTS_IN_FLIGHT} parts of ` +
        `${formatSize(partSize)}: set MEMORY_LIMIT (--memory) to at least ` +
        `${formatSize(MIN_PARTS_IN_FLIGHT * partSize)} or use smaller parts (CHUNK_SIZE)`,
    );
  }
  return Math.min(concurrency, Math.max(MIN_PARTS_IN_FLIGHT, fitting));
}

/**
 * Ranged GETs to keep in flight for a download (z3_get, restore) within `memoryLimit`. The
 * downloader holds its ranges in flight plus the one range being written out, so the budget
 * buys one range fewer than it holds buffers; CONCURRENCY, as before, counts the ranges in
 * flight. Pure.
 *
 * @throws ConfigError as `partsInFlight` when two ranges do not fit.
 */
export function rangesInFlight(input: MemoryBudgetInput): number {
  const buffers = partsInFlight({ ...input, concurrency: input.concurrency + 1 });
  return buffers - 1;
}

/**
 * The download range size when CHUNK_SIZE is set nowhere: 16 MiB. Why not CHUNK_SIZE's default
 * (256 MiB, the original's upload part size): within the 1 GiB budget that is 3 ranges in
 * flight, and nothing reaches `zfs receive` until a whole quarter GiB has arrived, so download
 * and receive hardly overlap; peak RSS was 1.1 GiB for any object of 1 GiB or more. Measured
 * (1 GiB restore, same run): 16M ranges 95-139 MB/s at 680 MiB peak RSS vs 110 MB/s at 1160 MiB.
 */
export const DEFAULT_DOWNLOAD_RANGE = 16 * 1024 * 1024;

/** The range size of z3_get and restore: CHUNK_SIZE when set, else DEFAULT_DOWNLOAD_RANGE. */
export function downloadRangeSize(settings: {
  chunkSize: number;
  chunkSizeIsSet: boolean;
}): number {
  return settings.chunkSizeIsSet ? settings.chunkSize : DEFAULT_DOWNLOAD_RANGE;
}

/**
 * The ranges of a download (z3_get, restore, verify --read-data): their size
 * (`downloadRangeSize`) and how many are in flight within MEMORY_LIMIT (`rangesInFlight`).
 *
 * @throws ConfigError as `partsInFlight` when two ranges do not fit.
 */
export function downloadRanges(settings: {
  chunkSize: number;
  chunkSizeIsSet: boolean;
  concurrency: number;
  memoryLimit: number;
}): { chunkSize: number; concurrency: number } {
  const chunkSize = downloadRangeSize(settings);
  return { chunkSize, concurrency: rangesInFlight({ ...settings, partSize: chunkSize }) };
}
