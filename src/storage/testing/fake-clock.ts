/** A fake clock for pacing tests (the token bucket, the throttled backend): time moves only when `run` jumps it. */

export interface FakeClock {
  now: () => number;
  /** Time passes with nothing waiting. */
  advance: (ms: number) => void;
  sleep: (ms: number) => Promise<void>;
  /** Let every promise settle, then jump to the next timer, until none is left. */
  run: () => Promise<void>;
}

/** A clock at 0 whose `sleep` resolves when `run` has moved time past its deadline. */
export function fakeClock(): FakeClock {
  let time = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: time + ms, resolve })),
    async run(): Promise<void> {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        if (timers.length === 0) return;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift()!;
        time = Math.max(time, next.at);
        next.resolve();
      }
    },
  };
}
