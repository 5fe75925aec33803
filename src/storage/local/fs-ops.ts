/**
 * File and directory chores of the local backend: durable writes and renames (a rename survives
 * a crash only once its directory is fsynced), unlinks that tolerate a missing file, no empty
 * "folders" left behind by a removed key (S3 has none), and reads and writes that loop until
 * every byte is done.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../../errors.js';
import { fsError, hasCode } from './fs-error.js';

/** Mode of the directories we create (before the umask), like `mkdir -p`. */
export const DIR_MODE = 0o755;

/**
 * Flush `dir`'s entries to disk, so that a rename or unlink in it survives a crash (POSIX makes
 * a rename durable only once the directory is synced).
 *
 * Some file systems (some FUSE and network ones) refuse to fsync a directory: there it is
 * skipped, since they give no better way.
 */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (hasCode(err, 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP')) return;
    throw fsError('syncing directory', dir, err);
  }
}

/** Mode of the files we create (before the umask): readable by all, like a copied backup. */
export const FILE_MODE = 0o644;

/** Write `text` to a new or replaced `file` and fsync it before returning. */
export async function writeFileSynced(file: string, text: string): Promise<void> {
  try {
    const handle = await open(file, 'w', FILE_MODE);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fsError('writing', file, err);
  }
}

/** Unlink `file`; false when it was not there (ENOENT, or a parent that is not a directory). */
export async function unlinkIfPresent(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return false;
    throw fsError('removing', file, err);
  }
}

/** Create `dir` and its parents under `root` (mode 0755 before the umask). */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw fsError('creating directory', dir, err);
  }
}

/**
 * Remove `dir` and then each parent while empty, up to but not including `root`. Best effort:
 * a directory that is not empty (another key, a write in progress) or is gone already ends it,
 * and so does any other error, since nothing depends on an empty directory being removed.
 */
export async function removeEmptyDirs(root: string, dir: string): Promise<void> {
  const inside = root.endsWith(path.sep) ? root : root + path.sep;
  let current = dir;
  while (current.startsWith(inside) && current.length > inside.length) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = path.dirname(current);
  }
}

/**
 * Check that `root` is an existing directory.
 *
 * @throws StorageError (not retryable) naming BACKUP_DIR with a hint, since a missing root is a
 *   setting or mount to fix, not a missing key.
 */
export async function requireRoot(root: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (err) {
    if (!hasCode(err, 'ENOENT', 'ENOTDIR')) throw fsError('checking BACKUP_DIR', root, err);
    isDirectory = false;
  }
  if (!isDirectory) {
    throw new StorageError(`BACKUP_DIR ${root} does not exist or is not a directory`, {
      hint: 'create it, or mount the backup disk, or fix BACKUP_DIR (--backup-dir)',
    });
  }
}

/** Stats of `file` without following a symlink; undefined when it is not there. */
export async function lstatIfPresent(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw fsError('checking', file, err);
  }
}

/**
 * A new temporary file in `dir`, created with its parents. A remove of the last key in `dir`
 * may prune the directory between the mkdir and the open: then both are tried again.
 */
export async function createTemp(dir: string, file: string): Promise<FileHandle> {
  for (let attempt = 1; ; attempt++) {
    await makeDirs(dir);
    try {
      return await open(file, 'wx', FILE_MODE);
    } catch (err) {
      if (attempt < 3 && hasCode(err, 'ENOENT')) continue;
      throw fsError('creating', file, err);
    }
  }
}

export interface ReadFullyInput {
  handle: FileHandle;
  target: Uint8Array;
  length: number;
  position: number;
  /** For the message. */
  what: string;
}

/** Read exactly `length` bytes at `position` into `target`; fewer is a retryable error. */
export async function readFully(input: ReadFullyInput): Promise<void> {
  const { handle, target, length, position } = input;
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(target, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new StorageError(`${input.what}: got ${done} of ${length} bytes`, {
        isRetryable: true,
      });
    }
    done += bytesRead;
  }
}
