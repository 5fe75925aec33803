import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createProgress,
  formatBytes,
  formatDuration,
  formatProgressLine,
  formatRate,
} from './progress.js';

const MiB = 1024 * 1024;

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('formatting', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(15 * MiB)).toBe('15.0 MiB');
    expect(formatBytes(300 * MiB)).toBe('300 MiB');
    expect(formatBytes(4 * 1024 * MiB)).toBe('4.00 GiB');
  });

  it('formats durations and rates', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.4)).toBe('59s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(7380)).toBe('2h03m');
    expect(formatRate(85.25 * MiB)).toBe('85.3 MiB/s');
  });

  it('shows percent and ETA when the total is known', () => {
    const line = formatProgressLine({
      label: 'upload',
      bytes: 25 * MiB,
      total: 100 * MiB,
      elapsedMs: 5000,
      rate: 5 * MiB,
    });
    expect(line).toBe('upload: 25.0 MiB / 100 MiB  25%  5.0 MiB/s  ETA 15s');
  });

  it('shows bytes and rate only when the total is unknown', () => {
    const line = formatProgressLine({ label: 'get', bytes: 3 * MiB, elapsedMs: 1000, rate: MiB });
    expect(line).toBe('get: 3.00 MiB  1.0 MiB/s');
  });

  it('shows the elapsed time on the final line', () => {
    const line = formatProgressLine({
      label: 'get',
      bytes: 10 * MiB,
      total: 10 * MiB,
      elapsedMs: 125_000,
      rate: 80 * 1024,
      isFinal: true,
    });
    expect(line).toBe('get: 10.0 MiB  100%  0.1 MiB/s  in 2m05s');
  });
});

describe('createProgress', () => {
  it('prints nothing when disabled', () => {
    const out = collector();
    const p = createProgress({ label: 'x', stream: out.stream, enabled: false, isTTY: true });
    p.add(100);
    p.finish();
    expect(out.text()).toBe('');
  });

  it('redraws one line on a TTY at most every 250 ms', () => {
    const out = collector();
    const clock = fakeClock();
    const p = createProgress({
      label: 'up',
      total: 4 * MiB,
      stream: out.stream,
      enabled: true,
      isTTY: true,
      now: clock.now,
    });
    clock.advance(100);
    p.add(MiB); // too soon: no draw
    expect(out.text()).toBe('');
    clock.advance(900);
    p.add(MiB); // 1 s in, 2 MiB: draws
    clock.advance(100);
    p.add(MiB); // 100 ms after the last draw: no draw
    clock.advance(1000);
    p.add(MiB);
    p.finish();
    p.finish();
    const draws = out.text().split('\r').slice(1);
    expect(draws).toHaveLength(3);
    expect(draws[0]).toBe('up: 2.00 MiB / 4.00 MiB  50%  2.0 MiB/s  ETA 1s\x1b[K');
    expect(draws[2]).toBe('up: 4.00 MiB  100%  1.9 MiB/s  in 2s\x1b[K\n');
  });

  it('prints plain lines every interval and a final line when not a TTY', () => {
    const out = collector();
    const clock = fakeClock();
    const p = createProgress({
      label: 'get',
      stream: out.stream,
      enabled: true,
      isTTY: false,
      now: clock.now,
      intervalMs: 10_000,
    });
    for (let i = 0; i < 25; i += 1) {
      clock.advance(1000);
      p.add(MiB);
    }
    p.finish();
    expect(out.text()).not.toContain('\r');
    expect(out.text().split('\n')).toEqual([
      'get: 10.0 MiB  1.0 MiB/s',
      'get: 20.0 MiB  1.0 MiB/s',
      'get: 25.0 MiB  1.0 MiB/s  in 25s',
      '',
    ]);
  });

  it('measures the live rate over the last few seconds', () => {
    const out = collector();
    const clock = fakeClock();
    const p = createProgress({
      label: 'r',
      stream: out.stream,
      enabled: true,
      isTTY: false,
      now: clock.now,
      intervalMs: 1000,
    });
    for (let i = 0; i < 10; i += 1) {
      clock.advance(1000);
      p.add(MiB); // 1 MiB/s for 10 s
    }
    for (let i = 0; i < 10; i += 1) {
      clock.advance(1000);
      p.add(10 * MiB); // then 10 MiB/s
    }
    const lines = out.text().trim().split('\n');
    expect(lines.at(-1)).toBe('r: 110 MiB  10.0 MiB/s');
  });

  it('uses the stream isTTY when not told', () => {
    const out = collector();
    Object.assign(out.stream, { isTTY: true });
    const p = createProgress({ label: 't', stream: out.stream, enabled: true, now: () => 0 });
    p.finish();
    expect(out.text()).toBe('\rt: 0 B  in 0s\x1b[K\n');
  });
});

/** A scheduler driven by hand: `fire()` runs the ticks as a timer would. */
function manualTimer(): {
  schedule: (tick: () => void, everyMs: number) => () => void;
  fire: () => void;
  everyMs: () => number | undefined;
  isCancelled: () => boolean;
} {
  let tick: (() => void) | undefined;
  let every: number | undefined;
  let cancelled = false;
  return {
    schedule: (t, ms) => {
      tick = t;
      every = ms;
      return () => {
        cancelled = true;
      };
    },
    fire: () => {
      if (!cancelled) tick?.();
    },
    everyMs: () => every,
    isCancelled: () => cancelled,
  };
}

describe('createProgress never goes silent', () => {
  it('ticks a TTY line every second while no byte moves, and says how long it stalled', () => {
    const out = collector();
    const clock = fakeClock();
    const timer = manualTimer();
    const p = createProgress({
      label: 'up',
      total: 4 * MiB,
      stream: out.stream,
      enabled: true,
      isTTY: true,
      now: clock.now,
      schedule: timer.schedule,
    });
    expect(timer.everyMs()).toBe(1000);
    clock.advance(1000);
    p.add(MiB);
    for (let s = 0; s < 40; s += 1) {
      clock.advance(1000);
      timer.fire();
    }
    const draws = out.text().split('\r').slice(1);
    expect(draws.length).toBeGreaterThanOrEqual(40);
    expect(draws.at(-1)).toBe('up: 1.00 MiB / 4.00 MiB  25%  0.0 MiB/s  stalled for 40s\x1b[K');
    p.finish();
    expect(timer.isCancelled()).toBe(true);
  });

  it('prints a plain line every interval when not a TTY, even before the first byte', () => {
    const out = collector();
    const clock = fakeClock();
    const timer = manualTimer();
    const p = createProgress({
      label: 'get',
      stream: out.stream,
      enabled: true,
      isTTY: false,
      now: clock.now,
      intervalMs: 10_000,
      schedule: timer.schedule,
    });
    expect(timer.everyMs()).toBe(10_000);
    for (let s = 0; s < 3; s += 1) {
      clock.advance(10_000);
      timer.fire();
    }
    p.finish();
    expect(out.text().split('\n')).toEqual([
      'get: 0 B  0.0 MiB/s  stalled for 10s',
      'get: 0 B  0.0 MiB/s  stalled for 20s',
      'get: 0 B  0.0 MiB/s  stalled for 30s',
      'get: 0 B  0.0 MiB/s  in 30s',
      '',
    ]);
  });

  it('a tick right after a draw draws nothing; a disabled meter schedules nothing', () => {
    const out = collector();
    const clock = fakeClock();
    const timer = manualTimer();
    const p = createProgress({
      label: 'x',
      stream: out.stream,
      enabled: true,
      isTTY: false,
      now: clock.now,
      intervalMs: 10_000,
      schedule: timer.schedule,
    });
    clock.advance(10_000);
    p.add(MiB); // draws
    clock.advance(2_000);
    timer.fire(); // 2 s after a line: nothing
    expect(out.text().split('\n')).toHaveLength(2);
    p.finish();
    const off = manualTimer();
    createProgress({ label: 'q', stream: out.stream, enabled: false, schedule: off.schedule });
    expect(off.everyMs()).toBeUndefined();
  });
});
