/**
 * `z3 verify --read-data` for one object: download it with the parallel ranged reader (as
 * restore does), decompress it with the program its metadata names (restore's decompressor
 * stage), and parse the ZFS send stream in-process (src/zstream) — no `zfs` involved. A gpg
 * object whose key is not here is checked at the object level only: its bytes against its ETag.
 */
import { Writable, type Readable } from 'node:stream';
import { StorageError } from '../errors.js';
import { decompressorStage } from '../pipeline/compressors.js';
import { startPipeline } from '../pipeline/runner.js';
import { StageFailedError } from '../pipeline/stage-error.js';
import type { StageSpec } from '../pipeline/types.js';
import type { StreamGuids } from '../plan/continuity.js';
import type { RemoteSnapshot } from '../plan/types.js';
import type { Backend } from '../storage/backend.js';
import type { DownloadOptions } from '../transfer/downloader.js';
import { downloadKeys, keysStream, snapshotKeys } from '../transfer/segments-read.js';
import { ZStreamParser, type ZStreamReport } from '../zstream/parse.js';
import { checkEtagOfBytes } from './verify-etag.js';

/** What reading one object found. */
export interface DataVerdict {
  /** Why the object is not a sound stream; undefined when it is. */
  reason?: string;
  /** What was checked when it was less than the stream (gpg without its key). */
  note?: string;
  /** The stream's guids, when it parsed ok (for the chain's continuity). */
  guids?: StreamGuids;
}

export interface ReadObjectInput {
  backend: Backend;
  snapshot: RemoteSnapshot;
  /** The ETag of the object's HEAD, for the object-level check. */
  etag: string;
  chunkSize: number;
  concurrency: number;
  signal: AbortSignal;
  /** Part sizes z3 would have used for this object (CHUNK_SIZE, the size formula's). */
  partSizeHints: number[];
}

/** No secret key, or gpg not installed: the data cannot be read here, only its bytes checked. */
const GPG_CANNOT_DECRYPT = /no secret key|secret key not available|decryption failed/i;

/**
 * Read, decompress and parse the object. Resolves with the verdict for integrity failures (a
 * missing object, a bad stream, a failing decompressor); rejects for everything that says
 * nothing about the backup (storage errors, interruption, a decompressor not installed).
 */
export async function readObjectData(input: ReadObjectInput): Promise<DataVerdict> {
  const download: DownloadOptions = {
    backend: input.backend,
    key: input.snapshot.key,
    chunkSize: input.chunkSize,
    concurrency: input.concurrency,
    signal: input.signal,
  };
  try {
    const stage = decompressorStage(input.snapshot.compressor, input.snapshot.key);
    const keys = snapshotKeys(input.snapshot); // every segment of a segmented backup, in order
    if (stage === undefined) return verdictOf(await parseDownload(download, keys));
    return await readThrough(stage, { ...download, keys }, input);
  } catch (err) {
    if (err instanceof StorageError && err.isNotFound) return { reason: 'object missing' };
    throw err;
  }
}

async function readThrough(
  stage: StageSpec,
  download: DownloadOptions & { keys: string[] },
  input: ReadObjectInput,
): Promise<DataVerdict> {
  const isGpg = input.snapshot.compressor === 'gpg';
  let running;
  try {
    running = startPipeline({
      stages: [stage],
      input: keysStream(download, download.keys),
      output: 'pipe',
      signal: input.signal,
    });
  } catch (err) {
    if (isGpg && err instanceof StageFailedError && err.isNotFound) {
      return objectLevel(input, 'gpg is not installed');
    }
    throw err;
  }
  const parser = new ZStreamParser();
  await feed(running.output as Readable, parser);
  if (parser.failed) {
    running.kill();
    await running.done.catch(() => undefined);
    return verdictOf(parser.finish());
  }
  try {
    await running.done;
  } catch (err) {
    if (!(err instanceof StageFailedError)) throw err;
    if (isGpg && GPG_CANNOT_DECRYPT.test(err.stderrTail)) {
      return objectLevel(input, 'gpg key not available');
    }
    return { reason: `decompressor failed: ${err.message}` };
  }
  return verdictOf(parser.finish());
}

/**
 * Parse the object's bytes as they arrive, in a sink that is done with each chunk at its write
 * callback, so the downloader reuses its range buffers (a fresh buffer per range costs a full
 * garbage collection about every range: see src/transfer/downloader.ts). A failed parse fails
 * the sink, which stops the download.
 */
async function parseDownload(download: DownloadOptions, keys: string[]): Promise<ZStreamReport> {
  const parser = new ZStreamParser();
  const sink = new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      parser.push(chunk);
      callback(parser.failed ? new Error('not a sound send stream') : null);
    },
  });
  try {
    await downloadKeys({ ...download, sink, isSinkDoneAtCallback: true }, keys);
  } catch (err) {
    if (!parser.failed) throw err;
  }
  return parser.finish();
}

/** Push the decompressed bytes into the parser until the end or its first failure. */
async function feed(output: Readable, parser: ZStreamParser): Promise<void> {
  try {
    for await (const chunk of output) {
      parser.push(chunk as Uint8Array);
      if (parser.failed) break;
    }
  } catch {
    // The pipeline's `done` says why the output broke.
  }
}

async function objectLevel(input: ReadObjectInput, why: string): Promise<DataVerdict> {
  const note = `${why}: bytes checked against the ETag only`;
  const problem = await checkEtagOfBytes(input);
  return problem === undefined ? { note } : { reason: problem, note };
}

function verdictOf(report: ZStreamReport): DataVerdict {
  if (!report.ok) return { reason: report.reason ?? 'not a send stream' };
  return { guids: { toguid: report.toguid ?? '', fromguid: report.fromguid ?? '' } };
}
