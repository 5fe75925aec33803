/**
 * Output of datasets run at the same time (`--jobs N`): messages tagged with their dataset,
 * results kept whole. Why: two progress meters or two status tables interleaved line by line
 * cannot be read, and a JSON consumer must not get half a line of one dataset inside another's.
 */
import { Writable } from 'node:stream';
import type { TextSink } from './safe-sink.js';

/** A sink that passes lines on, prefixed; `endLine` sends a last line left without `\n`. */
export interface PrefixedSink extends Writable {
  endLine(): void;
}

/**
 * Each line written to it goes to `target` as `<prefix><line>` once it is complete. Not a TTY,
 * so a progress meter prints whole lines, not `\r` redraws.
 */
export function prefixedLineSink(target: TextSink, prefix: string): PrefixedSink {
  let pending = '';
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) target.write(`${prefix}${line}\n`);
      callback();
    },
  });
  return Object.assign(sink, {
    endLine(): void {
      if (pending !== '') target.write(`${prefix}${pending}\n`);
      pending = '';
    },
  });
}

/** A sink that keeps what is written until `flushTo` writes it, in one piece, to a target. */
export interface HeldSink extends Writable {
  flushTo(target: TextSink): void;
}

export function heldSink(): HeldSink {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(sink, {
    flushTo(target: TextSink): void {
      if (chunks.length > 0) target.write(Buffer.concat(chunks.splice(0)));
    },
  });
}
