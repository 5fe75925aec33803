/**
 * The run lock with real processes: a holder in a child process (the real acquireLock), the
 * loser in this one. What must hold: one holder at a time, the loser names the holder's pid
 * (exit 2), kill -9 of the holder frees the lock (nothing stale), a waiter gets the lock when
 * the holder is done and an abort ends the wait (exit 130), an unsafe LOCK_DIR is refused.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, EXIT, InterruptedError, Z3Error } from '../errors.js';
import { injected } from '../testing/faults.js';
import { acquireLock, LockBusyError, type LockRequest } from './acquire.js';
import type { LockHolder } from './holder.js';
import { prepareLockDir } from './lock-dir.js';
import { lockName } from './name.js';
import { createHolderProgram, type Holder, type HolderProgram } from './testing/holder-process.js';

const NAME = lockName('backup', ['s3 aws bucket', 'z3-backup/', 'tank/data']);
const DESCRIPTION = 'z3 backup of tank/data to bucket/z3-backup/';

let program: HolderProgram;
beforeAll(() => {
  program = createHolderProgram();
});
afterAll(() => program.cleanup());

describe('acquireLock', () => {
  let dir: string;
  let holders: Holder[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z3-lock-test-'));
    holders = [];
  });
  afterEach(async () => {
    for (const h of holders) await h.killHard();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (over: Partial<LockRequest> = {}): LockRequest => ({
    dir,
    name: NAME,
    description: DESCRIPTION,
    wait: false,
    signal: new AbortController().signal,
    busyHint: 'wait for it, or pass --wait',
    ...over,
  });
  const hold = async (grandchild = false): Promise<Holder> => {
    const holder = await program.start({ dir, name: NAME, description: DESCRIPTION, grandchild });
    holders.push(holder);
    return holder;
  };

  it(
    'refuses a second holder with exit 2, naming the first one by pid',
    { tags: ['faults'] },
    async () => {
      const first = await hold();
      injected('concurrent writer');
      const failure = await acquireLock(request()).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(LockBusyError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
      expect((failure as Z3Error).message).toBe(
        `another z3 backup of tank/data to bucket/z3-backup/ is running (pid ${first.pid})`,
      );
      expect((failure as Z3Error).hint).toBe('wait for it, or pass --wait');
      expect(readFileSync(join(dir, NAME), 'utf8')).toBe(`${first.pid}\n${DESCRIPTION}\n`);
    },
  );

  it(
    'is free again once the holder is killed -9, even with a process it spawned still alive',
    { tags: ['faults'] },
    async () => {
      const first = await hold(true);
      expect(first.grandchildPid).toBeGreaterThan(0);
      try {
        await first.killHard();
        injected('kill -9');
        const lock = await acquireLock(request());
        expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n${DESCRIPTION}\n`);
        lock.release();
      } finally {
        process.kill(first.grandchildPid!, 'SIGKILL');
      }
    },
  );

  it(
    'with wait, says who it waits for and takes the lock when the holder releases it',
    { tags: ['faults'] },
    async () => {
      const first = await hold();
      injected('concurrent writer');
      const told: LockHolder[] = [];
      const waiting = acquireLock(request({ wait: true, onWait: (h) => told.push(h) }));
      await until(() => told.length === 1);
      expect(told[0]).toEqual({ pid: first.pid, description: DESCRIPTION });
      await first.release();
      const lock = await waiting;
      expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n${DESCRIPTION}\n`);
      lock.release();
      expect(readFileSync(lock.path, 'utf8')).toBe('');
      lock.release();
      (await acquireLock(request())).release();
    },
  );

  it(
    'stops waiting when the signal is aborted, with its reason (exit 130), holding nothing',
    { tags: ['faults'] },
    async () => {
      const first = await hold();
      injected('concurrent writer');
      const controller = new AbortController();
      let isWaiting = false;
      const waiting = acquireLock(
        request({ wait: true, signal: controller.signal, onWait: () => (isWaiting = true) }),
      ).catch((e: unknown) => e);
      await until(() => isWaiting);
      controller.abort(new InterruptedError('interrupted by SIGTERM'));
      const failure = await waiting;
      expect(failure).toBeInstanceOf(InterruptedError);
      expect((failure as Z3Error).exitCode).toBe(EXIT.INTERRUPTED);
      await first.release();
      (await acquireLock(request())).release();
    },
  );

  it('holds one lock per name: another dataset is not blocked', async () => {
    await hold();
    const other = await acquireLock(request({ name: lockName('backup', ['x', 'y', 'z']) }));
    other.release();
  });

  it('refuses a LOCK_DIR that group or others can write (exit 2), and creates a missing one 0700', async () => {
    chmodSync(dir, 0o777);
    const failure = await acquireLock(request()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Z3Error).exitCode).toBe(EXIT.USAGE);
    expect((failure as Error).message).toBe(
      `LOCK_DIR ${dir}: writable by group or others (mode 0777); a lock anyone can delete protects nothing`,
    );
    chmodSync(dir, 0o700);
    const nested = join(dir, 'run', 'z3');
    (await acquireLock(request({ dir: nested }))).release();
    expect(statMode(nested)).toBe(0o700);
  });

  it('refuses a LOCK_DIR owned by another user', async () => {
    const other = (process.getuid?.() ?? 0) + 1;
    const failure = await prepareLockDir(dir, { uid: other }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(
      new RegExp(`^LOCK_DIR ${dir}: owned by uid \\d+, not by this user \\(uid ${other}\\)`),
    );
  });
});

describe('lockName', () => {
  it('is a short digest of the parts, distinct when the parts split differently', () => {
    expect(NAME).toMatch(/^backup-[0-9a-f]{16}\.lock$/);
    expect(lockName('backup', ['a b', 'c'])).not.toBe(lockName('backup', ['a', 'b c']));
    expect(lockName('backup', ['a'])).toBe(lockName('backup', ['a']));
  });
});

function statMode(path: string): number {
  return statSync(path).mode & 0o777;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
