import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { registerSecret } from '../cli/secrets.js';
import { jsonEventSink } from './events.js';

function capture(): { sink: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { sink, lines };
}

describe('jsonEventSink', () => {
  it('stamps version, event and time first, then the fields', () => {
    const out = capture();
    jsonEventSink(out.sink, () => Date.parse('2026-11-26T00:00:00Z')).emit({
      event: 'warning',
      message: 'careful',
    });
    const [line] = out.lines();
    expect(Object.keys(line ?? {})).toEqual(['version', 'event', 'time', 'message']);
    expect(line).toEqual({
      version: 1,
      event: 'warning',
      time: '2026-11-26T00:00:00.000Z',
      message: 'careful',
    });
  });

  it('sends at most one progress a second per snapshot, and always the last one', () => {
    const out = capture();
    let t = 0;
    const events = jsonEventSink(out.sink, () => t);
    const progress = (snapshot: string, bytes: number, at: number) => {
      t = at;
      events.emit({ event: 'progress', snapshot, bytes, total: 100 });
    };
    progress('a', 10, 0);
    progress('a', 20, 500);
    progress('b', 5, 600);
    progress('a', 30, 999);
    progress('a', 40, 1000);
    progress('a', 100, 1001);
    expect(out.lines().map((e) => [e['snapshot'], e['bytes']])).toEqual([
      ['a', 10],
      ['b', 5],
      ['a', 40],
      ['a', 100],
    ]);
  });

  it('hides a registered secret in a message, even one JSON would escape', () => {
    registerSecret('se"cr\\et-value');
    const out = capture();
    jsonEventSink(out.sink, () => 0).emit({
      event: 'error',
      code: 5,
      message: 'denied for se"cr\\et-value',
    });
    expect(out.lines()[0]?.['message']).toBe('denied for ***');
  });
});
