/**
 * Whether a backup stream is implausibly short for its `zfs send -nvP` estimate. The commit
 * gate sees every stage's exit status, not whether `zfs send` wrote what it planned: a zfs (or
 * a wrapper around it) that exits 0 after 100 bytes of a 1 GiB estimate commits a backup that
 * cannot be restored. Nothing here can tell truncation from a poor estimate, so this only
 * decides a warning, never the outcome.
 */

/**
 * Estimates below this are never questioned: a tiny incremental's stream is mostly fixed
 * headers (begin/end records, object headers), where the estimate is least exact and a short
 * stream can hide little.
 */
export const MIN_CHECKED_ESTIMATE = 1024 * 1024;

/**
 * Uncompressed (`COMPRESSOR none`, stored bytes = stream bytes): below half the estimate.
 * `zfs send -nvP` of a plain send (no `-c`, `-w`) counts the blocks the send will write, so it
 * is normally within a few percent of the stream; half is far outside that and still clear of
 * record-header overheads on datasets of small files.
 */
export const MIN_PLAIN_RATIO = 0.5;

/**
 * Compressed or encrypted: below a thousandth of the estimate. Deflate (pigz, gpg's default)
 * cannot shrink anything more than about 1032:1, so a gzip stream under 1/1000 cannot hold the
 * whole send; zstd, xz and lz4 go further only on long runs of one byte (a dataset of zeros
 * without ZFS compression), the one case where this warns wrongly.
 */
export const MIN_COMPRESSED_RATIO = 0.001;

/** True when `stored` bytes are implausibly few for a stream estimated at `estimate` bytes. */
export function isImplausiblyShort(input: {
  stored: number;
  estimate: number;
  isCompressed: boolean;
}): boolean {
  if (input.estimate < MIN_CHECKED_ESTIMATE) return false;
  const ratio = input.isCompressed ? MIN_COMPRESSED_RATIO : MIN_PLAIN_RATIO;
  return input.stored < input.estimate * ratio;
}
