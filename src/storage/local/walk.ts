/**
 * The regular files under a backend's root, in key order, visiting only the directories that
 * can hold a wanted key: what `list` and `listPending` are built on.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareKeys } from '../rules.js';
import { requireRoot } from './fs-ops.js';
import { fsError, hasCode } from './fs-error.js';

/** One regular file met on the walk. */
export interface WalkedFile {
  /** The key the file's path stands for (`a/b/name`). */
  key: string;
  /** Its directory's key: `''` at the root, else ending in `/`. */
  dirKey: string;
  name: string;
  path: string;
}

export interface WalkOptions {
  /** Visit only directories that can hold keys starting with this. */
  prefix: string;
  /** Skip directories whose keys all sort at or before this one. */
  startAfter?: string | undefined;
}

/**
 * Every regular file under `root` (not symlinks, devices…, and not below a symlinked
 * directory, so a link loop cannot trap the walk), in UTF-8 byte order of `key`.
 *
 * Why sorting each directory is enough: a directory `d` stands for the keys `d/…`, so sorting its
 * entries with `/` appended to directory names puts each file exactly where its key falls among
 * the keys below its sibling directories (no file name contains `/`).
 *
 * @throws StorageError naming BACKUP_DIR when the root is missing; entries that vanish during
 *   the walk (a concurrent remove) are skipped.
 */
export async function* walkFiles(root: string, options: WalkOptions): AsyncGenerator<WalkedFile> {
  yield* walkDir({ dir: root, dirKey: '', options, isRoot: true });
}

interface DirVisit {
  dir: string;
  dirKey: string;
  options: WalkOptions;
  isRoot: boolean;
}

async function* walkDir(visit: DirVisit): AsyncGenerator<WalkedFile> {
  const { dir, dirKey, options } = visit;
  const entries = await readSorted(dir, visit.isRoot);
  for (const { entry, sortKey } of entries) {
    const key = dirKey + sortKey;
    const entryPath = path.join(dir, entry.name);
    if (entry.isFile()) {
      yield { key, dirKey, name: entry.name, path: entryPath };
    } else if (mayHoldKeys(key, options)) {
      yield* walkDir({ dir: entryPath, dirKey: key, options, isRoot: false });
    }
  }
}

/**
 * Whether a directory standing for the keys `dirKey…` (`dirKey` ends in `/`) can hold a key that
 * starts with `prefix` and sorts after `startAfter`: the walk reads no other directory.
 */
export function mayHoldKeys(dirKey: string, options: WalkOptions): boolean {
  const { prefix, startAfter } = options;
  if (!dirKey.startsWith(prefix) && !prefix.startsWith(dirKey)) return false;
  // Every key below sorts before startAfter when startAfter is past dirKey but not inside it.
  return (
    startAfter === undefined || startAfter.startsWith(dirKey) || compareKeys(startAfter, dirKey) < 0
  );
}

/** The files and directories of `dir`, sorted by key (directories with `/` appended). */
async function readSorted(
  dir: string,
  isRoot: boolean,
): Promise<{ entry: Dirent; sortKey: string }[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (!hasCode(err, 'ENOENT', 'ENOTDIR')) throw fsError('listing', dir, err);
    if (isRoot) await requireRoot(dir);
    return [];
  }
  return entries
    .filter((e) => e.isFile() || e.isDirectory())
    .map((entry) => ({ entry, sortKey: entry.isDirectory() ? `${entry.name}/` : entry.name }))
    .sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}
