/**
 * When a child process is finished, robustly. `close` (exit + every stdio stream closed) is the
 * normal signal, but a grandchild that keeps our stderr pipe open (an `ssh` ControlMaster going
 * to the background) would delay it forever, so after `exit` we wait at most a short grace for
 * the last stderr bytes.
 */
import type { ChildProcess } from 'node:child_process';

/** How long after `exit` the stdio streams may take to deliver their last bytes. */
const STDIO_GRACE_MS = 2_000;

export interface ChildExit {
  /** Exit code, null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started (ENOENT, EACCES…). */
  error?: Error;
}

/**
 * Calls `onExit` once, as soon as the process exited (or failed to start), and resolves when
 * its stdio is closed or the grace after exit ran out. Never rejects.
 */
export function watchChild(child: ChildProcess, onExit: (exit: ChildExit) => void): Promise<void> {
  return new Promise((resolve) => {
    let exited = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (exit: ChildExit): void => {
      if (exited) return;
      exited = true;
      onExit(exit);
      timer = setTimeout(resolve, STDIO_GRACE_MS);
    };
    child.once('exit', (code, signal) => finish({ code, signal }));
    // 'error' also reports a failed kill(); only a child without a pid never started.
    child.on('error', (error) => {
      if (child.pid === undefined) finish({ code: null, signal: null, error });
    });
    child.once('close', () => {
      finish({ code: child.exitCode, signal: child.signalCode });
      clearTimeout(timer);
      resolve();
    });
  });
}
