import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { md5 } from '../storage/etag.js';
import type { ListedChunk, PendingWrite } from '../storage/backend.js';
import { MemBackend } from '../storage/mem/backend.js';
import { PassThroughBackend } from '../storage/wrappers/pass-through.js';
import { decideResume, type UploadIdentity } from './decide.js';
import {
  journalPath,
  listJournals,
  readJournal,
  removeJournal,
  writeJournal,
  type UploadJournal,
} from './journal.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'z3-state-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

const KEY = 'z3-backup/tank@zfs-auto-snap:daily-1';
const PART = 5 * 1024 * 1024;

function identity(target: string): UploadIdentity {
  return {
    target,
    key: KEY,
    pipeline: [
      ['zfs', 'send', 'tank@zfs-auto-snap:daily-1'],
      ['pigz', '-1'],
    ],
    partSize: PART,
    metadata: { isfull: 'true', size: '123' },
    storageClass: undefined,
  };
}

function journalOf(id: UploadIdentity, uploadId: string): UploadJournal {
  return {
    version: 1,
    ...id,
    uploadId,
    started: '2026-12-01T09:00:00.000Z',
    pid: 4242,
    hostname: 'host-a',
  };
}

/** A pending upload at KEY with one part, as a killed run leaves it. */
async function pendingWithOnePart(backend: MemBackend): Promise<string> {
  const writer = await backend.openWriter({ key: KEY, metadata: {}, chunkSize: PART });
  const body = new Uint8Array(100).fill(7);
  await writer.writeChunk({ number: 1, body, md5: md5(body) });
  return writer.id;
}

describe('resume journal files', () => {
  it('is written atomically: whole, no temporary left, found by listJournals', async () => {
    const file = journalPath(stateDir, 'mem:', KEY);
    const journal = journalOf(identity('mem:'), 'abc');
    await writeJournal(file, journal);
    expect(await readJournal(file)).toEqual({ kind: 'found', journal });
    expect(await readdir(path.dirname(file))).toEqual([path.basename(file)]);
    expect(await listJournals(stateDir)).toEqual([{ file, journal }]);
    await removeJournal(file);
    await removeJournal(file);
    expect(await listJournals(stateDir)).toEqual([]);
  });

  it('a torn journal is unreadable, listed with its problem, never taken for a journal', async () => {
    const file = journalPath(stateDir, 'mem:', KEY);
    await writeJournal(file, journalOf(identity('mem:'), 'abc'));
    const whole = await readFile(file, 'utf8');
    await truncate(file, Math.floor(whole.length / 2));
    expect(await readJournal(file)).toMatchObject({ kind: 'unreadable' });
    expect(await listJournals(stateDir)).toEqual([
      { file, problem: 'not valid JSON (torn or corrupted)' },
    ]);
  });

  it('a crash while a new journal was being written leaves the old one in force', async () => {
    const file = journalPath(stateDir, 'mem:', KEY);
    const journal = journalOf(identity('mem:'), 'abc');
    await writeJournal(file, journal);
    await writeFile(`${file}.999.tmp`, '{"version":1,"key":');
    expect(await readJournal(file)).toEqual({ kind: 'found', journal });
    expect((await listJournals(stateDir)).map((j) => j.file)).toEqual([file]);
  });

  it('a missing state directory has no journals', async () => {
    expect(await listJournals(path.join(stateDir, 'nothing-here'))).toEqual([]);
  });
});

describe('decideResume', () => {
  it('resumes when the journal matches and its upload is pending, with its parts', async () => {
    const backend = new MemBackend();
    const id = await pendingWithOnePart(backend);
    const file = journalPath(stateDir, backend.location, KEY);
    await writeJournal(file, journalOf(identity(backend.location), id));
    const decision = await decideResume({ backend, file, identity: identity(backend.location) });
    expect(decision).toMatchObject({ kind: 'resume', journal: { uploadId: id } });
    expect(decision.kind === 'resume' && decision.chunks.map((c) => c.number)).toEqual([1]);
  });

  it('a torn journal: starts afresh with a one-line warning', async () => {
    const backend = new MemBackend();
    const file = journalPath(stateDir, backend.location, KEY);
    await writeJournal(file, journalOf(identity(backend.location), 'x'));
    await truncate(file, 20);
    const decision = await decideResume({ backend, file, identity: identity(backend.location) });
    expect(decision.kind).toBe('fresh');
    expect(decision.kind === 'fresh' && decision.warning).toMatch(
      /^ignoring the unreadable resume journal .*; starting the upload afresh$/,
    );
  });

  it('a journal for another upload id: afresh, and the pending upload it does not name is left alone', async () => {
    const backend = new MemBackend();
    const other = await pendingWithOnePart(backend);
    const file = journalPath(stateDir, backend.location, KEY);
    await writeJournal(file, journalOf(identity(backend.location), '0123456789abcdef'));
    const decision = await decideResume({ backend, file, identity: identity(backend.location) });
    expect(decision).toEqual({
      kind: 'fresh',
      warning: `the pending upload 0123456789abcdef of ${KEY} is gone from the server; starting the upload afresh`,
    });
    expect((await backend.listPending('')).map((p) => p.id)).toEqual([other]);
  });

  it('a journal whose upload is missing on the server (aborted, expired): afresh', async () => {
    const backend = new MemBackend();
    const id = await pendingWithOnePart(backend);
    await backend.abortPending({ key: KEY, id });
    const file = journalPath(stateDir, backend.location, KEY);
    await writeJournal(file, journalOf(identity(backend.location), id));
    const decision = await decideResume({ backend, file, identity: identity(backend.location) });
    expect(decision.kind === 'fresh' && decision.warning).toMatch(/is gone from the server/);
  });

  it('another pipeline or part size: afresh, and the stale upload is aborted', async () => {
    for (const change of [
      { pipeline: [['zfs', 'send', 'tank@zfs-auto-snap:daily-1']] },
      { partSize: 2 * PART },
      { metadata: { isfull: 'true', size: '124' } },
    ]) {
      const backend = new MemBackend();
      const id = await pendingWithOnePart(backend);
      const file = journalPath(stateDir, backend.location, KEY);
      await writeJournal(file, journalOf(identity(backend.location), id));
      const now = { ...identity(backend.location), ...change };
      const decision = await decideResume({ backend, file, identity: now });
      expect(decision.kind === 'fresh' && decision.warning).toMatch(/had another .*; aborted it/);
      expect(await backend.listPending('')).toEqual([]);
    }
  });

  it('part ETags that are not MD5s (SSE-KMS): afresh, and the stale upload is aborted', async () => {
    const mem = new MemBackend();
    const backend = new (class extends PassThroughBackend {
      override async listChunks(p: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
        const chunks = await super.listChunks(p);
        return chunks.map((c) => ({ ...c, etag: '"kms-1f3a"' }));
      }
    })(mem);
    const id = await pendingWithOnePart(mem);
    const file = journalPath(stateDir, backend.location, KEY);
    await writeJournal(file, journalOf(identity(backend.location), id));
    const decision = await decideResume({ backend, file, identity: identity(backend.location) });
    expect(decision.kind === 'fresh' && decision.warning).toMatch(/not MD5s \(SSE-KMS\?\)/);
    expect(await mem.listPending('')).toEqual([]);
  });
});
