/**
 * The resume journal (issue 9): one small JSON file per upload in progress, in
 * `<STATE_DIR>/uploads/`, that lets the next run of the same backup find the pending upload and
 * take it up (resume-decision.ts). It holds what must be identical for the parts already on the
 * server to be reused (target, key, pipeline argv, part size, the metadata and storage class
 * the commit will carry) and who wrote it (pid, hostname, started) for `z3 cleanup`, which keeps
 * the uploads a live run still owns.
 *
 * Written atomically (a temporary, fsync, rename, fsync of the directory), so a crash leaves
 * the old journal or the new one, never half of one; removed once the upload is committed or
 * aborted. Its name is a hash of the target and the key: one journal per object being written.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, Z3Error } from '../errors.js';

export const JOURNAL_VERSION = 1;

export interface UploadJournal {
  version: typeof JOURNAL_VERSION;
  /** Where the upload goes: the backend's `location` (`s3://bucket`, `/mnt/backup`). */
  target: string;
  key: string;
  /** The pending write's id (S3: the upload id). */
  uploadId: string;
  /** The argv of each pipeline stage, in order (`zfs send …`, the compressor); [] for pput. */
  pipeline: string[][];
  partSize: number;
  /** The user metadata the commit will carry. */
  metadata: Record<string, string>;
  /** The storage class asked for; absent for the backend's default. */
  storageClass?: string | undefined;
  /** When the upload was started, ISO 8601. */
  started: string;
  /** The process that started it, and its host. */
  pid: number;
  hostname: string;
}

/** A journal file as `listJournals` finds it: parsed, or what is wrong with it. */
export type ListedJournal =
  | { file: string; journal: UploadJournal; problem?: undefined }
  | { file: string; journal?: undefined; problem: string };

/** Reading one journal: none there, unreadable (torn, not ours), or the journal. */
export type JournalRead =
  | { kind: 'none' }
  | { kind: 'unreadable'; problem: string }
  | { kind: 'found'; journal: UploadJournal };

/** The directory of the journals under STATE_DIR. */
export function journalDir(stateDir: string): string {
  return path.join(stateDir, 'uploads');
}

/** The journal file of the upload of `key` to `target`. */
export function journalPath(stateDir: string, target: string, key: string): string {
  const name = createHash('sha256').update(`${target}\0${key}`).digest('hex').slice(0, 32);
  return path.join(journalDir(stateDir), `${name}.json`);
}

/** Write `journal` to `file` atomically (see the module comment), creating the directory. */
export async function writeJournal(file: string, journal: UploadJournal): Promise<void> {
  const dir = path.dirname(file);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(journal, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await syncDir(dir);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw journalError('writing', file, err);
  }
}

/** The journal at `file`; a missing file is `none`, one that is not a whole journal `unreadable`. */
export async function readJournal(file: string): Promise<JournalRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { kind: 'none' };
    throw journalError('reading', file, err);
  }
  const journal = parseJournal(text);
  return typeof journal === 'string'
    ? { kind: 'unreadable', problem: journal }
    : { kind: 'found', journal };
}

/** Remove the journal at `file`; a missing one is not an error. */
export async function removeJournal(file: string): Promise<void> {
  try {
    await unlink(file);
    await syncDir(path.dirname(file));
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw journalError('removing', file, err);
  }
}

/** Every journal under STATE_DIR (a missing directory has none), sorted by file name. */
export async function listJournals(stateDir: string): Promise<ListedJournal[]> {
  const dir = journalDir(stateDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^[0-9a-f]{32}\.json$/.test(n)).sort();
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw journalError('reading', dir, err);
  }
  const listed: ListedJournal[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const read = await readJournal(file);
    if (read.kind === 'found') listed.push({ file, journal: read.journal });
    if (read.kind === 'unreadable') listed.push({ file, problem: read.problem });
  }
  return listed;
}

/** The journal in `text`, or why it is not one. */
export function parseJournal(text: string): UploadJournal | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON (torn or corrupted)';
  }
  if (typeof value !== 'object' || value === null) return 'not a journal object';
  const j = value as Record<string, unknown>;
  if (j['version'] !== JOURNAL_VERSION) return `unknown journal version ${String(j['version'])}`;
  const strings = ['target', 'key', 'uploadId', 'started', 'hostname'];
  const bad = strings.find((k) => typeof j[k] !== 'string' || j[k] === '');
  if (bad !== undefined) return `field ${bad} is missing or not a string`;
  if (!isPositiveInteger(j['partSize']) || !isPositiveInteger(j['pid'])) {
    return 'partSize or pid is not a positive integer';
  }
  if (!isPipeline(j['pipeline'])) return 'pipeline is not a list of argv lists';
  if (!isStringRecord(j['metadata'])) return 'metadata is not a map of strings';
  if (j['storageClass'] !== undefined && typeof j['storageClass'] !== 'string') {
    return 'storageClass is not a string';
  }
  return j as unknown as UploadJournal;
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isPipeline(v: unknown): v is string[][] {
  return (
    Array.isArray(v) &&
    v.every((argv) => Array.isArray(argv) && argv.every((a) => typeof a === 'string'))
  );
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    if (!['EINVAL', 'ENOTSUP', 'EOPNOTSUPP'].includes(errnoOf(err) ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A journal that cannot be read or written: the state directory is the user's to fix. */
function journalError(what: string, file: string, err: unknown): Z3Error {
  const why = err instanceof Error ? err.message : String(err);
  return new Z3Error(`${what} the resume journal ${file}: ${why}`, EXIT.COMMAND_FAILED, {
    cause: err,
    hint: 'check STATE_DIR: it must be a directory this user can write',
  });
}
