/**
 * A kernel pipe whose read end this process reads with its own buffers (see
 * src/transfer/pipe-reader.ts), for the last stage of a pipeline.
 *
 * Why a FIFO: Node creates no bare pipe; the 'pipe' stdio of child_process comes wrapped in a
 * stream that already reads 64 KiB chunks on its own. A FIFO made in a private directory and
 * unlinked as soon as both ends are open is an anonymous pipe from then on: nobody else can open
 * it, and nothing is left on disk whatever happens to this process.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError } from '../errors.js';

export interface PipeEnds {
  /** Non-blocking read end: for pipeReader (an event-loop reader), never for fs.read. */
  readFd: number;
  /** Write end: for the child's stdout; close it here once the child is spawned. */
  writeFd: number;
}

/** Where mkfifo is when PATH does not have it (a cron or unit with a bare PATH). */
const MKFIFO = ['mkfifo', '/usr/bin/mkfifo', '/bin/mkfifo'];

/**
 * Open both ends of a new pipe, or undefined when no mkfifo runs here (the caller then reads a
 * stream instead). The write end is opened second, so no reader ever sees an early end.
 */
export function openPipe(): PipeEnds | undefined {
  for (const program of MKFIFO) {
    try {
      return openPipeWith(program);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return undefined;
}

function openPipeWith(mkfifo: string): PipeEnds {
  const dir = mkdtempSync(join(tmpdir(), 'z3-pipe-'));
  try {
    const path = join(dir, 'fifo');
    execFileSync(mkfifo, ['-m', '600', path], { stdio: 'ignore' });
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return { readFd, writeFd: openSync(path, constants.O_WRONLY) };
    } catch (err) {
      closeSync(readFd);
      throw err;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err; // no such mkfifo: next one
    const why = err instanceof Error ? err.message : String(err);
    throw new InternalError(`could not create a pipe for the pipeline's output: ${why}`, {
      cause: err,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
