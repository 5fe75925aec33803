/**
 * `flock(2)` for Node, which has none, through util-linux's `flock(1)` on an inherited file
 * descriptor. The child gets our open lock file as its fd 3 and runs `flock 3`: a flock(2)
 * lock belongs to the open file description, which the child shares with us, so when the child
 * exits the lock stays held by our descriptor, until we close it or the process dies (kill -9
 * included: the kernel drops it, so a crashed run never blocks the next). Node opens files
 * close-on-exec, so the processes a backup spawns later (`zfs send`, compressors) do not
 * inherit the descriptor and cannot keep the lock alive after we are gone.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** The program, as a command's programs check names it (package util-linux). */
export const FLOCK_PROGRAM = 'flock';

/**
 * flock(1)'s exit status when `--nonblock` finds the lock taken. Its default (1) is also what
 * it returns for other failures, so a distinct one is asked for: 75 is EX_TEMPFAIL.
 */
const BUSY_EXIT_CODE = 75;

/** How many bytes of flock(1)'s stderr are kept for a failure message. */
const STDERR_TAIL = 500;

export type FlockOutcome =
  { kind: 'acquired' } | { kind: 'busy' } | { kind: 'failed'; detail: string };

export interface FlockOptions {
  /** An open descriptor of the lock file (read-write). */
  fd: number;
  /** Block until the lock is free; else return `busy` at once when it is taken. */
  wait: boolean;
  /** Stops a wait: the child is killed and the promise rejects with `signal.reason`. */
  signal: AbortSignal;
}

/**
 * Take an exclusive flock(2) lock on `fd` for this process. Resolves `acquired` (held until
 * `fd` is closed), `busy` (only without `wait`), or `failed` with flock(1)'s own words (a file
 * system without locks, a missing program). After an abort the lock may or may not have been
 * taken in the last instant: the caller closes `fd`, which drops it either way.
 */
export async function flockDescriptor(options: FlockOptions): Promise<FlockOutcome> {
  options.signal.throwIfAborted();
  const args = options.wait
    ? ['--exclusive', '3']
    : ['--exclusive', '--nonblock', '--conflict-exit-code', String(BUSY_EXIT_CODE), '3'];
  const child = spawn(FLOCK_PROGRAM, args, { stdio: ['ignore', 'ignore', 'pipe', options.fd] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  const stop = (): void => {
    child.kill('SIGTERM');
  };
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    const [code, signalName] = (await once(child, 'close')) as [number | null, string | null];
    options.signal.throwIfAborted();
    if (code === 0) return { kind: 'acquired' };
    if (code === BUSY_EXIT_CODE && !options.wait) return { kind: 'busy' };
    const status = code === null ? `killed by ${signalName ?? 'a signal'}` : `exit status ${code}`;
    return {
      kind: 'failed',
      detail: `flock ${status}${stderr === '' ? '' : `: ${stderr.trim()}`}`,
    };
  } catch (err) {
    options.signal.throwIfAborted();
    return { kind: 'failed', detail: `cannot run flock: ${(err as Error).message}` };
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}
