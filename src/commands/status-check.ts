/**
 * `z3 status --check`: the monitoring-plugin form of status (src/plan/status-check.ts judges).
 * It reads only the storage side, so it also runs where `zfs` is not installed (a monitoring
 * host with the same config). Every failure, a bad threshold or config value included, is
 * UNKNOWN (exit 3) with one line on stdout, as the plugin convention wants: a monitor must be
 * able to tell "the backups are bad" (CRITICAL) from "the check could not look" (UNKNOWN).
 */
import { redact } from '../cli/secrets.js';
import { UsageError, Z3Error } from '../errors.js';
import { computeHealth } from '../plan/health.js';
import { checkBackups, CHECK_EXIT, parseAge, type CheckResult } from '../plan/status-check.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { warnOn, withSafeOutput, type CommandPorts } from './ports.js';
import { fetchRemoteSnapshots } from './remote-snapshots.js';

/** Thresholds when `--warn` / `--crit` are not given: a nightly backup a little over 1 and 2 days old. */
export const DEFAULT_WARN = '26h';
export const DEFAULT_CRIT = '50h';

export interface StatusCheckOptions extends GlobalFlags {
  /** `--warn`: age like `26h` from which the newest backup is WARNING. */
  warn: string | undefined;
  /** `--crit`: age from which it is CRITICAL. */
  crit: string | undefined;
}

/** Print the check's one line on stdout and return its plugin exit code (0–3). */
export async function runStatusCheck(
  opts: StatusCheckOptions,
  rawPorts: CommandPorts,
): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  let result: CheckResult;
  try {
    result = await check(opts, ports);
  } catch (err) {
    const why = err instanceof Z3Error ? err.message : `internal error: ${String(err)}`;
    result = { state: 'UNKNOWN', line: `UNKNOWN: ${why.split('\n', 1)[0] ?? ''}` };
  }
  ports.stdout.write(`${redact(result.line)}\n`);
  return CHECK_EXIT[result.state];
}

async function check(opts: StatusCheckOptions, ports: CommandPorts): Promise<CheckResult> {
  const warnAfter = thresholdOf('--warn', opts.warn ?? DEFAULT_WARN);
  const critAfter = thresholdOf('--crit', opts.crit ?? DEFAULT_CRIT);
  if (warnAfter > critAfter) {
    throw new UsageError(
      `--warn ${opts.warn ?? DEFAULT_WARN} is longer than --crit ${opts.crit ?? DEFAULT_CRIT}`,
    );
  }
  const settings = loadSettings(opts, ports.env);
  const dataset = requireFilesystem(settings);
  const remote = await fetchRemoteSnapshots(ports.openStorage(settings), {
    prefix: settings.s3Prefix,
    filesystem: dataset,
    snapshotPrefix: settings.snapshotPrefix,
    warn: warnOn(ports),
  });
  const health = computeHealth(remote);
  return checkBackups({ dataset, remote, health, now: ports.now(), warnAfter, critAfter });
}

function thresholdOf(flag: string, text: string): number {
  const ms = parseAge(text);
  if (ms === undefined) {
    throw new UsageError(`${flag} ${text}: expected an age like 26h, 2d, 90m or 1d2h`);
  }
  return ms;
}
