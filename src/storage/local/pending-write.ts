/**
 * A pending local write seen from outside its writer, for a resume: its temporary data file
 * reopened, its chunk log (chunk-log.ts) reopened or read. Why the log's word is enough for
 * `listChunks`: a chunk is logged only after its bytes were fdatasync'ed; a logged chunk whose
 * range lies beyond the data file's end (a file cut short by hand) is left out all the same.
 */
import type { FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../../errors.js';
import type { ListedChunk, PendingWrite } from '../backend.js';
import { ChunkLog, readChunkLog, type LoggedChunk } from './chunk-log.js';
import { fsError, hasCode } from './fs-error.js';
import { lstatIfPresent, unlinkIfPresent } from './fs-ops.js';
import { tempChunkLogName, tempDataName, type KeyPaths } from './paths.js';

/** The temporary data file of a pending write, opened for writing; missing: `isNotFound`. */
export async function openTempData(file: string, key: string, id: string): Promise<FileHandle> {
  try {
    return await open(file, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if (!hasCode(err, 'ENOENT', 'ENOTDIR')) throw fsError('opening', file, err);
    throw new StorageError(`resuming write ${id} of ${key}: no such write`, { isNotFound: true });
  }
}

/** The write's chunk log opened to append; a new, empty one when it has none. */
export async function reopenLog(
  file: string,
  chunkSize: number,
): Promise<{ log: ChunkLog; state: { chunkSize: number; chunks: Map<number, LoggedChunk> } }> {
  if ((await readChunkLog(file)) === undefined) {
    await unlinkIfPresent(file);
    return { log: await ChunkLog.create(file, chunkSize), state: { chunkSize, chunks: new Map() } };
  }
  return ChunkLog.reopen(file);
}

/** The chunks of write `pending.id` its log names, sorted, with the quoted MD5 hex as ETag. */
export async function listLoggedChunks(
  paths: KeyPaths,
  pending: Pick<PendingWrite, 'key' | 'id'>,
): Promise<ListedChunk[]> {
  const data = await lstatIfPresent(path.join(paths.dir, tempDataName(paths.name, pending.id)));
  if (data === undefined) {
    throw new StorageError(
      `listing the chunks of write ${pending.id} of ${pending.key}: no such write`,
      { isNotFound: true },
    );
  }
  const log = await readChunkLog(path.join(paths.dir, tempChunkLogName(paths.name, pending.id)));
  if (log === undefined) return [];
  const listed: ListedChunk[] = [];
  for (const [number, chunk] of log.chunks) {
    if ((number - 1) * log.chunkSize + chunk.size > data.size) continue;
    listed.push({ number, size: chunk.size, etag: `"${chunk.md5.toString('hex')}"` });
  }
  return listed.sort((a, b) => a.number - b.number);
}
