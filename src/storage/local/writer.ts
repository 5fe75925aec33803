/**
 * A chunk writer into one temporary file beside the object: chunk n is written at its own offset,
 * (n - 1) × chunkSize, so chunks may come in any order, concurrently, and again (the same bytes
 * land in the same place). `complete` makes the file the object.
 *
 * Why this commit order (the object and its sidecar are two files, and no file system renames
 * two files at once):
 *   1. fsync the data, write the new sidecar to a temporary and fsync it;
 *   2. unlink the old sidecar, fsync the directory;
 *   3. rename the data onto the key, fsync the directory (the commit point);
 *   4. rename the new sidecar into place, fsync the directory.
 * A crash leaves the old object with its sidecar (before 2), or an object with no sidecar
 * (between 2 and 4: it lists with etag `""` and no metadata, which the layers above take for
 * "not a z3 backup"), or the new object with its sidecar. It never pairs an object with another
 * write's metadata, which writing the sidecar in place before the rename would do whenever the
 * old and the new object have the same size. A sidecar is also trusted only while its `size`
 * matches the object's (sidecar.ts), against stray or hand-copied sidecars.
 *
 * A conditional commit (`ifNoneMatch`) replaces steps 2 and 3: it links the data to the key,
 * which fails with EEXIST, atomically, when any file is there, and then unlinks the temporary.
 * It leaves the old sidecar alone, since it may be another writer's, committed a moment ago;
 * step 4 replaces a stray one. On a file system without hard links (FAT, some FUSE) it falls
 * back to a check then a rename, which two writers racing within the same moment can pass both.
 *
 * Temporaries are named `.<name>.<id>.z3tmp`, `.<name>.<id>.z3meta.z3tmp` and the chunk log
 * `.<name>.<id>.z3parts.z3tmp` (chunk-log.ts: which chunks are on disk, for a resume): listings
 * skip them, `listPending` reports the first. A chunk is written, fdatasync'ed, then logged;
 * one written again is dropped from the log first, so the log never names torn bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { link, rename } from 'node:fs/promises';
import path from 'node:path';
import { CommitConflictError, IntegrityError, StorageError } from '../../errors.js';
import type { ChunkWriter, CommittedObject, WriteChunkInput, WrittenChunk } from '../backend.js';
import { multipartEtag } from '../etag.js';
import { checkCompleteChunks, verifyChunkDigest, writtenMd5 } from '../rules.js';
import { fsError, hasCode } from './fs-error.js';
import {
  lstatIfPresent,
  removeEmptyDirs,
  syncDir,
  unlinkIfPresent,
  writeFileSynced,
} from './fs-ops.js';
import type { KeyPaths } from './paths.js';
import { tempChunkLogName, tempDataName, tempSidecarName } from './paths.js';
import type { ChunkLog, LoggedChunk } from './chunk-log.js';
import { encodeSidecar } from './sidecar.js';

export interface LocalWriterOptions {
  root: string;
  key: string;
  id: string;
  paths: KeyPaths;
  /** The temporary data file, open for writing (the writer closes it). */
  handle: FileHandle;
  chunkSize: number;
  maxParts: number;
  /** Lower-cased already. */
  metadata: Record<string, string>;
  /** Commit only if no object is at the key (OpenWriterInput.ifNoneMatch). */
  ifNoneMatch: boolean;
  /** Called once the write is committed or discarded (the backend forgets it then). */
  onSettled: () => void;
  /** The write's chunk log (the writer closes and removes it). */
  log: ChunkLog;
  /** Chunks already on disk (a resumed write: what its log says). */
  written?: Map<number, LoggedChunk> | undefined;
}

/** What the writer remembers of a written chunk, to check `complete`'s list against. */
type ChunkRecord = LoggedChunk;

type WriterState = 'open' | 'completing' | 'committed' | 'aborted' | 'detached';

export class LocalChunkWriter implements ChunkWriter {
  readonly key: string;
  readonly id: string;
  /** Verified here; MD5 is needed for the ETag anyway. */
  readonly digest = 'md5';
  private readonly written: Map<number, ChunkRecord>;
  private readonly tempData: string;
  private readonly tempLog: string;
  private readonly tempSidecar: string;
  private state: WriterState = 'open';
  /** The data file was renamed onto the key (step 3 done): a retried complete resumes after it. */
  private isRenamed = false;
  /** The sidecar was renamed into place too (step 4 done). */
  private isSidecarMoved = false;
  private isClosed = false;
  private completion: Promise<CommittedObject> | undefined;

  constructor(private readonly options: LocalWriterOptions) {
    this.key = options.key;
    this.id = options.id;
    this.written = new Map(options.written);
    this.tempLog = path.join(options.paths.dir, tempChunkLogName(options.paths.name, options.id));
    this.tempData = path.join(options.paths.dir, tempDataName(options.paths.name, options.id));
    this.tempSidecar = path.join(
      options.paths.dir,
      tempSidecarName(options.paths.name, options.id),
    );
  }

  async writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    input.signal?.throwIfAborted();
    const what = `writing chunk ${input.number} of ${this.key}`;
    this.requireOpen(what);
    this.checkChunk(input, what);
    const digest = verifyChunkDigest(input, what);
    // a local write cannot be paced within the call: all its bytes are paid for before it
    await input.pace?.(input.body.byteLength, input.signal);
    const position = (input.number - 1) * this.options.chunkSize;
    const { handle, log } = this.options;
    if (this.written.delete(input.number)) await log.drop(input.number);
    try {
      await writeAll(handle, input.body, position);
      await handle.datasync();
    } catch (err) {
      throw fsError(`${what}: writing`, this.tempData, err);
    }
    const record = { size: input.body.byteLength, md5: digest };
    await log.record(input.number, record);
    this.written.set(input.number, record);
    const etag = `"${digest.toString('hex')}"`;
    return { number: input.number, size: input.body.byteLength, md5: digest, etag };
  }

  /**
   * See ChunkWriter.complete. A chunk list that disagrees with what was written is an
   * IntegrityError and discards the write; any other failure before the commit point leaves
   * the writer open, so that complete can be retried or the write aborted.
   */
  async complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    if (this.state === 'committed' && this.completion !== undefined) return this.completion;
    this.requireOpen(`completing ${this.key}`);
    this.state = 'completing';
    this.completion = this.commit(chunks);
    try {
      const committed = await this.completion;
      this.state = 'committed';
      this.options.onSettled();
      return committed;
    } catch (err) {
      this.state = 'open';
      if (err instanceof IntegrityError) await this.discard();
      throw err;
    }
  }

  /**
   * Close the files and let go of the write without discarding it, for a writer that
   * `resumeWriter` takes over; this one refuses every call after.
   */
  async detach(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'detached';
    this.options.onSettled();
    await this.close();
  }

  /** See ChunkWriter.abort; after a successful complete there is nothing to discard. */
  async abort(): Promise<void> {
    await this.completion?.catch(() => undefined);
    if (this.state === 'committed' || this.state === 'aborted' || this.state === 'detached') return;
    await this.discard();
  }

  private async commit(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    const ordered = checkCompleteChunks(chunks, this.key);
    const size = this.checkWritten(ordered);
    const etag = multipartEtag(ordered.map((c) => writtenMd5(c, this.key)));
    const { dir, file, sidecar } = this.options.paths;
    if (!this.isRenamed) {
      await this.flushData(size);
      await writeFileSynced(
        this.tempSidecar,
        encodeSidecar({ metadata: this.options.metadata, etag, size }),
      );
      if (this.options.ifNoneMatch) {
        await this.linkNew(file);
      } else {
        if (await unlinkIfPresent(sidecar)) await syncDir(dir);
        await this.move(this.tempData, file);
      }
      this.isRenamed = true;
      await syncDir(dir);
    }
    if (!this.isSidecarMoved) await this.move(this.tempSidecar, sidecar);
    this.isSidecarMoved = true;
    await syncDir(dir);
    await this.close();
    await unlinkIfPresent(this.tempLog);
    return { etag, size };
  }

  /** Cut the file to `size` (a re-sent last chunk may have been longer), check it, fsync it. */
  private async flushData(size: number): Promise<void> {
    const { handle } = this.options;
    try {
      await handle.truncate(size);
      const actual = (await handle.stat()).size;
      if (actual !== size) {
        throw new IntegrityError(`${this.key}: the file holds ${actual} bytes, expected ${size}`);
      }
      await handle.sync();
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
      throw fsError(`completing ${this.key}: flushing`, this.tempData, err);
    }
  }

  /**
   * The object's size, after checking the chunk list against what was written: the same sizes
   * and MD5s (IntegrityError), and every chunk but the last exactly chunkSize long (StorageError:
   * a shorter one would leave a hole of zeros in the file).
   */
  private checkWritten(ordered: readonly WrittenChunk[]): number {
    let size = 0;
    ordered.forEach((chunk, i) => {
      const record = this.written.get(chunk.number);
      if (record === undefined) {
        throw new StorageError(`completing ${this.key}: chunk ${chunk.number} was never written`);
      }
      const chunkMd5 = writtenMd5(chunk, this.key);
      if (record.size !== chunk.size || !record.md5.equals(chunkMd5)) {
        throw new IntegrityError(
          `${this.key}: chunk ${chunk.number} was written as ${record.size} bytes with MD5 ` +
            `${record.md5.toString('hex')}, completed as ${chunk.size} bytes with MD5 ` +
            `${Buffer.from(chunkMd5).toString('hex')}`,
        );
      }
      if (i < ordered.length - 1 && record.size !== this.options.chunkSize) {
        throw new StorageError(
          `completing ${this.key}: chunk ${chunk.number} has ${record.size} bytes; every chunk ` +
            `but the last must have the chunk size, ${this.options.chunkSize}`,
        );
      }
      size += record.size;
    });
    return size;
  }

  /** Check a chunk's number and length before anything is written. */
  private checkChunk(input: WriteChunkInput, what: string): void {
    const { chunkSize, maxParts } = this.options;
    if (!Number.isInteger(input.number) || input.number < 1 || input.number > maxParts) {
      throw new StorageError(`${what}: the chunk number must be 1 … ${maxParts}`);
    }
    if (input.body.byteLength > chunkSize) {
      throw new StorageError(
        `${what}: ${input.body.byteLength} bytes exceed the chunk size, ${chunkSize}`,
      );
    }
  }

  /**
   * Remove what this write left: its temporaries, the data file if it was already renamed onto
   * the key by a complete that then failed ("nothing of it is left"), and empty directories.
   */
  private async discard(): Promise<void> {
    this.state = 'aborted';
    this.options.onSettled();
    await this.close().catch(() => undefined);
    const { file, sidecar } = this.options.paths;
    await unlinkIfPresent(this.isRenamed ? file : this.tempData);
    await unlinkIfPresent(this.isSidecarMoved ? sidecar : this.tempSidecar);
    await unlinkIfPresent(this.tempLog);
    await removeEmptyDirs(this.options.root, this.options.paths.dir);
  }

  private async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.options.log.close();
    try {
      await this.options.handle.close();
    } catch (err) {
      throw fsError('closing', this.tempData, err);
    }
  }

  private async move(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (err) {
      throw fsError(`completing ${this.key}: renaming ${from} to`, to, err);
    }
  }

  /**
   * Put the data at `file` only if nothing is there (see the module comment): link, then unlink
   * the temporary. A file at the key is a CommitConflictError, and nothing is changed.
   */
  private async linkNew(file: string): Promise<void> {
    try {
      await link(this.tempData, file);
    } catch (err) {
      if (hasCode(err, 'EEXIST')) throw new CommitConflictError(this.key);
      if (!hasCode(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS')) {
        throw fsError(`completing ${this.key}: linking ${this.tempData} to`, file, err);
      }
      // No hard links here: the check-then-rename fallback (module comment).
      if ((await lstatIfPresent(file)) !== undefined) throw new CommitConflictError(this.key);
      return this.move(this.tempData, file);
    }
    this.isRenamed = true; // the key holds this write's data now: a retry must not link again
    await unlinkIfPresent(this.tempData);
  }

  private requireOpen(what: string): void {
    if (this.state === 'open') return;
    const why = this.state === 'completing' ? 'complete is in progress' : `it was ${this.state}`;
    throw new StorageError(`${what}: write ${this.id} is no longer open (${why})`, {
      isNotFound: this.state === 'aborted',
    });
  }
}

/** Write all of `body` at `position` (a positional write may write less than asked). */
async function writeAll(handle: FileHandle, body: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < body.byteLength) {
    const { bytesWritten } = await handle.write(
      body,
      done,
      body.byteLength - done,
      position + done,
    );
    done += bytesWritten;
  }
}
