/**
 * The directory lock files live in (LOCK_DIR). A lock only protects anything when nobody else
 * can take it away: another user who can write the directory can delete or replace the lock
 * file, and two runs would then lock two different files. So the directory is created private
 * (0700) and an existing one is refused unless it belongs to this user and is writable by
 * nobody else.
 */
import { mkdir, stat } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/** The owner and mode bits a lock directory must have, read from the file system. */
export interface LockDirOwner {
  /** The uid that must own the directory (this process's, `process.getuid()`). */
  uid: number;
}

/**
 * Create `dir` (and missing parents) with mode 0700 if it does not exist, then check it.
 * Safe to call any number of times.
 *
 * @throws ConfigError (exit 2) naming LOCK_DIR when `dir` is not a directory, cannot be
 *   created, is owned by another user, or is writable by its group or others.
 */
export async function prepareLockDir(
  dir: string,
  owner: LockDirOwner = currentUser(),
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`LOCK_DIR ${dir}: cannot create the lock directory: ${reason(err)}`, {
      cause: err,
    });
  }
  const st = await stat(dir);
  if (!st.isDirectory()) throw new ConfigError(`LOCK_DIR ${dir}: not a directory`);
  const hint = `chmod 700 ${dir} (as its owner), or set LOCK_DIR to a directory only this user can write`;
  if (st.uid !== owner.uid) {
    throw new ConfigError(
      `LOCK_DIR ${dir}: owned by uid ${st.uid}, not by this user (uid ${owner.uid}); a lock another user can delete protects nothing`,
      { hint: 'set LOCK_DIR to a directory this user owns, with mode 0700' },
    );
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(
      `LOCK_DIR ${dir}: writable by group or others (mode ${mode}); a lock anyone can delete protects nothing`,
      { hint },
    );
  }
}

function currentUser(): LockDirOwner {
  // process.getuid exists on every POSIX platform, the only ones with flock(1).
  return { uid: process.getuid?.() ?? 0 };
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}
