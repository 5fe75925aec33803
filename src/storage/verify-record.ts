/**
 * The last successful `z3 verify` of each object, kept in CACHE_DIR beside the metadata cache so
 * that `z3 status` can say when a backup was last proven readable. One JSON file per target
 * (`verified-<16 hex of sha256(identity)>.json`), under the metadata cache's trust rules
 * (./cache-trust.ts): a file another user could have written reads as empty, since a forged
 * entry would claim a backup sound. An entry counts only while the object's ETag is the one that
 * was verified. Like the metadata cache it is a convenience: unreadable reads as empty, and a
 * failure to write it is a warning for the caller, never a failure of the command.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readOwnFile, writeOwnFile } from './metadata-cache.js';

/** Bumped when the layout changes; a file of another version reads as empty. */
const RECORD_VERSION = 1;

/** One object's last successful verification. */
export interface Verification {
  /** The ETag of the object that was verified. */
  etag: string;
  /** When, ISO 8601. */
  at: string;
  /** `data`: the stream was read and parsed; `object`: bytes against ETag; `head`: HEAD only. */
  level: 'head' | 'object' | 'data';
}

/** `<dir>/verified-<16 hex>.json` for the storage `identity` (Storage.identity). */
export function verificationPath(dir: string, identity: string): string {
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return join(dir, `verified-${digest}.json`);
}

/** The entries at `path`, by object key; empty when unreadable or untrusted. Never throws. */
export async function readVerifications(path: string): Promise<Map<string, Verification>> {
  const entries = new Map<string, Verification>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readOwnFile(path));
  } catch {
    return entries;
  }
  if (!isRecord(parsed) || parsed['version'] !== RECORD_VERSION) return entries;
  const raw = parsed['entries'];
  if (!isRecord(raw)) return entries;
  for (const [key, value] of Object.entries(raw)) {
    if (isVerification(value)) entries.set(key, value);
  }
  return entries;
}

/** How much a verification level proves: a HEAD-only run must not hide an earlier data read. */
const DEPTH: Readonly<Record<Verification['level'], number>> = { head: 0, object: 1, data: 2 };

/**
 * Add `updates` to the entries at `path`: a new entry replaces the old one of its key unless the
 * old one is of the same ETag and a deeper level (`data` > `object` > `head`).
 * Keys under `listed.prefix` that are not in `listed.keys` are dropped, so deleted objects leave
 * the file; other datasets' entries stay. Throws the file system error.
 */
export async function recordVerifications(
  path: string,
  updates: ReadonlyMap<string, Verification>,
  listed: { prefix: string; keys: ReadonlySet<string> },
): Promise<void> {
  const entries = await readVerifications(path);
  for (const key of entries.keys()) {
    if (key.startsWith(listed.prefix) && !listed.keys.has(key)) entries.delete(key);
  }
  for (const [key, value] of updates) {
    const old = entries.get(key);
    if (old === undefined || old.etag !== value.etag || DEPTH[value.level] >= DEPTH[old.level]) {
      entries.set(key, value);
    }
  }
  const body = JSON.stringify({ version: RECORD_VERSION, entries: Object.fromEntries(entries) });
  await writeOwnFile(path, body);
}

/** The verification of an object as it is now: undefined when none, or for another ETag. */
export function currentVerification(
  entries: ReadonlyMap<string, Verification>,
  key: string,
  etag: string | undefined,
): Verification | undefined {
  const entry = entries.get(key);
  return entry !== undefined && etag !== undefined && entry.etag === etag ? entry : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVerification(value: unknown): value is Verification {
  return (
    isRecord(value) &&
    typeof value['etag'] === 'string' &&
    typeof value['at'] === 'string' &&
    (value['level'] === 'head' || value['level'] === 'object' || value['level'] === 'data')
  );
}
