/**
 * The metadata file beside each object, `<key>.z3meta`: JSON
 * `{"version":1,"metadata":{…},"etag":"\"<hex>-<n>\"","size":<bytes>}`. It holds what S3 keeps
 * with an object and a file system does not: the user metadata and the ETag S3 would have
 * given the same chunks, so the layers above see the same object on either backend.
 */
import { readFile } from 'node:fs/promises';
import { fsError, hasCode } from './fs-error.js';

/** What a sidecar holds (format version 1). */
export interface Sidecar {
  version: 1;
  /** User metadata, keys lower-case. */
  metadata: Record<string, string>;
  /** The object's ETag with quotes, as S3 would compute it for the same chunks. */
  etag: string;
  /** The object's size when the sidecar was written: a sidecar is trusted only while it matches. */
  size: number;
}

/** The sidecar's file content. */
export function encodeSidecar(sidecar: Omit<Sidecar, 'version'>): string {
  const content: Sidecar = { version: 1, ...sidecar };
  return JSON.stringify(content) + '\n';
}

/**
 * The sidecar at `file` when it describes an object of `size` bytes; undefined when it is
 * missing, unreadable as a version-1 sidecar, or of another size (then it belongs to another
 * write of the key: see the commit order in writer.ts).
 *
 * @throws StorageError when the file exists but cannot be read (e.g. EACCES).
 */
export async function readSidecar(file: string, size: number): Promise<Sidecar | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'EISDIR')) return undefined;
    throw fsError('reading metadata', file, err);
  }
  const sidecar = parseSidecar(text);
  return sidecar?.size === size ? sidecar : undefined;
}

/** A version-1 sidecar from its text, or undefined for anything else (hand-edited, truncated…). */
function parseSidecar(text: string): Sidecar | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { version, metadata, etag, size } = value as Record<string, unknown>;
  if (version !== 1 || typeof etag !== 'string' || typeof size !== 'number') return undefined;
  if (!isStringRecord(metadata)) return undefined;
  return { version, metadata: { ...metadata }, etag, size };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
