/**
 * Whether an upload about to start can take up a pending one (issue 9): the journal at its path
 * must name the same target, key, pipeline, part size, metadata and storage class, its upload
 * must still be on the server, and the server's part ETags must be MD5s (they are not under
 * SSE-KMS, and then no part can be verified). Anything else starts afresh, with a one-line
 * warning saying why, and aborts the stale upload when there is one to abort: it can never be
 * completed, and a pending upload is billed and invisible.
 */
import type { Backend, ListedChunk } from '../storage/backend.js';
import { readJournal, type UploadJournal } from './journal.js';
import { etagsAreMd5 } from './part-skip.js';

/** What makes the parts of an earlier upload reusable: all of it must be equal. */
export interface UploadIdentity {
  target: string;
  key: string;
  pipeline: string[][];
  partSize: number;
  metadata: Record<string, string>;
  storageClass?: string | undefined;
}

export type ResumeDecision =
  | { kind: 'fresh'; warning?: string | undefined }
  | { kind: 'resume'; journal: UploadJournal; chunks: ListedChunk[] };

/** Decide from the journal at `file` and the server; see the module comment. */
export async function decideResume(input: {
  backend: Backend;
  file: string;
  identity: UploadIdentity;
}): Promise<ResumeDecision> {
  const { backend, file, identity } = input;
  const read = await readJournal(file);
  if (read.kind === 'none') return { kind: 'fresh' };
  if (read.kind === 'unreadable') {
    return fresh(`ignoring the unreadable resume journal ${file} (${read.problem})`);
  }
  const { journal } = read;
  const stale = { key: journal.key, id: journal.uploadId };
  const differs = difference(journal, identity);
  if (differs !== undefined) {
    if (journal.target === identity.target) await backend.abortPending(stale);
    return fresh(
      `the pending upload ${stale.id} of ${stale.key} had another ${differs}; aborted it`,
    );
  }
  let chunks: ListedChunk[];
  try {
    chunks = await backend.listChunks(stale);
  } catch (err) {
    if (!(err as { isNotFound?: unknown }).isNotFound) throw err;
    return fresh(`the pending upload ${stale.id} of ${stale.key} is gone from the server`);
  }
  if (!etagsAreMd5(chunks)) {
    await backend.abortPending(stale);
    return fresh(
      `the parts of pending upload ${stale.id} of ${stale.key} have ETags that are not MD5s ` +
        '(SSE-KMS?), so they cannot be verified; aborted it',
    );
  }
  return { kind: 'resume', journal, chunks };
}

function fresh(why: string): ResumeDecision {
  return { kind: 'fresh', warning: `${why}; starting the upload afresh` };
}

/** The first field in which the journal's upload differs from the one to start, if any. */
function difference(journal: UploadJournal, identity: UploadIdentity): string | undefined {
  if (journal.target !== identity.target) return 'target';
  if (journal.key !== identity.key) return 'key';
  if (!sameJson(journal.pipeline, identity.pipeline)) return 'pipeline';
  if (journal.partSize !== identity.partSize) return 'part size';
  if (!sameJson(sorted(journal.metadata), sorted(identity.metadata))) return 'metadata';
  if (journal.storageClass !== identity.storageClass) return 'storage class';
  return undefined;
}

function sorted(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
