/**
 * When the metadata cache may be believed. Its entries decide what `status` reports and which
 * base `backup` and `restore` build on, so an entry someone else wrote could turn a broken chain
 * into `full ok`: the validators it is checked against (ETag, size, LastModified) are public to
 * anyone who can read the old cache file, and no local check can tell forged metadata from real.
 * The rule is therefore about who can write: the directory must be owned by the user running z3
 * and writable by nobody else, and every cache file must be owned by that user and writable by
 * nobody else (a file planted while the directory was open stays ignored after `chmod 700`).
 * Anyone who can write as this user can also change its config and credentials, so trusting
 * them adds nothing an attacker could not already do.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

/** Group- and world-write bits. */
const FOREIGN_WRITE = 0o022;

/** The user running z3 (undefined where the platform has no uids: nothing to compare). */
function currentUid(): number | undefined {
  return process.getuid?.();
}

/**
 * What is wrong with `stats` as those of a cache directory or file written only by this user,
 * as a phrase (`world-writable (mode 0777)`, `owned by uid 1000, not by uid 0`), or undefined
 * when nothing is.
 */
export function untrustedBecause(stats: Stats, uid = currentUid()): string | undefined {
  if (uid !== undefined && stats.uid !== uid) return `owned by uid ${stats.uid}, not by uid ${uid}`;
  if ((stats.mode & FOREIGN_WRITE) === 0) return undefined;
  const who = (stats.mode & 0o002) !== 0 ? 'world-writable' : 'group-writable';
  return `${who} (mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')})`;
}

/**
 * Why the cache directory `dir` must not be used, as one line naming the directory, what is
 * wrong and how to fix it; undefined when it is trusted or does not exist yet (z3 creates it
 * 0700). Never throws.
 */
export async function cacheDirProblem(dir: string): Promise<string | undefined> {
  let stats: Stats;
  try {
    stats = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `CACHE_DIR ${dir} cannot be checked (${(err as Error).message}); running without the metadata cache`;
  }
  if (!stats.isDirectory()) {
    return `CACHE_DIR ${dir} is not a directory; running without the metadata cache`;
  }
  const why = untrustedBecause(stats);
  if (why === undefined) return undefined;
  const fix = why.startsWith('owned')
    ? `chown $(id -u) ${dir} && chmod 700 ${dir}`
    : `chmod 700 ${dir}`;
  return `CACHE_DIR ${dir} is ${why}, so others could change what status reports; running without the metadata cache (fix: ${fix}, or set CACHE_DIR to a directory of your own)`;
}
