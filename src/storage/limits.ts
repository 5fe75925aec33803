/**
 * Backend limits shared by more than one backend. S3's are the tightest any backend has, and
 * the part-size formula of spec 8.2 is written for them.
 */
import type { BackendLimits } from './backend.js';

const MIB = 1024 * 1024;

/** S3 (and every S3-compatible server we know): 5 MiB … 5 GiB parts, 10,000 of them, 5 TiB. */
export const S3_LIMITS: BackendLimits = {
  minPartSize: 5 * MIB,
  maxPartSize: 5 * 1024 * MIB,
  maxParts: 10_000,
  maxObjectSize: 5 * 1024 * 1024 * MIB,
};

/**
 * A local directory: no part minimum (a chunk is a byte range of one file), the largest part a
 * Node Buffer holds comfortably, and no practical count or size limit.
 */
export const FILE_LIMITS: BackendLimits = {
  minPartSize: 1,
  maxPartSize: 2 * 1024 * MIB,
  maxParts: 1_000_000,
  maxObjectSize: Number.MAX_SAFE_INTEGER,
};
