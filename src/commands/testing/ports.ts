/**
 * Ports for the commands' unit tests: a given backend (normally the memory backend, maybe
 * wrapped in FaultyBackend), a scripted `zfs`, an environment with no config file, captured
 * output, a fixed clock and a recording lock (or the lock the test passes: a real one in a
 * temporary LOCK_DIR).
 */
import { Writable } from 'node:stream';
import type { Backend } from '../../storage/backend.js';
import { storageOf } from '../../storage/open.js';
import type { CommandPorts } from '../ports.js';
import type { HeldLock, LockRequest } from '../../lock/acquire.js';

export interface TestPorts extends CommandPorts {
  /** Everything written to stdout / stderr so far. */
  out(): string;
  err(): string;
  /** Abort the run as SIGTERM would. */
  controller: AbortController;
  /** Every lock the default lock port handed out, in order (empty when `lock` was given). */
  locks: RecordedLock[];
}

/** A lock taken through the recording lock port. */
export interface RecordedLock {
  request: LockRequest;
  /** How many times `release` was called. */
  releases: number;
}

/** The settings every test starts from: no config file, COMPRESSOR none, no cache. */
export const TEST_ENV: Record<string, string> = {
  Z3_CONFIG: '/dev/null',
  BUCKET: 'test-bucket',
  FILESYSTEM: 'tank/data',
  SNAPSHOT_PREFIX: 'snap',
  COMPRESSOR: 'none',
  CACHE_DIR: 'off',
};

export function testPorts(input: {
  backend: Backend;
  zfs: string;
  env?: Record<string, string>;
  lock?: CommandPorts['lock'];
}): TestPorts {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const controller = new AbortController();
  const locks: RecordedLock[] = [];
  return {
    openStorage: () => storageOf(input.backend, 'test-bucket'),
    zfs: input.zfs,
    env: { ...TEST_ENV, ...input.env },
    stdout: collector(out),
    stderr: collector(err),
    now: () => Date.parse('2026-11-26T00:00:00Z'),
    signal: controller.signal,
    controller,
    locks,
    lock: input.lock ?? ((request) => Promise.resolve(recordLock(locks, request))),
    out: () => Buffer.concat(out).toString(),
    err: () => Buffer.concat(err).toString(),
  };
}

function recordLock(into: RecordedLock[], request: LockRequest): HeldLock {
  const record: RecordedLock = { request, releases: 0 };
  into.push(record);
  return {
    path: `${request.dir}/${request.name}`,
    release: () => {
      record.releases += 1;
    },
  };
}

/** A sink that keeps a copy of every chunk (the downloader may reuse its buffers). */
function collector(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      into.push(Buffer.from(chunk));
      callback();
    },
  });
}
