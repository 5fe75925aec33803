/**
 * Transfer progress on stderr, shared by pput, z3_get, backup and restore.
 *
 * Lines are drawn from `add()` as bytes move, and from a tick (once a second on a terminal,
 * every interval otherwise) when they do not, so a stalled transfer is never silent: the line
 * says `stalled for 40s`. The tick's timer is unref'd (it never keeps the process alive) and is
 * cancelled by `finish()`, which every caller runs in a `finally`; tests inject the clock and
 * the scheduler.
 */
import type { Writable } from 'node:stream';
import { safeSink } from './safe-sink.js';

/** What one progress line shows. Pure data: `formatProgressLine` turns it into text. */
export interface ProgressState {
  label: string;
  /** Bytes transferred so far. */
  bytes: number;
  /** Expected total in bytes, when known; enables percent and ETA. */
  total?: number;
  /** Milliseconds since the transfer started. */
  elapsedMs: number;
  /** Current rate in bytes per second; undefined before there is anything to measure. */
  rate?: number;
  /** The final line: shows the elapsed time instead of an ETA. */
  isFinal?: boolean;
  /** Milliseconds since the last byte (or the start) when that is long enough to say so. */
  stalledMs?: number;
}

export interface ProgressOptions {
  label: string;
  /** Expected total in bytes, when known. */
  total?: number | undefined;
  stream: NodeJS.WriteStream | Writable;
  /**
   * When false, `add` and `finish` print nothing (e.g. `--quiet`). Once the stream failed
   * (EPIPE: the log reader is gone), nothing more is drawn and nothing is thrown: the transfer
   * it reports goes on (see src/ui/safe-sink.ts).
   */
  enabled: boolean;
  /** Redraw one live line with `\r`; defaults to the stream's own `isTTY`. */
  isTTY?: boolean | undefined;
  /** Clock in milliseconds; injected by tests. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Interval between plain lines when not a TTY; default 10 s. */
  intervalMs?: number | undefined;
  /**
   * Run `tick` every `everyMs` until the returned function is called; injected by tests.
   * Default: an unref'd `setInterval`.
   */
  schedule?: ((tick: () => void, everyMs: number) => () => void) | undefined;
}

export interface Progress {
  /** Count `bytes` more transferred; may draw a line. Negative or zero counts are ignored. */
  add(bytes: number): void;
  /** Draw the final line (and end the live line on a TTY). Safe to call twice: later calls do nothing. */
  finish(): void;
}

/** At most ~4 redraws per second on a terminal: enough to look live, cheap to draw. */
const TTY_REDRAW_MS = 250;
const DEFAULT_INTERVAL_MS = 10_000;
/** A terminal line is redrawn at least this often, bytes moving or not. */
const TTY_TICK_MS = 1_000;
/** No byte for this long is worth saying: `stalled for 6s`. */
const STALL_AFTER_MS = 5_000;
/** The live rate is measured over the last few seconds, so it follows changes in speed. */
const RATE_WINDOW_MS = 5_000;
/** Rate samples are kept at most this often, so frequent small `add`s stay cheap. */
const SAMPLE_GAP_MS = 100;
const ERASE_TO_END_OF_LINE = '\x1b[K';
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `1536` → `1.50 KiB`; binary units, three significant digits. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Seconds → `42s`, `3m05s`, `2h03m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Bytes per second → `85.2 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1024 / 1024).toFixed(1)} MiB/s`;
}

/**
 * One line, e.g. `upload tank@s1: 1.50 GiB / 4.00 GiB  37%  85.2 MiB/s  ETA 30s`, or for the
 * final line `upload tank@s1: 4.00 GiB  100%  80.1 MiB/s  in 51s`.
 */
export function formatProgressLine(state: ProgressState): string {
  const parts: string[] = [];
  const hasTotal = state.total !== undefined && state.total > 0;
  const total = state.total ?? 0;
  parts.push(
    hasTotal && state.isFinal !== true
      ? `${formatBytes(state.bytes)} / ${formatBytes(total)}`
      : formatBytes(state.bytes),
  );
  if (hasTotal) parts.push(`${Math.min(100, Math.floor((state.bytes / total) * 100))}%`);
  if (state.rate !== undefined) parts.push(formatRate(state.rate));
  if (state.isFinal === true) {
    parts.push(`in ${formatDuration(state.elapsedMs / 1000)}`);
  } else if (state.stalledMs !== undefined) {
    parts.push(`stalled for ${formatDuration(state.stalledMs / 1000)}`);
  } else if (hasTotal && state.rate !== undefined && state.rate > 0 && state.bytes < total) {
    parts.push(`ETA ${formatDuration((total - state.bytes) / state.rate)}`);
  }
  return `${state.label}: ${parts.join('  ')}`;
}

/** An unref'd interval timer: a progress tick never keeps the process alive. */
function everyInterval(tick: () => void, everyMs: number): () => void {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Create a progress meter; see `Progress` and the module comment for when lines are drawn. */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const isTTY = options.isTTY ?? (options.stream as Partial<NodeJS.WriteStream>).isTTY === true;
  const stream = safeSink(options.stream);
  const minGapMs = isTTY ? TTY_REDRAW_MS : (options.intervalMs ?? DEFAULT_INTERVAL_MS);
  const startedAt = now();
  const samples: { at: number; bytes: number }[] = [{ at: startedAt, bytes: 0 }];
  let bytes = 0;
  let lastDrawAt = startedAt;
  let lastByteAt = startedAt;
  let isFinished = false;

  const state = (at: number, isFinal: boolean): ProgressState => {
    const elapsedMs = at - startedAt;
    const base = samples[0] ?? { at: startedAt, bytes: 0 };
    const span = isFinal ? elapsedMs : at - base.at;
    const moved = isFinal ? bytes : bytes - base.bytes;
    return {
      label: options.label,
      bytes,
      elapsedMs,
      isFinal,
      ...(options.total !== undefined ? { total: options.total } : {}),
      ...(span > 0 ? { rate: (moved * 1000) / span } : {}),
      ...(!isFinal && at - lastByteAt >= STALL_AFTER_MS ? { stalledMs: at - lastByteAt } : {}),
    };
  };
  const draw = (line: string, isFinal: boolean): void => {
    if (stream.failure !== undefined) return;
    if (isTTY) stream.write(`\r${line}${ERASE_TO_END_OF_LINE}${isFinal ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  };

  const tickGapMs = isTTY ? TTY_TICK_MS : minGapMs;
  const cancelTick = options.enabled
    ? (options.schedule ?? everyInterval)(() => {
        const at = now();
        if (isFinished || at - lastDrawAt < tickGapMs) return;
        lastDrawAt = at;
        draw(formatProgressLine(state(at, false)), false);
      }, tickGapMs)
    : () => undefined;

  return {
    add(count: number): void {
      if (!options.enabled || isFinished || !(count > 0)) return;
      bytes += count;
      const at = now();
      lastByteAt = at;
      if (at - (samples[samples.length - 1]?.at ?? startedAt) >= SAMPLE_GAP_MS) {
        samples.push({ at, bytes });
      }
      while (samples.length > 2 && (samples[1]?.at ?? at) <= at - RATE_WINDOW_MS) samples.shift();
      if (at - lastDrawAt < minGapMs) return;
      lastDrawAt = at;
      draw(formatProgressLine(state(at, false)), false);
    },
    finish(): void {
      if (!options.enabled || isFinished) return;
      isFinished = true;
      cancelTick();
      draw(formatProgressLine(state(now(), true)), true);
    },
  };
}
