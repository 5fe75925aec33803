/**
 * An upload that survives its run (issue 9 items 1 and 4), for `z3 backup` and `pput --resume`:
 * before it starts, the journal of the same target and key decides whether a pending upload is
 * taken up (decide.ts); a fresh upload is journaled as soon as its id is known; a success or a
 * failure that cannot be resumed removes the journal; an interruption (a signal) or a storage
 * outage that outlasted the retries keeps the journal and the pending upload for the next run,
 * and says so. kill -9 runs none of this and leaves both, which is what the next run needs.
 *
 * The report lines (on stderr):
 *   resuming <key>: upload <id> has 40 parts (2.5 GiB) on the server; verifying them …  (start)
 *   resuming <key>: 37 of 80 parts (2.3 GiB) already on the server, verified            (end)
 * The second comes at the end, when the number of parts is known (`resumeReport`); when a part
 * differed it adds `; part 38 differed, so it and every later part were sent again`.
 */
import { hostname } from 'node:os';
import { InterruptedError, StorageError } from '../errors.js';
import type { ChunkWriter, ListedChunk } from '../storage/backend.js';
import { formatBytes } from '../ui/progress.js';
import { uploadStream, type UploadResult, type UploadStreamOptions } from '../transfer/uploader.js';
import { decideResume, type ResumeDecision } from './decide.js';
import { journalPath, removeJournal, writeJournal, type UploadJournal } from './journal.js';
import type { ResumeTally } from './part-skip.js';

/** What the upload is, as the journal records it and the resume decision compares it. */
export type ResumableTarget = Pick<
  UploadStreamOptions,
  'backend' | 'key' | 'metadata' | 'storageClass' | 'partSize' | 'ifNoneMatch'
>;

export interface ResumableUploadInput {
  /** The upload, as for `uploadStream` (its resume hooks are set here). */
  upload: Omit<UploadStreamOptions, 'resume' | 'onOpened' | 'keepPending'>;
  /** STATE_DIR. */
  stateDir: string;
  /** The argv of each stage that produces the bytes; [] when the caller cannot tell (pput). */
  pipeline: string[][];
  /** A warning line (without the `z3: warning: ` prefix). */
  warn: (message: string) => void;
  /** An information line on stderr. */
  say: (line: string) => void;
  now: () => number;
}

/** What `prepareResumable` found: where the journal goes, and the pending upload to take up. */
export interface PreparedUpload {
  file: string;
  resume?: { writer: ChunkWriter; chunks: ListedChunk[] } | undefined;
  /** The journal of the upload taken up (its metadata is what the server has). */
  journal?: UploadJournal | undefined;
}

/**
 * Decide, before the pipeline starts, whether a pending upload is taken up; say so (the start
 * line) or warn why not. Run it before any progress is drawn.
 */
export async function prepareResumable(
  input: Omit<ResumableUploadInput, 'upload' | 'now'> & { upload: ResumableTarget },
): Promise<PreparedUpload> {
  const { upload } = input;
  const file = journalPath(input.stateDir, upload.backend.location, upload.key);
  const decision = await decide(input, file);
  if (decision.kind !== 'resume') return { file };
  return { file, resume: await takeUp(input, decision), journal: decision.journal };
}

/**
 * Upload with a journal, taking up `prepared.resume` when there is one. The end report
 * (`resumeReport`) is the caller's to print, after its progress line.
 */
export async function uploadResumable(
  prepared: PreparedUpload,
  input: ResumableUploadInput,
): Promise<UploadResult> {
  const { upload } = input;
  const { file, resume } = prepared;
  let journaled = resume !== undefined;
  // The part numbers on the server: for the message of an interrupted run.
  const onServer = new Set(resume?.chunks.map((c) => c.number));
  const onOpened = async (writer: ChunkWriter): Promise<void> => {
    journaled = await journal(input, file, writer.id);
  };
  const onPart: UploadStreamOptions['onPart'] = (part) => {
    onServer.add(part.number);
    upload.onPart?.(part);
  };
  const isKept = (err: unknown): boolean => journaled && isResumable(err, upload.signal);
  try {
    const result = await uploadStream({ ...upload, resume, onOpened, keepPending: isKept, onPart });
    await forget(input, file);
    return result;
  } catch (err) {
    if (!isKept(err)) await forget(input, file);
    else input.say(`${keptReport(err, onServer.size, upload.key)} (journal ${file})`);
    throw err;
  }
}

/** The decision; a journal that cannot be read is a warning, and the upload starts afresh. */
async function decide(
  input: Pick<ResumableUploadInput, 'warn'> & { upload: ResumableTarget; pipeline: string[][] },
  file: string,
): Promise<ResumeDecision> {
  const { upload } = input;
  try {
    const decision = await decideResume({
      backend: upload.backend,
      file,
      identity: {
        target: upload.backend.location,
        key: upload.key,
        pipeline: input.pipeline,
        partSize: upload.partSize,
        metadata: upload.metadata,
        storageClass: upload.storageClass,
      },
    });
    if (decision.kind === 'fresh' && decision.warning !== undefined) input.warn(decision.warning);
    return decision;
  } catch (err) {
    if (err instanceof StorageError) throw err; // the server failed: the upload would too
    input.warn(`${(err as Error).message}; starting the upload afresh`);
    return { kind: 'fresh' };
  }
}

/** The resumed writer and its chunks, after saying what is on the server. */
async function takeUp(
  input: Pick<ResumableUploadInput, 'say'> & { upload: ResumableTarget },
  decision: Extract<ResumeDecision, { kind: 'resume' }>,
): Promise<{ writer: ChunkWriter; chunks: ListedChunk[] }> {
  const { upload } = input;
  const { journal, chunks } = decision;
  const writer = await upload.backend.resumeWriter({
    key: upload.key,
    id: journal.uploadId,
    metadata: upload.metadata,
    storageClass: upload.storageClass,
    chunkSize: upload.partSize,
    ifNoneMatch: upload.ifNoneMatch,
  });
  const bytes = chunks.reduce((sum, c) => sum + c.size, 0);
  input.say(
    `resuming ${upload.key}: upload ${journal.uploadId} has ${chunks.length} parts ` +
      `(${formatBytes(bytes)}) on the server; verifying them against the regenerated stream`,
  );
  return { writer, chunks };
}

/** Write the journal of a fresh upload; false (with a warning) when it cannot be written. */
async function journal(input: ResumableUploadInput, file: string, id: string): Promise<boolean> {
  const { upload } = input;
  const entry: UploadJournal = {
    version: 1,
    target: upload.backend.location,
    key: upload.key,
    uploadId: id,
    pipeline: input.pipeline,
    partSize: upload.partSize,
    metadata: upload.metadata,
    ...(upload.storageClass !== undefined ? { storageClass: upload.storageClass } : {}),
    started: new Date(input.now()).toISOString(),
    pid: process.pid,
    hostname: hostname(),
  };
  try {
    await writeJournal(file, entry);
    return true;
  } catch (err) {
    input.warn(`${(err as Error).message}; this upload cannot be resumed if interrupted`);
    return false;
  }
}

async function forget(input: ResumableUploadInput, file: string): Promise<void> {
  await removeJournal(file).catch((err: unknown) => input.warn((err as Error).message));
}

/**
 * Whether a failure leaves something worth resuming: an interruption (the run's signal, which
 * may surface as a stage killed by it), or a storage failure that was retryable but outlasted
 * the retries (an outage). Anything else (a wrong object, a conflict, bad input) aborts.
 */
export function isResumable(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted === true || err instanceof InterruptedError) return true;
  return err instanceof StorageError && err.isRetryable;
}

function keptReport(err: unknown, parts: number, key: string): string {
  const what = err instanceof InterruptedError ? 'interrupted' : 'upload failed';
  return `${what}; ${parts} parts of ${key} kept for the next run`;
}

/** `resuming <key>: 37 of 80 parts (2.3 GiB) already on the server, verified[; …]`. */
export function resumeReport(key: string, result: UploadResult, tally: ResumeTally): string {
  const head =
    `resuming ${key}: ${tally.parts} of ${result.parts} parts (${formatBytes(tally.bytes)}) ` +
    'already on the server, verified';
  if (tally.firstMismatch === undefined) return head;
  return `${head}; part ${tally.firstMismatch} differed, so it and every later part were sent again`;
}
