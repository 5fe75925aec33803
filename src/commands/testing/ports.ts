/**
 * Ports for the commands' unit tests: a given backend (normally the memory backend, maybe
 * wrapped in FaultyBackend), a scripted `zfs`, an environment with no config file, captured
 * output, a fixed clock, a recording lock (or the lock the test passes: a real one in a
 * temporary LOCK_DIR) and a fresh STATE_DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { onTestFinished } from 'vitest';
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
  /** Replaces the captured stderr (e.g. a `brokenPipeSink`); `err()` then reads ''. */
  stderr?: Writable;
  /** Replaces the captured stdout; `out()` then reads ''. */
  stdout?: Writable;
  /** Replaces the fixed clock (e.g. one that ticks, so progress lines are drawn). */
  now?: () => number;
  lock?: CommandPorts['lock'];
}): TestPorts {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const controller = new AbortController();
  const locks: RecordedLock[] = [];
  return {
    openStorage: () => storageOf(input.backend, 'test-bucket'),
    zfs: input.zfs,
    // A STATE_DIR of its own: no test resumes (or is warned about) another's upload.
    env: {
      ...TEST_ENV,
      STATE_DIR: freshStateDir(),
      ...input.env,
    },
    stdout: input.stdout ?? collector(out),
    stderr: input.stderr ?? collector(err),
    now: input.now ?? (() => Date.parse('2026-11-26T00:00:00Z')),
    signal: controller.signal,
    controller,
    locks,
    lock: input.lock ?? ((request) => Promise.resolve(recordLock(locks, request))),
    out: () => Buffer.concat(out).toString(),
    err: () => Buffer.concat(err).toString(),
  };
}

/** A new empty STATE_DIR, removed when the test that asked for it finishes. */
function freshStateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'z3-test-state-'));
  try {
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  } catch {
    // asked for outside a test (a hook): left to the system's temporary directory
  }
  return dir;
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

/** A sink that takes `okWrites` writes, then fails every later one as a closed pipe does. */
export interface BrokenPipeSink extends Writable {
  /** What the first `okWrites` writes carried. */
  text(): string;
  /** Writes that failed. */
  failedWrites(): number;
  /**
   * Failures emitted while nobody listened for 'error': in a real process each one is an
   * uncaught exception that kills it (the run dies mid-upload).
   */
  unhandledErrors(): number;
}

/**
 * A stderr or stdout whose reader went away after `okWrites` writes (`z3 backup 2>&1 | logger`
 * with the logger gone): every later write fails with EPIPE, and the stream is not destroyed,
 * like process.stderr on a closed pipe.
 */
export function brokenPipeSink(okWrites: number): BrokenPipeSink {
  const chunks: Buffer[] = [];
  let failed = 0;
  let unhandled = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (chunks.length < okWrites) {
        chunks.push(Buffer.from(chunk));
        callback();
        return;
      }
      failed += 1;
      const error: NodeJS.ErrnoException = new Error('write EPIPE');
      error.code = 'EPIPE';
      // Emitted by hand, later, rather than through the callback: the stream stays writable and
      // every later write fails again, as process.stderr's do. Unheard, it is counted instead
      // of thrown, so the test fails on an assertion rather than on a crashed worker.
      callback();
      process.nextTick(() => {
        if (sink.listenerCount('error') === 0) unhandled += 1;
        else sink.emit('error', error);
      });
    },
  });
  return Object.assign(sink, {
    text: () => Buffer.concat(chunks).toString(),
    failedWrites: () => failed,
    unhandledErrors: () => unhandled,
  });
}
