/**
 * The chunk log of a local write: which chunks of the temporary data file are complete and on
 * disk, so that a write a killed run left can be resumed (`listChunks`, `resumeWriter`).
 *
 * Why a log and not the data file alone: the data file cannot tell a chunk that was written
 * from a hole or a torn write. A chunk is logged only after its bytes were written and
 * fdatasync'ed, and a chunk written again is first dropped from the log (fsync'ed), so every
 * record in the log names bytes that are on disk, with their MD5. The log is JSON Lines:
 * a header `{"chunkSize":N}`, then `{"n":1,"size":S,"md5":"<hex>"}` or `{"n":1,"drop":true}`.
 * Appends are serialized; a torn last line (a crash mid-append) is cut off when the log is
 * opened for writing, and ignored when it is only read.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readFile } from 'node:fs/promises';
import { StorageError } from '../../errors.js';
import { fsError, hasCode } from './fs-error.js';
import { FILE_MODE } from './fs-ops.js';

/** What the log says of one chunk: on disk, `size` bytes with this binary MD5. */
export interface LoggedChunk {
  size: number;
  md5: Buffer;
}

/** A parsed log: the chunk size of the write, and its complete chunks by number. */
export interface ChunkLogState {
  chunkSize: number;
  chunks: Map<number, LoggedChunk>;
  /** Bytes of the file up to the end of its last complete line. */
  validLength: number;
}

export class ChunkLog {
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
  ) {}

  /** A new log for a write in chunks of `chunkSize` (fails if the file exists). */
  static async create(file: string, chunkSize: number): Promise<ChunkLog> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx', FILE_MODE);
    } catch (err) {
      throw fsError('creating', file, err);
    }
    const log = new ChunkLog(handle, file);
    await log.append({ chunkSize });
    return log;
  }

  /** The log of an existing write, its torn tail cut off, opened to append; and its state. */
  static async reopen(file: string): Promise<{ log: ChunkLog; state: ChunkLogState }> {
    const state = await readChunkLog(file);
    if (state === undefined) throw new StorageError(`${file}: no chunk log`, { isNotFound: true });
    let handle: FileHandle;
    try {
      handle = await open(file, 'r+');
      await handle.truncate(state.validLength);
      await handle.close();
      handle = await open(file, 'a');
    } catch (err) {
      throw fsError('opening', file, err);
    }
    return { log: new ChunkLog(handle, file), state };
  }

  /** Record chunk `n` as on disk (call after its bytes were fdatasync'ed). */
  record(n: number, chunk: LoggedChunk): Promise<void> {
    return this.append({ n, size: chunk.size, md5: chunk.md5.toString('hex') });
  }

  /** Forget chunk `n` before its bytes are written again. */
  drop(n: number): Promise<void> {
    return this.append({ n, drop: true });
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }

  /** Append one line and fsync it, after every earlier append. */
  private append(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const next = this.tail.then(async () => {
      try {
        await this.handle.appendFile(line);
        await this.handle.sync();
      } catch (err) {
        throw fsError('writing', this.file, err);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** The state of the log at `file`; undefined when there is none (or no valid header). */
export async function readChunkLog(file: string): Promise<ChunkLogState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw fsError('reading', file, err);
  }
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n').slice(0, -1);
  const header = parseLine(lines[0]);
  const chunkSize = header?.['chunkSize'];
  if (typeof chunkSize !== 'number') return undefined;
  const chunks = new Map<number, LoggedChunk>();
  for (const line of lines.slice(1)) applyRecord(chunks, parseLine(line));
  return { chunkSize, chunks, validLength: Buffer.byteLength(text.slice(0, end)) };
}

function applyRecord(
  chunks: Map<number, LoggedChunk>,
  r: Record<string, unknown> | undefined,
): void {
  const n = r?.['n'];
  if (r === undefined || typeof n !== 'number') return;
  if (r['drop'] === true) {
    chunks.delete(n);
    return;
  }
  const { size, md5 } = r;
  if (typeof size !== 'number' || typeof md5 !== 'string' || !/^[0-9a-f]{32}$/.test(md5)) return;
  chunks.set(n, { size, md5: Buffer.from(md5, 'hex') });
}

function parseLine(line: string | undefined): Record<string, unknown> | undefined {
  if (line === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
