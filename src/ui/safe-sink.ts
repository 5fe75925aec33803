/**
 * Text output that can never decide the fate of a transfer.
 *
 * Why: z3 runs from cron as `z3 backup 2>&1 | logger`. When the reader goes away (logger killed,
 * journald restarting), the next write raises EPIPE as an 'error' event; with no listener that
 * is an uncaught exception, and the process dies mid-upload with the multipart upload pending and
 * the remaining snapshots not backed up. Progress lines and messages are a side channel: once
 * their sink failed, they are dropped and the run goes on to its own outcome.
 */
import { Writable } from 'node:stream';

/** A text sink as the commands' ports carry it (see src/commands/ports.ts). */
export type TextSink = Writable & { isTTY?: boolean };

/** A sink whose writes never fail; `failure` tells whether its target still takes them. */
export interface SafeSink extends Writable {
  /** The target's `isTTY`, so a progress meter still draws a live line on a terminal. */
  readonly isTTY?: boolean;
  /** The first write error of the target (EPIPE, EIO, …); undefined while it works. */
  readonly failure: Error | undefined;
}

const wrapped = new WeakMap<Writable, SafeSink>();
const safeSinks = new WeakSet<Writable>();

/**
 * `target` made safe: its 'error' events are caught (the first one kept as `failure`), and once
 * it failed or was destroyed, writes are dropped instead of reaching it. Writes are passed on
 * synchronously and in order, so nothing is buffered here. Idempotent: a stream is wrapped once
 * (one 'error' listener however often it is asked for), and a SafeSink is returned as it is.
 */
export function safeSink(target: TextSink): SafeSink {
  if (safeSinks.has(target)) return target as SafeSink;
  const known = wrapped.get(target);
  if (known !== undefined) return known;
  let failure: Error | undefined;
  target.on('error', (err: Error) => {
    failure ??= err;
  });
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, encoding: BufferEncoding, callback) {
      if (failure === undefined && !target.destroyed && !target.writableEnded) {
        target.write(chunk, encoding);
      }
      callback();
    },
  });
  Object.defineProperties(sink, {
    isTTY: { value: target.isTTY, enumerable: true },
    failure: { get: () => failure, enumerable: true },
  });
  safeSinks.add(sink);
  wrapped.set(target, sink as SafeSink);
  return sink as SafeSink;
}

/** Whether `err` says the reader of a pipe went away (EPIPE): the reader's choice, not a failure. */
export function isBrokenPipe(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EPIPE';
}
