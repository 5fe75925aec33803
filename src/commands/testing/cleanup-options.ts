/** The options of the `z3 cleanup` unit tests (every flag at its default unless given) and a journal. */
import { JOURNAL_VERSION, type UploadJournal } from '../../resume/journal.js';
import type { CleanupOptions } from '../cleanup.js';

export function cleanupOptions(extra: Partial<CleanupOptions> = {}): CleanupOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    olderThan: undefined,
    dryRun: false,
    json: false,
    ...extra,
  };
}

/** A journal of a `z3 backup` upload (src/resume/journal.ts) naming `uploadId` of `key`. */
export function journalOf(input: { target: string; key: string; uploadId: string }): UploadJournal {
  return {
    version: JOURNAL_VERSION,
    ...input,
    pipeline: [['zfs', 'send', 'tank/data@old']],
    partSize: 5 * 1024 * 1024,
    metadata: { isfull: 'true' },
    started: '2026-11-18T00:00:00.000Z',
    pid: 4242,
    hostname: 'backup-host',
  };
}
