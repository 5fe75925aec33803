/**
 * The part-size formula of spec 8.2. Pure: no I/O.
 *
 * Why S3's limits whatever the backend: they are the tightest any backend has (see
 * src/storage/limits.ts), and the formula is a compatibility contract with the original tool,
 * so a part size chosen here fits every backend.
 *
 * Why the formula divides by 9,999 and adds 5 %: the estimate is usually the uncompressed size
 * of a `zfs send`, and the original tool leaves that much room so that an estimate slightly too
 * low still fits in 10,000 parts.
 */
import { constants } from 'node:buffer';
import { UsageError } from '../errors.js';
import { S3_LIMITS } from '../storage/limits.js';

const { minPartSize, maxPartSize, maxObjectSize } = S3_LIMITS;

/**
 * The largest part a process can hold whose one Buffer is at most `maxBufferLength` bytes:
 * S3's 5 GiB part limit, or the buffer limit where it is lower. Why it matters: a part is read
 * into one Buffer, and past Node's limit the allocation fails as an internal error mid-run.
 */
export function largestPartSize(maxBufferLength: number): number {
  return Math.min(maxPartSize, maxBufferLength);
}

/** The largest part of this process: 4 GiB on Node 20 (`buffer.constants.MAX_LENGTH`), 5 GiB on 22+. */
export const MAX_PART_SIZE = largestPartSize(constants.MAX_LENGTH);

/**
 * `floor(max(N * 1.05 / 9999, 5 MiB))`: the part size for an input of about `estimated` bytes,
 * capped at the 5 GiB part limit (reached only by estimates above ~47 TiB). No size guard: an
 * uncompressed estimate above 5 TiB may still compress below it; the uploader stops at the limit.
 */
export function partSizeFor(estimated: number): number {
  return Math.min(maxPartSize, Math.floor(Math.max((estimated * 1.05) / 9999, minPartSize)));
}

export interface BackupPartSizeInput {
  /** The `zfs send` size estimate in bytes. */
  estimate: number;
  /** CHUNK_SIZE in bytes, already checked against the part limits by config. */
  chunkSize: number;
  /** Whether CHUNK_SIZE was set in some layer (`Settings.chunkSizeIsSet`), not defaulted. */
  isChunkSizeSet: boolean;
  /** The largest part this process can hold; default MAX_PART_SIZE (tests pass another). */
  maxPartSize?: number | undefined;
}

/**
 * The part size of one `z3 backup` object: `partSizeFor(estimate)` (the original's choice, as it
 * ran `pput --estimated`), or CHUNK_SIZE when it was set and is larger. Why only larger: a
 * smaller part could not fit the estimate in 10,000 parts. Why only when set: the 256M default
 * would otherwise replace the formula's 5 MiB parts for every small stream, multiplying the
 * upload's memory (CONCURRENCY × part size) by 50.
 *
 * @throws UsageError when the estimate needs a part larger than `maxPartSize` (above ~37 TiB on
 *   Node 20): refused before the stream starts rather than failing at the first allocation.
 */
export function backupPartSize(input: BackupPartSizeInput): number {
  const needed = partSizeFor(input.estimate);
  const largest = input.maxPartSize ?? MAX_PART_SIZE;
  if (needed > largest) {
    throw new UsageError(
      `a stream of about ${input.estimate} bytes is too large for one object: it needs parts of ` +
        `${needed} bytes, above the ${largest} bytes this Node.js can hold in one buffer`,
      { hint: 'back up a smaller dataset, or run z3 on a Node.js whose buffers hold 5 GiB (22+)' },
    );
  }
  return input.isChunkSizeSet ? Math.max(needed, input.chunkSize) : needed;
}

export interface PartSizeInput {
  /** `--chunk-size` / CHUNK_SIZE in bytes, already checked against the part limits by config. */
  chunkSize: number;
  /** `--estimated` in bytes; when set it decides the part size instead of `chunkSize`. */
  estimated?: number | undefined;
}

/**
 * The part size of an upload: from the estimate when there is one, else the chunk size.
 * Throws UsageError for an estimate above the 5 TiB object limit — refused before anything is
 * read, rather than failing at the limit.
 */
export function choosePartSize(input: PartSizeInput): number {
  if (input.estimated !== undefined) {
    if (!Number.isSafeInteger(input.estimated) || input.estimated < 0) {
      throw new UsageError(`--estimated: expected a size in bytes, got ${input.estimated}`);
    }
    if (input.estimated > maxObjectSize) {
      throw new UsageError(
        `--estimated ${input.estimated}: above the S3 object size limit of 5 TiB (${maxObjectSize} bytes)`,
        { hint: 'split the data into several objects; S3 cannot store it in one' },
      );
    }
    return partSizeFor(input.estimated);
  }
  return input.chunkSize;
}
