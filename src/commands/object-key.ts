import { UsageError } from '../errors.js';

/**
 * The key named on pput's or z3_get's command line, checked before anything else. An empty key
 * is a usage error (exit 2): to S3 it addresses the bucket itself, so a request with it fails
 * in ways that say nothing about the typo (or, for a listing, succeeds on something else).
 */
export function requireObjectKey(name: string, program: 'pput' | 'z3_get'): string {
  if (name === '') {
    throw new UsageError('the key must not be empty', {
      hint: `${program} takes the full key, S3_PREFIX included, e.g. z3-backup/tank/data@snap`,
    });
  }
  return name;
}
