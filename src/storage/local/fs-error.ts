/**
 * File-system errors as StorageErrors, classified where they arise (see backend.ts): a disk
 * that is full, read-only or not ours will not get better by retrying; an I/O error on a
 * flaky disk or an NFS hiccup might.
 */
import { StorageError } from '../../errors.js';

/** errno codes worth another attempt. */
const RETRYABLE = new Set(['EIO', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT']);

/** What to tell the user for the codes a user can fix. */
const HINTS: Record<string, string> = {
  ENOSPC: 'the backup directory is full: free space or prune old backups',
  EACCES: 'check the owner and permissions of BACKUP_DIR and everything under it',
  EPERM: 'check the owner and permissions of BACKUP_DIR and everything under it',
  EROFS: 'BACKUP_DIR is on a read-only file system: remount it read-write',
};

/** The errno code of a Node file-system error (`ENOENT`, …), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Whether `err` is a file-system error with one of `codes`. */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = errnoCode(err);
  return code !== undefined && codes.includes(code);
}

/**
 * `err` as a StorageError `<what> <path>: <code> <description>`, with `cause`; `ENOENT` is
 * `isNotFound`. A StorageError passes through unchanged.
 */
export function fsError(what: string, filePath: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const code = errnoCode(err) ?? 'error';
  const hint = HINTS[code];
  return new StorageError(`${what} ${filePath}: ${code} ${describe(err)}`, {
    cause: err,
    isRetryable: RETRYABLE.has(code),
    isNotFound: code === 'ENOENT',
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Node's `ENOSPC: no space left on device, write` → `no space left on device`. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /^[A-Z0-9]+: ([^,]+)/.exec(message)?.[1] ?? message;
}
