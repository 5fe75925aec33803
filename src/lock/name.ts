import { createHash } from 'node:crypto';

/** Hex digits of the digest kept in a lock file name: 64 bits, collisions are not a concern. */
const NAME_HEX_DIGITS = 16;

/**
 * The file name of the lock guarding one `kind` of work on one thing, e.g.
 * `lockName('backup', [storage.identity, s3Prefix, dataset])` →
 * `backup-3f9c0a1b2c3d4e5f.lock`. Why a digest: dataset names, endpoints and directories hold
 * `/`, `:` and spaces, and a name must stay one short path component. The parts are joined
 * with NUL, which none of them can contain, so `['a b', 'c']` and `['a', 'b c']` differ.
 */
export function lockName(kind: string, parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${kind}-${digest.slice(0, NAME_HEX_DIGITS)}.lock`;
}
