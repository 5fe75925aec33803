import type { Settings } from '../config/types.js';
import { planStatus } from '../plan/status.js';
import { renderStatusJson, renderStatusTable, renderStatusTitle } from '../ui/status-table.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import { datasetExists } from '../zfs/zfs.js';
import { zfsRunner, type CommandPorts } from './ports.js';
import { openSnapshotState } from './snapshot-state.js';
import { lastVerified } from './verify-remember.js';

export interface StatusOptions extends GlobalFlags {
  json: boolean;
}

/** `z3 status`: the table of spec 5 (or JSON Lines with --json). Exit 0 whatever the health. */
export async function runStatus(opts: StatusOptions, ports: CommandPorts): Promise<number> {
  const settings = loadSettings(opts, ports.env);
  const filesystem = requireFilesystem(settings);
  const { storage, local, remote, health } = await openSnapshotState({
    settings,
    ports,
    filesystem,
    localDataset: filesystem,
    selectLocal: true,
  });
  await warnAboutUnknownSections(settings, ports);
  const rows = planStatus({ local: local.snapshots, remote, health });
  if (opts.json) {
    ports.stdout.write(renderStatusJson(rows, await lastVerified(settings, storage, remote)));
    return 0;
  }
  const title = renderStatusTitle({
    filesystem,
    snapshotPrefix: settings.snapshotPrefix,
    bucket: storage.name,
    s3PrefixRaw: settings.s3PrefixRaw,
  });
  ports.stdout.write(`${title}\n${renderStatusTable(rows)}`);
  return 0;
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
