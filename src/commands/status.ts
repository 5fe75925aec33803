import type { Settings } from '../config/types.js';
import { EXIT } from '../errors.js';
import { planStatus, type StatusRow } from '../plan/status.js';
import { renderStatusJson, renderStatusTable, renderStatusTitle } from '../ui/status-table.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { datasetExists } from '../zfs/zfs.js';
import { withSafeOutput, zfsRunner, type CommandPorts } from './ports.js';
import { openSnapshotState } from './snapshot-state.js';
import { lastVerified } from './verify-remember.js';

export interface StatusOptions extends GlobalFlags {
  json: boolean;
  /** Add the CHAIN column (chain length) to the table; `--json` always has `chainLength`. */
  chainLength?: boolean;
  /** Add the MODE column (raw / compressed / plain send); `--json` always has `mode`. */
  mode?: boolean;
}

/**
 * `z3 status`: the table of spec 5 (or JSON Lines with --json), then exit 3 when any backup is
 * broken (missing parent, parent broken, cycle) so that a cron job or a monitor can alert on
 * it, else 0. A dataset missing on this host is not an error (a machine that lost its pool still
 * shows its backups), but it is said on stderr.
 */
export async function runStatus(opts: StatusOptions, rawPorts: CommandPorts): Promise<number> {
  const ports = withSafeOutput(rawPorts);
  const settings = loadSettings(opts, ports.env);
  const filesystem = requireFilesystem(settings);
  const { storage, local, remote, health } = await openSnapshotState({
    settings,
    ports,
    filesystem,
    localDataset: filesystem,
    selectLocal: true,
  });
  if (!local.exists) {
    ports.stderr.write(
      `z3: warning: dataset '${filesystem}' does not exist on this host; showing its backups only\n`,
    );
  }
  await warnAboutUnknownSections(settings, ports);
  const rows = planStatus({ local: local.snapshots, remote, health });
  if (opts.json) {
    ports.stdout.write(renderStatusJson(rows, await lastVerified(settings, storage, remote)));
    return exitCodeOf(rows);
  }
  const title = renderStatusTitle({
    filesystem,
    snapshotPrefix: settings.snapshotPrefix,
    bucket: storage.name,
    s3PrefixRaw: settings.s3PrefixRaw,
  });
  const table = renderStatusTable(rows, {
    withChainLength: opts.chainLength === true,
    withMode: opts.mode === true,
  });
  ports.stdout.write(`${title}\n${table}`);
  return exitCodeOf(rows);
}

function exitCodeOf(rows: readonly StatusRow[]): number {
  const isBroken = rows.some((row) => row.health !== undefined && row.health !== 'ok');
  return isBroken ? EXIT.INTEGRITY : EXIT.OK;
}

/**
 * Warn (stderr) about each `[fs:<dataset>]` section of the config file that names no existing
 * dataset: a typo there silently leaves that dataset on the `[main]` settings. Only `status`
 * checks, since it is the command run to inspect a setup; backups are not slowed by it.
 */
async function warnAboutUnknownSections(
  settings: Settings,
  ports: Pick<CommandPorts, 'zfs' | 'stderr'>,
): Promise<void> {
  const file = settings.configFile;
  if (file === undefined) return;
  const run = zfsRunner(ports);
  // One after the other: a config file has a handful of sections, and `zfs list` is quick.
  for (const dataset of file.fsDatasets) {
    if (!(await datasetExists(dataset, { run }))) {
      ports.stderr.write(`z3: warning: ${file.path} [fs:${dataset}]: no such dataset\n`);
    }
  }
}
