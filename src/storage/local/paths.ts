/**
 * Where a key lives in a local directory (pure): the object at `<root>/<key>` with every
 * `/`-separated segment a directory (the same layout as the keys on S3), its metadata in the
 * sidecar `<root>/<key>.z3meta`, and a write in progress in `.<name>.<id>.z3tmp` beside it.
 *
 * The three namespaces cannot collide: a key may not end in `.z3meta` or `.z3tmp`, so every such
 * file is known not to be an object, and a listing skips it.
 */
import path from 'node:path';
import { StorageError } from '../../errors.js';

/** Suffix of the file holding an object's metadata, next to the object. */
export const SIDECAR_SUFFIX = '.z3meta';
/** Suffix of every temporary file (a data file or a sidecar not yet committed). */
export const TEMP_SUFFIX = '.z3tmp';

/** `.<name>.<16 hex id>.z3tmp`: a data file being written (what `listPending` reports). */
const PENDING_DATA = /^\.(.+)\.([0-9a-f]{16})\.z3tmp$/;

/** The files of one key. */
export interface KeyPaths {
  /** The directory holding the object, its sidecar and its temporaries. */
  dir: string;
  /** The object's file name (the key's last segment). */
  name: string;
  /** The object: `<root>/<key>`. */
  file: string;
  /** Its metadata: `<root>/<key>.z3meta`. */
  sidecar: string;
}

/**
 * The files of `key` under `root`.
 *
 * @throws StorageError (not retryable) naming the key when it cannot be a path: an empty
 *   segment (a leading `/`, `//`, a trailing `/`), a `.` or `..` segment, a NUL, or a segment
 *   ending in `.z3meta` or `.z3tmp`.
 */
export function keyPaths(root: string, key: string): KeyPaths {
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new StorageError(
      `key ${JSON.stringify(key)} cannot be stored in a directory: ${problem}`,
    );
  }
  const segments = key.split('/');
  const file = path.join(root, ...segments);
  return {
    dir: path.dirname(file),
    name: path.basename(file),
    file,
    sidecar: file + SIDECAR_SUFFIX,
  };
}

/** Whether `key` can be stored as a path (see keyPaths). */
export function isStorableKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** Why `key` cannot be stored as a path, or undefined when it can. */
function keyProblem(key: string): string | undefined {
  if (key.includes('\0')) return 'it contains a NUL';
  const segments = key.split('/');
  if (segments.some((s) => s === '')) return 'empty segment (leading, trailing or double /)';
  if (segments.some((s) => s === '.' || s === '..')) return 'a "." or ".." segment';
  // Not only the last segment: a directory `a.z3meta` would stand where the sidecar of `a` goes.
  if (segments.some(isReservedName)) {
    return `a segment ends in ${SIDECAR_SUFFIX} or ${TEMP_SUFFIX} (reserved)`;
  }
  return undefined;
}

/** Temporary data file of write `id` of the object named `name`, in the same directory. */
export function tempDataName(name: string, id: string): string {
  return `.${name}.${id}${TEMP_SUFFIX}`;
}

/**
 * The chunk log of write `id` (chunk-log.ts): like the temporary sidecar, it ends in `.z3tmp`
 * but not in `.<hex id>.z3tmp`, so listings skip it and `listPending` does not report it.
 */
export function tempChunkLogName(name: string, id: string): string {
  return `.${name}.${id}.z3parts${TEMP_SUFFIX}`;
}

/**
 * Temporary sidecar of write `id`. It ends in `.z3tmp` (so listings skip it) but not in
 * `.<hex id>.z3tmp`, so `listPending` does not take it for a write of its own.
 */
export function tempSidecarName(name: string, id: string): string {
  return `.${name}.${id}${SIDECAR_SUFFIX}${TEMP_SUFFIX}`;
}

/** The object name and write id of a temporary data file's name; undefined for any other name. */
export function parseTempDataName(fileName: string): { name: string; id: string } | undefined {
  const match = PENDING_DATA.exec(fileName);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { name: match[1], id: match[2] };
}

/** Whether a file name is one of ours that is not an object (a sidecar or a temporary). */
export function isReservedName(fileName: string): boolean {
  return fileName.endsWith(SIDECAR_SUFFIX) || fileName.endsWith(TEMP_SUFFIX);
}
