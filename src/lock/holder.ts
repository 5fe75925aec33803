/**
 * What a lock file says about its holder: `<pid>\n<description>\n`, written by the holder right
 * after it took the lock, so that the run that finds it taken can name who has it. The file's
 * content is advice for messages only; the lock itself is the kernel's.
 */
import { ftruncateSync, readFileSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockHolder {
  /** The holder's process id; undefined when the file did not name a live process in time. */
  pid: number | undefined;
  /** What it is doing, as it described itself. */
  description: string | undefined;
}

/**
 * How long a loser waits for the holder's record: the holder writes it a moment after taking
 * the lock, and until then the file is empty or still names the previous (finished or killed)
 * holder.
 */
const RECORD_ATTEMPTS = 10;
const RECORD_INTERVAL_MS = 50;

/** Replace the file's content with this process's record (the caller holds the lock). */
export function writeHolder(fd: number, description: string): void {
  const text = Buffer.from(`${process.pid}\n${description.replace(/\n/g, ' ')}\n`);
  ftruncateSync(fd, 0);
  writeSync(fd, text, 0, text.length, 0);
}

/** Empty the record before the lock is released, so it never names a finished run. */
export function clearHolder(fd: number): void {
  ftruncateSync(fd, 0);
}

/**
 * The holder of the lock file at `path`, as it recorded itself. Retries briefly while the
 * record is empty or names a process that no longer exists (see RECORD_ATTEMPTS). Never throws.
 */
export async function readHolder(path: string): Promise<LockHolder> {
  let last: LockHolder = { pid: undefined, description: undefined };
  for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(RECORD_INTERVAL_MS);
    last = parseHolder(readText(path));
    if (last.pid !== undefined && isAlive(last.pid)) return last;
  }
  return { pid: undefined, description: last.description };
}

function parseHolder(text: string): LockHolder {
  const [pidLine = '', description = ''] = text.split('\n');
  const pid = /^\d+$/.test(pidLine) ? Number(pidLine) : undefined;
  return { pid, description: description === '' ? undefined : description };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
