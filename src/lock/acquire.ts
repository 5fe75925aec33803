/**
 * One run at a time: an exclusive lock on a file in LOCK_DIR, held by the kernel for as long as
 * this process keeps the file open (see flock.ts), so a run that crashes or is killed -9 never
 * blocks the next one and there is no stale lock to clean up.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { requirePrograms } from '../pipeline/programs.js';
import { FLOCK_PROGRAM, flockDescriptor, type FlockOutcome } from './flock.js';
import { clearHolder, readHolder, writeHolder, type LockHolder } from './holder.js';
import { prepareLockDir } from './lock-dir.js';

export interface LockRequest {
  /** LOCK_DIR: created (0700) when missing; refused when another user could write it. */
  dir: string;
  /** The lock file's name in `dir` (`lockName(…)`); the file is kept between runs. */
  name: string;
  /**
   * What the holder is doing, recorded in the file and shown to a run that finds the lock
   * taken: `z3 backup of tank/data to bucket/z3-backup/` gives `another z3 backup of … is running`.
   */
  description: string;
  /** Wait until the holder is done instead of failing with LockBusyError. */
  wait: boolean;
  /** Ends a wait; acquireLock then rejects with `signal.reason` (InterruptedError, exit 130). */
  signal: AbortSignal;
  /** The `hint:` of LockBusyError, e.g. `wait for it, or pass --wait`. */
  busyHint?: string;
  /** Told once, before waiting, when `wait` is set and the lock is taken. */
  onWait?: (holder: LockHolder) => void;
}

/** A lock this process holds. */
export interface HeldLock {
  /** The lock file. */
  readonly path: string;
  /** Empty the holder record and close the file, which frees the lock. Safe to call twice. */
  release(): void;
}

/** The lock is held by another run (exit 2); `holder.pid` names it when it could be read. */
export class LockBusyError extends UsageError {
  readonly holder: LockHolder;
  constructor(request: LockRequest, holder: LockHolder) {
    const who = holder.pid === undefined ? 'pid unknown' : `pid ${holder.pid}`;
    super(
      `another ${request.description} is running (${who})`,
      request.busyHint === undefined ? {} : { hint: request.busyHint },
    );
    this.holder = holder;
  }
}

/**
 * Take the lock `request.name` in `request.dir`, or wait for it with `request.wait`.
 *
 * @throws UsageError when `flock` (util-linux) is not installed; ConfigError for an unsafe or
 *   unusable LOCK_DIR (see prepareLockDir) or a file system that refuses locks;
 *   LockBusyError when the lock is taken and `wait` is false; `signal.reason` when aborted.
 */
export async function acquireLock(request: LockRequest): Promise<HeldLock> {
  request.signal.throwIfAborted();
  await requirePrograms([[FLOCK_PROGRAM]]);
  await prepareLockDir(request.dir);
  const path = join(request.dir, request.name);
  const fd = openLockFile(path);
  try {
    await lockOrWait({ fd, path, request });
    writeHolder(fd, request.description);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return heldLock(fd, path);
}

async function lockOrWait(input: {
  fd: number;
  path: string;
  request: LockRequest;
}): Promise<void> {
  const { fd, path, request } = input;
  const first = await flockDescriptor({ fd, wait: false, signal: request.signal });
  if (first.kind === 'acquired') return;
  if (first.kind === 'failed') throw cannotLock(path, first);
  const holder = await readHolder(path);
  if (!request.wait) throw new LockBusyError(request, holder);
  request.onWait?.(holder);
  const second = await flockDescriptor({ fd, wait: true, signal: request.signal });
  if (second.kind !== 'acquired') throw cannotLock(path, second);
}

/**
 * O_NOFOLLOW: the directory is private, but a symlink planted before it was made private must
 * not send the holder record into another file.
 */
function openLockFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`LOCK_DIR: cannot open the lock file ${path}: ${code}`, { cause: err });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new ConfigError(`LOCK_DIR: the lock file ${path} is not a regular file`);
  }
  return fd;
}

function cannotLock(path: string, outcome: FlockOutcome): ConfigError {
  const detail = outcome.kind === 'failed' ? outcome.detail : outcome.kind;
  return new ConfigError(`LOCK_DIR: cannot lock ${path}: ${detail}`, {
    hint: 'LOCK_DIR must be on a local file system that supports flock (e.g. /run or /tmp)',
  });
}

function heldLock(fd: number, path: string): HeldLock {
  let isOpen = true;
  return {
    path,
    release() {
      if (!isOpen) return;
      isOpen = false;
      try {
        clearHolder(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
