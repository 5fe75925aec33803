/** Reading `--json` output in the integration and end-to-end tiers. */
import { expect } from 'vitest';

/** One event of `--json` (README "JSON events"). */
export type JsonEvent = Record<string, unknown>;

/** Every line of `stdout` as a version-1 event with a valid time; any other line fails the test. */
export function parseEvents(stdout: string): JsonEvent[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const event = JSON.parse(line) as JsonEvent;
      expect(event['version']).toBe(1);
      expect(Number.isNaN(Date.parse(String(event['time'])))).toBe(false);
      return event;
    });
}
