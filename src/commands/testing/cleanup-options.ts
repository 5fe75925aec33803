/**
 * The options of the `z3 cleanup` unit tests (every flag at its default unless given), ports
 * with a STATE_DIR of their own, and a journal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOURNAL_VERSION, type UploadJournal } from '../../resume/journal.js';
import type { Backend } from '../../storage/backend.js';
import type { CleanupOptions } from '../cleanup.js';
import { testPorts, type TestPorts } from './ports.js';

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

const stateDirs: string[] = [];

/** Ports on `backend` with an empty STATE_DIR of their own (`removeStateDirs` removes it). */
export function portsOn(backend: Backend): TestPorts & { stateDir: string } {
  const stateDir = mkdtempSync(join(tmpdir(), 'z3-cleanup-state-'));
  stateDirs.push(stateDir);
  return { ...testPorts({ backend, zfs: '/bin/false', env: { STATE_DIR: stateDir } }), stateDir };
}

/** Remove the STATE_DIRs `portsOn` made (for `afterEach`). */
export function removeStateDirs(): void {
  stateDirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
}
