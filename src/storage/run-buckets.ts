/**
 * The token buckets of this process, one per direction and rate. Why shared beyond one storage:
 * `z3 backup --all --jobs 2` opens a storage per dataset, and LIMIT_UPLOAD = 20M must hold for
 * the run (the uplink), not for each dataset. Datasets whose `[fs:]` sections set different
 * rates get different buckets, each held to its own rate.
 */
import { TokenBucket } from './token-bucket.js';

const buckets = new Map<string, TokenBucket>();

/** The process's bucket for `direction` at `rate` bytes per second (made on first use). */
export function runBucket(direction: 'upload' | 'download', rate: number): TokenBucket {
  const name = `${direction} ${rate}`;
  let bucket = buckets.get(name);
  if (bucket === undefined) {
    bucket = new TokenBucket({ rate });
    buckets.set(name, bucket);
  }
  return bucket;
}
