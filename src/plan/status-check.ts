/**
 * `z3 status --check`: one dataset's backups judged as a monitoring plugin (Nagios, Icinga,
 * Zabbix, Sensu) wants it: a state, whose exit code is the plugin convention (0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN), and one line of text with performance data. A broken chain and no
 * backup at all are CRITICAL whatever the age, since neither can be restored from; otherwise the
 * newest backup's age (its snapshot's time, src/plan/backup-time.ts: what a restore would bring
 * back, not when it was uploaded) is held against the two thresholds. Pure: `now` is passed in.
 */
import { backupTime } from './backup-time.js';
import { healthOf } from './health.js';
import type { HealthMap, RemoteSnapshot } from './types.js';

/** Plugin states and their exit codes (Monitoring Plugins Development Guidelines, "Plugin Return Codes"). */
export const CHECK_EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;

export type CheckState = keyof typeof CHECK_EXIT;

/** The outcome of a check: the state (exit code `CHECK_EXIT[state]`) and the line to print. */
export interface CheckResult {
  state: CheckState;
  /** `OK: tank/data newest backup 3h ago, chain healthy | age=10800s;93600;180000;0 backups=3`. */
  line: string;
}

export interface CheckInput {
  dataset: string;
  /** The dataset's backups, as listed. */
  remote: readonly RemoteSnapshot[];
  health: HealthMap;
  /** Milliseconds since the epoch. */
  now: number;
  /** Age (ms) from which the newest backup is WARNING; at most `critAfter`. */
  warnAfter: number;
  /** Age (ms) from which the newest backup is CRITICAL. */
  critAfter: number;
}

/** Judge one dataset's backups; see the module comment for the rules. */
export function checkBackups(input: CheckInput): CheckResult {
  const { dataset, remote } = input;
  if (remote.length === 0) return { state: 'CRITICAL', line: `CRITICAL: ${dataset} has no backup` };
  const times = remote.flatMap((snapshot) => backupTime(snapshot)?.time ?? []);
  if (times.length === 0) {
    return { state: 'UNKNOWN', line: `UNKNOWN: ${dataset}: no backup tells its time` };
  }
  const age = Math.max(0, input.now - Math.max(...times));
  const broken = remote.filter((snapshot) => healthOf(snapshot, input.health) !== 'ok');
  const state = stateOf({ age, isBroken: broken.length > 0, ...input });
  const chain =
    broken.length === 0
      ? 'chain healthy'
      : `${broken.length} broken backup${broken.length === 1 ? '' : 's'} (${broken[0]!.name}: ${healthOf(broken[0]!, input.health)})`;
  const perf = `age=${Math.floor(age / 1000)}s;${input.warnAfter / 1000};${input.critAfter / 1000};0 backups=${remote.length}`;
  return {
    state,
    line: `${state}: ${dataset} newest backup ${formatAge(age)} ago, ${chain} | ${perf}`,
  };
}

function stateOf(input: {
  age: number;
  isBroken: boolean;
  warnAfter: number;
  critAfter: number;
}): CheckState {
  if (input.isBroken || input.age >= input.critAfter) return 'CRITICAL';
  return input.age >= input.warnAfter ? 'WARNING' : 'OK';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `45m`, `3h` (below three days, so `26h` thresholds read naturally), `4d`; rounded down. */
export function formatAge(ms: number): string {
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m`;
  if (ms < 3 * DAY) return `${Math.floor(ms / HOUR)}h`;
  return `${Math.floor(ms / DAY)}d`;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE, h: HOUR, d: DAY };
const AGE = /^(?:\d+[dhms])+$/;

/**
 * A threshold like `26h`, `2d`, `90m` or `1d2h` (d days, h hours, m minutes, s seconds) in
 * milliseconds; undefined when `text` is not one (the caller names the flag).
 */
export function parseAge(text: string): number | undefined {
  const trimmed = text.trim();
  if (!AGE.test(trimmed)) return undefined;
  let ms = 0;
  for (const [, count, unit] of trimmed.matchAll(/(\d+)([dhms])/g)) {
    ms += Number(count) * UNIT_MS[unit!]!;
  }
  return ms > 0 ? ms : undefined;
}
