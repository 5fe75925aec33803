/**
 * A local cache of object metadata, so that repeated listings skip the HEAD of every object
 * that has not changed. Why it is safe: a listing already gives each object's ETag, size and
 * LastModified; new content changes the ETag or size, and a CopyObject that replaces the
 * metadata changes LastModified. An entry is used only when all three equal the listing's.
 *
 * One JSON file per (endpoint, bucket, listing prefix), rewritten after each run with exactly
 * the objects of that run's listing, so deleted objects drop out. The cache is an optimisation
 * only: a missing, unreadable, corrupt or other-version file reads as empty, and a failure to
 * write it is for the caller to report as a warning, never a failure of the command.
 *
 * Who may write it is ./cache-trust.ts: a file another user owns or could write reads as empty,
 * and the cache is written only into a directory of this user's that nobody else can write.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ListedObject, ObjectInfo } from './backend.js';
import { cacheDirProblem, untrustedBecause } from './cache-trust.js';

/** Bumped when the file layout changes; a file of another version is ignored and rebuilt. */
const CACHE_VERSION = 1;

/** What is cached of one object: the listing's validators and the metadata its HEAD gave. */
export interface CachedMetadata {
  etag: string;
  size: number;
  lastModified: string;
  metadata: Record<string, string>;
}

/** Which listing a cache file belongs to. */
export interface MetadataCacheScope {
  /** The cache directory (created 0700 on write). */
  dir: string;
  /** The S3 endpoint URL; undefined = AWS. */
  endpoint: string | undefined;
  bucket: string;
  /** The listing prefix. */
  prefix: string;
}

/** `<dir>/metadata-<16 hex of sha256(endpoint, bucket, prefix)>.json`. */
export function metadataCachePath(scope: MetadataCacheScope): string {
  const identity = JSON.stringify([scope.endpoint ?? '', scope.bucket, scope.prefix]);
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return join(scope.dir, `metadata-${digest}.json`);
}

/**
 * The entries of the cache file at `path`; empty when the file is missing, unreadable, not
 * JSON, of another version, a symbolic link, or owned or writable by another user (checked on
 * the open file, so it cannot be swapped between check and read). Malformed entries are dropped
 * one by one. Never throws.
 */
export async function readMetadataCache(path: string): Promise<Map<string, CachedMetadata>> {
  const entries = new Map<string, CachedMetadata>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readOwnFile(path));
  } catch {
    return entries;
  }
  if (!isRecord(parsed) || parsed['version'] !== CACHE_VERSION) return entries;
  const raw = parsed['entries'];
  if (!isRecord(raw)) return entries;
  for (const [key, value] of Object.entries(raw)) {
    if (isCachedMetadata(value)) entries.set(key, value);
  }
  return entries;
}

/**
 * The cached info of a listed object, or undefined when there is no entry or its ETag, size
 * or LastModified differ from the listing's. A listing without ETag or LastModified never
 * hits: size alone cannot tell a change.
 */
export function lookupCachedInfo(
  cache: ReadonlyMap<string, CachedMetadata>,
  listed: ListedObject,
): ObjectInfo | undefined {
  const entry = cache.get(listed.key);
  if (entry === undefined || listed.etag === '' || listed.lastModified === '') return undefined;
  if (
    entry.etag !== listed.etag ||
    entry.size !== listed.size ||
    entry.lastModified !== listed.lastModified
  ) {
    return undefined;
  }
  return { key: listed.key, size: listed.size, etag: listed.etag, metadata: { ...entry.metadata } };
}

/**
 * Replace the cache file at `path` with `entries`, atomically: a temporary file (mode 0600) in
 * the same directory, renamed over the old one, so a reader sees the old file or the new one,
 * never half of one. Creates the directory (0700) when missing.
 *
 * @throws the file system error when the directory or file cannot be written (the temporary
 *   file is removed).
 */
export async function writeMetadataCache(
  path: string,
  entries: ReadonlyMap<string, CachedMetadata>,
): Promise<void> {
  const body = JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(entries) });
  await writeOwnFile(path, body);
}

/**
 * Replace `path` with `body` atomically (a 0600 temporary file renamed over it), in a directory
 * created 0700 when missing and refused when someone else could write it (./cache-trust.ts).
 * For every file z3 keeps in CACHE_DIR. Throws the file system error; the temporary is removed.
 */
export async function writeOwnFile(path: string, body: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Created by someone else since the run checked it (it did not exist then): write nothing.
  const problem = await cacheDirProblem(dirname(path));
  if (problem !== undefined) throw new Error(problem);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, body, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** The text of `path` if it is a regular file only this user can write; throws otherwise. */
export async function readOwnFile(path: string): Promise<string> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = await file.stat();
    const why = stats.isFile() ? untrustedBecause(stats) : 'not a regular file';
    if (why !== undefined) throw new Error(`${path} is ${why}`);
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a parsed JSON value has the shape of a cache entry (also an index entry: ./index/). */
export function isCachedMetadata(value: unknown): value is CachedMetadata {
  if (!isRecord(value)) return false;
  const metadata = value['metadata'];
  return (
    typeof value['etag'] === 'string' &&
    typeof value['size'] === 'number' &&
    typeof value['lastModified'] === 'string' &&
    isRecord(metadata) &&
    Object.values(metadata).every((v) => typeof v === 'string')
  );
}
