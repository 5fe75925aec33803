/**
 * `z3 prune`: delete the backups of one dataset that its retention policy (KEEP_*, restic's
 * `forget` semantics) does not keep. Read state → pure plan (src/plan/prune.ts) → delete, one
 * object at a time, children before parents, so a run stopped at any point leaves every
 * remaining backup restorable that was before. Local snapshots are never touched: that is the
 * snapshot tool's job, so prune does not even need `zfs`.
 */
import type { SettingFlags } from '../config/settings.js';
import type { Settings } from '../config/types.js';
import { EXIT, UsageError } from '../errors.js';
import type { HeldLock } from '../lock/acquire.js';
import { computeHealth } from '../plan/health.js';
import { removeBackup } from '../transfer/segments-read.js';
import { planPrune, type PrunePlan } from '../plan/prune.js';
import { isEmptyPolicy } from '../plan/retention.js';
import type { Storage } from '../storage/open.js';
import type { EventSink } from '../ui/events.js';
import { earlyDeletionWarnings, pruneEvents, renderPrunePlan } from '../ui/prune-report.js';
import { backupLockRequest } from './backup-lock.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { withSafeOutput, type CommandPorts } from './ports.js';
import { fetchRemoteSnapshots } from './remote-snapshots.js';
import { withRunEvents } from './run-events.js';
import { targetLabel } from './target-label.js';

export interface PruneOptions extends GlobalFlags {
  /** The `--keep-*` flags, raw (`keepDaily: '7'`); they override KEEP_* from other layers. */
  keep: Pick<
    SettingFlags,
    | 'keepLast'
    | 'keepHourly'
    | 'keepDaily'
    | 'keepWeekly'
    | 'keepMonthly'
    | 'keepYearly'
    | 'keepWithin'
  >;
  /** Delete broken backups (missing parent, parent broken, cycle) too. */
  broken: boolean;
  dryRun: boolean;
  /** Show each backup's time and where it came from. */
  verbose: boolean;
  json: boolean;
  /** Wait for a running backup or prune of the dataset instead of exit 2. */
  wait: boolean;
}

const NO_POLICY_HINT =
  'pass --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly ' +
  'or --keep-within, or set KEEP_* in [main] or [fs:<dataset>] of the config file';

/**
 * Exit 0 when the plan was carried out (or shown, with --dry-run). A closed stdout or stderr
 * never stops the deletions half-way (`withSafeOutput`).
 */
export async function runPrune(opts: PruneOptions, rawPorts: CommandPorts): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  return withRunEvents(opts.json, ports, (events) => prune(opts, ports, events));
}

async function prune(opts: PruneOptions, ports: CommandPorts, events: EventSink): Promise<number> {
  const settings = loadSettings(opts, ports.env, opts.keep);
  const filesystem = requireFilesystem(settings);
  if (isEmptyPolicy(settings.retention)) {
    throw new UsageError('no retention policy: refusing to prune without one', {
      hint: NO_POLICY_HINT,
    });
  }
  events.emit({
    event: 'start',
    command: 'prune',
    dataset: filesystem,
    target: targetLabel(settings),
  });
  const storage = ports.openStorage(settings);
  const lock = opts.dryRun
    ? undefined
    : await takeLock({ settings, storage, filesystem, opts, ports });
  try {
    const plan = await readPlan({ settings, storage, filesystem, opts, ports });
    report({ plan, opts, ports, events });
    if (!opts.dryRun) await deleteInOrder({ plan, storage, ports, events });
    return EXIT.OK;
  } finally {
    lock?.release();
  }
}

interface RunInput {
  settings: Settings;
  storage: Storage;
  filesystem: string;
  opts: PruneOptions;
  ports: CommandPorts;
}

function takeLock(input: RunInput): Promise<HeldLock> {
  const request = backupLockRequest({
    ...input,
    wait: input.opts.wait,
    quiet: input.opts.json,
    command: 'prune',
  });
  return input.ports.lock(request);
}

/**
 * List every backup of the dataset, whatever its snapshot prefix: chains may cross prefixes,
 * and health judged on a narrower listing would call a backup broken whose parent is merely
 * outside it. The planner prunes only under SNAPSHOT_PREFIX.
 */
async function readPlan(input: RunInput): Promise<PrunePlan> {
  const { settings, opts, ports } = input;
  const backups = await fetchRemoteSnapshots(input.storage, {
    prefix: settings.s3Prefix,
    filesystem: input.filesystem,
    snapshotPrefix: '',
  });
  return planPrune({
    backups,
    health: computeHealth(backups),
    policy: settings.retention,
    now: ports.now(),
    deleteBroken: opts.broken,
    snapshotPrefix: settings.snapshotPrefix,
  });
}

/** The plan on stdout (lines, or `prune` events with --json) and its warnings on stderr. */
function report(input: ActInput & { opts: PruneOptions }): void {
  const { plan, opts, ports, events } = input;
  const warn = (message: string): void => {
    ports.stderr.write(`z3: warning: ${message}\n`);
    events.emit({ event: 'warning', message });
  };
  earlyDeletionWarnings(plan).forEach(warn);
  const keptBroken = plan.broken.filter((row) => plan.kept.includes(row));
  if (keptBroken.length > 0 && !opts.broken) {
    warn(
      `${keptBroken.length} broken backup(s) kept; 'z3 status' shows them, --broken deletes them`,
    );
  }
  if (opts.json) pruneEvents(plan).forEach((event) => events.emit(event));
  else ports.stdout.write(renderPrunePlan(plan, opts));
}

interface ActInput {
  plan: PrunePlan;
  ports: CommandPorts;
  events: EventSink;
}

/**
 * Delete `plan.deleted` in its order (children first), one at a time, stopping at the first
 * failure or interruption: what was deleted up to then left no backup without its parent, and
 * the next run plans again from what is there.
 */
async function deleteInOrder(input: ActInput & { storage: Storage }): Promise<void> {
  const { plan, storage, ports, events } = input;
  let done = 0;
  try {
    for (const row of plan.deleted) {
      ports.signal.throwIfAborted();
      await removeBackup(storage.backend, row.snapshot);
      done += 1;
      const { name: snapshot, key, objectSize: bytes } = row.snapshot;
      events.emit({ event: 'object-deleted', snapshot, key, bytes });
    }
  } catch (err) {
    ports.stderr.write(
      `z3: prune stopped after deleting ${done} of ${plan.deleted.length} backups; ` +
        'no remaining backup lost its parent; run it again to finish\n',
    );
    throw err;
  }
}
