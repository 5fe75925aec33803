import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isBrokenPipe, safeSink } from './safe-sink.js';

/** A target that takes `ok` writes, then fails each one with EPIPE (emitted on a later tick). */
function target(ok: number): Writable & { got: string[]; isTTY?: boolean } {
  const got: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      callback();
      if (got.length < ok) got.push(chunk.toString());
      else
        process.nextTick(() =>
          stream.emit('error', Object.assign(new Error('EPIPE'), { code: 'EPIPE' })),
        );
    },
  });
  return Object.assign(stream, { got });
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('safeSink', () => {
  it('passes writes through in order until the target fails, then drops them', async () => {
    const t = target(2);
    const sink = safeSink(t);
    sink.write('a');
    sink.write('b');
    expect(sink.failure).toBeUndefined();
    sink.write('c');
    await tick();
    expect(isBrokenPipe(sink.failure)).toBe(true);
    sink.write('d');
    await tick();
    expect(t.got).toEqual(['a', 'b']);
    expect(t.listenerCount('error')).toBe(1);
  });

  it('wraps a stream once and returns a safe sink as it is; keeps isTTY', () => {
    const t = Object.assign(target(1), { isTTY: true });
    const sink = safeSink(t);
    expect(safeSink(t)).toBe(sink);
    expect(safeSink(sink)).toBe(sink);
    expect(sink.isTTY).toBe(true);
    expect(t.listenerCount('error')).toBe(1);
  });

  it('isBrokenPipe is true for EPIPE only', () => {
    expect(isBrokenPipe(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBe(true);
    expect(isBrokenPipe(Object.assign(new Error('x'), { code: 'EIO' }))).toBe(false);
    expect(isBrokenPipe('EPIPE')).toBe(false);
  });
});
