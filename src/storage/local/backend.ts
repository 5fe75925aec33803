/**
 * A backend in a local directory (a backup disk, an NFS mount): `BACKUP_DIR`. The object with
 * key K is the file `<root>/K`, each `/`-separated segment a directory, so the tree looks like
 * the bucket would; its user metadata and S3-style ETag live in the sidecar `<root>/K.z3meta`
 * (sidecar.ts). An object appears only when its write completes (the rename in writer.ts);
 * temporaries and sidecars never list.
 *
 * One thing S3 allows and a directory does not: a key that is also the "folder" of other keys
 * (`a` and `a/b`). Writing the second of them fails with the file system's error (EISDIR,
 * ENOTDIR); z3's keys (`<prefix>/<dataset>@<snapshot>`) never collide this way.
 *
 * Listings are not stable in the sense of BackendFeatures.hasStableListing: a file can be
 * replaced outside z3 (rsync, a disk restored from a copy) while its sidecar's ETag stays the
 * same, so no metadata cache keyed by it. Everything is asynchronous I/O through FileHandles; nothing blocks the event loop.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../../errors.js';
import type {
  Backend,
  BackendFeatures,
  BackendLimits,
  ChunkWriter,
  CommittedObject,
  ListOptions,
  ListedChunk,
  ListedObject,
  ObjectInfo,
  OpenWriterInput,
  PendingWrite,
  PutInput,
  ReadRangeInput,
  ResumeWriterInput,
} from '../backend.js';
import { FILE_LIMITS } from '../limits.js';
import { putViaWriter } from '../put.js';
import { changedWhileReading, compareKeys, isSameEtag, lowerCaseKeys } from '../rules.js';
import { fsError, hasCode } from './fs-error.js';
import {
  createTemp,
  lstatIfPresent,
  readFully,
  removeEmptyDirs,
  requireRoot,
  unlinkIfPresent,
} from './fs-ops.js';
import {
  isReservedName,
  isStorableKey,
  keyPaths,
  parseTempDataName,
  SIDECAR_SUFFIX,
  tempChunkLogName,
  tempDataName,
  tempSidecarName,
} from './paths.js';
import { readSidecar } from './sidecar.js';
import { walkFiles } from './walk.js';
import { LocalChunkWriter } from './writer.js';
import { ChunkLog, type LoggedChunk } from './chunk-log.js';
import { listLoggedChunks, openTempData, reopenLog } from './pending-write.js';

/** A write id: 16 hex digits (`abortPending` refuses anything else, so an id is never a path). */
const WRITE_ID = /^[0-9a-f]{16}$/;

export class LocalBackend implements Backend {
  readonly kind = 'local';
  readonly location: string;
  readonly limits: BackendLimits = FILE_LIMITS;
  readonly features: BackendFeatures = { hasStableListing: false, conditionalCommit: true };
  /** Writes of this instance still open, by id: abortPending closes their file too. */
  private readonly openWriters = new Map<string, LocalChunkWriter>();

  /** @param root the backup directory: an absolute path (it must exist when used). */
  constructor(private readonly root: string) {
    this.location = root;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const paths = keyPaths(this.root, key);
    const stats = await this.lstatObject(paths.file);
    if (stats === undefined) return undefined;
    const sidecar = await readSidecar(paths.sidecar, stats.size);
    return {
      key,
      size: stats.size,
      etag: sidecar?.etag ?? '',
      metadata: sidecar?.metadata ?? {},
    };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListedObject> {
    const { startAfter } = options;
    for await (const file of walkFiles(this.root, { prefix, startAfter })) {
      if (isReservedName(file.name) || !file.key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(file.key, startAfter) <= 0) continue;
      const stats = await this.lstatObject(file.path);
      if (stats === undefined) continue; // removed since the directory was read
      const sidecar = await readSidecar(file.path + SIDECAR_SUFFIX, stats.size);
      yield {
        key: file.key,
        size: stats.size,
        etag: sidecar?.etag ?? '',
        lastModified: stats.mtime.toISOString(),
      };
    }
  }

  async readRange(input: ReadRangeInput): Promise<Uint8Array> {
    input.signal?.throwIfAborted();
    const { key, start, end } = input;
    const paths = keyPaths(this.root, key);
    const what = `reading bytes ${start}-${end} of ${key}`;
    const length = end - start + 1;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || length < 1) {
      throw new StorageError(`${what}: not a byte range`);
    }
    if (input.target !== undefined && input.target.byteLength < length) {
      throw new StorageError(`${what}: the target holds only ${input.target.byteLength} bytes`);
    }
    await input.pace?.(length, input.signal);
    const handle = await this.openObject(paths.file, key);
    try {
      const stats = await handle.stat();
      if (end >= stats.size) {
        throw new StorageError(`${what}: outside the object (${stats.size} bytes)`);
      }
      if (input.ifMatch !== undefined) await checkVersion(paths.sidecar, stats.size, input);
      const target = input.target ?? Buffer.allocUnsafe(length);
      await readFully({ handle, target, length, position: start, what });
      return target.subarray(0, length);
    } catch (err) {
      throw fsError(what, paths.file, err);
    } finally {
      await handle.close();
    }
  }

  async remove(key: string): Promise<void> {
    const paths = keyPaths(this.root, key);
    // The data first: a crash in between leaves a stray sidecar, which nothing lists.
    await this.unlinkObject(paths.file);
    await unlinkIfPresent(paths.sidecar);
    await removeEmptyDirs(this.root, paths.dir);
  }

  /** One chunk and the rename: a local commit is one step anyway (../put.ts). */
  put(input: PutInput): Promise<CommittedObject> {
    return putViaWriter(this, input);
  }

  async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    const { key, chunkSize } = input;
    const paths = keyPaths(this.root, key);
    this.checkChunkSize(key, chunkSize);
    await requireRoot(this.root);
    const id = randomBytes(8).toString('hex');
    const handle = await createTemp(paths.dir, path.join(paths.dir, tempDataName(paths.name, id)));
    let log: ChunkLog;
    try {
      log = await ChunkLog.create(
        path.join(paths.dir, tempChunkLogName(paths.name, id)),
        chunkSize,
      );
    } catch (err) {
      await handle.close();
      await unlinkIfPresent(path.join(paths.dir, tempDataName(paths.name, id)));
      throw err;
    }
    return this.track(input, { id, handle, log });
  }

  /**
   * Take up a write a killed run left: its temporary data file, and the chunks its log names
   * (chunk-log.ts). A missing write, or one written in chunks of another size, is refused; one
   * still open in this instance is taken over (its writer is closed).
   */
  async resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    const { key, id, chunkSize } = input;
    const paths = keyPaths(this.root, key);
    this.checkChunkSize(key, chunkSize);
    if (!WRITE_ID.test(id))
      throw new StorageError(`resuming write ${id} of ${key}: no such write`, { isNotFound: true });
    // Still open here (a test, or a caller that gave up on it): this writer takes over.
    await this.openWriters.get(id)?.detach();
    const dataFile = path.join(paths.dir, tempDataName(paths.name, id));
    const handle = await openTempData(dataFile, key, id);
    try {
      const logFile = path.join(paths.dir, tempChunkLogName(paths.name, id));
      const { log, state } = await reopenLog(logFile, chunkSize);
      if (state.chunkSize !== chunkSize) {
        await log.close();
        throw new StorageError(
          `resuming write ${id} of ${key}: it was written in chunks of ${state.chunkSize} bytes, not ${chunkSize}`,
        );
      }
      return this.track(input, { id, handle, log, written: state.chunks });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The chunks the write's log names, within its data file (pending-write.ts). */
  listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
    if (!WRITE_ID.test(pending.id)) {
      const what = `listing the chunks of write ${pending.id} of ${pending.key}`;
      return Promise.reject(new StorageError(`${what}: no such write`, { isNotFound: true }));
    }
    return listLoggedChunks(keyPaths(this.root, pending.key), pending);
  }

  private checkChunkSize(key: string, chunkSize: number): void {
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > this.limits.maxPartSize) {
      throw new StorageError(
        `writing ${key}: chunk size ${chunkSize} is outside 1 … ${this.limits.maxPartSize}`,
      );
    }
  }

  /** A writer on an open temporary, known to this instance until it settles. */
  private track(
    input: OpenWriterInput,
    open: { id: string; handle: FileHandle; log: ChunkLog; written?: Map<number, LoggedChunk> },
  ): LocalChunkWriter {
    const { key, chunkSize } = input;
    const { id } = open;
    const writer = new LocalChunkWriter({
      ...open,
      root: this.root,
      key,
      paths: keyPaths(this.root, key),
      chunkSize,
      maxParts: this.limits.maxParts,
      metadata: lowerCaseKeys(input.metadata),
      ifNoneMatch: input.ifNoneMatch === true,
      onSettled: () => this.openWriters.delete(id),
    });
    this.openWriters.set(id, writer);
    return writer;
  }

  async listPending(prefix: string): Promise<PendingWrite[]> {
    const found: PendingWrite[] = [];
    for await (const file of walkFiles(this.root, { prefix })) {
      const temp = parseTempDataName(file.name);
      if (temp === undefined) continue;
      const key = file.dirKey + temp.name;
      if (!key.startsWith(prefix) || !isStorableKey(key)) continue;
      const stats = await lstatIfPresent(file.path);
      if (stats === undefined) continue;
      found.push({ key, id: temp.id, started: stats.mtime.toISOString() });
    }
    return found.sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.id, b.id));
  }

  async abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void> {
    const paths = keyPaths(this.root, pending.key);
    if (!WRITE_ID.test(pending.id)) return; // not an id of ours: no such write
    const writer = this.openWriters.get(pending.id);
    if (writer?.key === pending.key) return writer.abort();
    await unlinkIfPresent(path.join(paths.dir, tempDataName(paths.name, pending.id)));
    await unlinkIfPresent(path.join(paths.dir, tempSidecarName(paths.name, pending.id)));
    await unlinkIfPresent(path.join(paths.dir, tempChunkLogName(paths.name, pending.id)));
    await removeEmptyDirs(this.root, paths.dir);
  }

  /** The object's stats; undefined when there is no regular file at `file` (root checked). */
  private async lstatObject(file: string): Promise<Stats | undefined> {
    const stats = await lstatIfPresent(file);
    if (stats === undefined) await requireRoot(this.root);
    return stats?.isFile() === true ? stats : undefined;
  }

  /** `file` opened for reading; a missing object is a StorageError with `isNotFound`. */
  private async openObject(file: string, key: string): Promise<FileHandle> {
    try {
      // O_NOFOLLOW: only regular files are objects, as in stat and list.
      const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      if ((await handle.stat()).isFile()) return handle;
      await handle.close();
    } catch (err) {
      if (!hasCode(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) throw fsError('opening', file, err);
    }
    await requireRoot(this.root);
    throw new StorageError(`reading ${key}: no such key`, { isNotFound: true });
  }

  /** Unlink an object's file; a missing one, or a directory standing at the key, is no object. */
  private async unlinkObject(file: string): Promise<void> {
    try {
      await unlinkIfPresent(file);
    } catch (err) {
      const cause = err instanceof StorageError ? err.cause : err;
      if (!hasCode(cause, 'EISDIR')) throw err;
    }
  }
}

/**
 * Fail unless the sidecar gives the object the ETag `input.ifMatch`, for a file already open
 * with `size` bytes. Why reading the sidecar after opening is enough: a commit unlinks the old
 * sidecar before it renames the new data into place (writer.ts), so once the open file is a
 * newer version, the old ETag can no longer be read beside it. A file replaced outside z3 with
 * its sidecar kept is caught only when its size changed (sidecar.ts).
 */
async function checkVersion(
  sidecarFile: string,
  size: number,
  input: Pick<ReadRangeInput, 'key' | 'ifMatch'>,
): Promise<void> {
  const { key, ifMatch = '' } = input;
  const sidecar = await readSidecar(sidecarFile, size);
  if (!isSameEtag(ifMatch, sidecar?.etag ?? '')) throw changedWhileReading(key, ifMatch);
}

/** A backend on `root`, the backup directory (an absolute path of an existing directory). */
export function createLocalBackend(root: string): LocalBackend {
  if (!path.isAbsolute(root)) {
    throw new StorageError(`BACKUP_DIR ${root} is not an absolute path`, {
      hint: 'give BACKUP_DIR (--backup-dir) as a path starting with /',
    });
  }
  return new LocalBackend(path.normalize(root));
}
