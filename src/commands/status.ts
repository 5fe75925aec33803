import { planStatus } from '../plan/status.js';
import { renderStatusJson, renderStatusTable, renderStatusTitle } from '../ui/status-table.js';
import { loadSettings, requireFilesystem, type GlobalFlags } from './context.js';
import type { CommandPorts } from './ports.js';
import { openSnapshotState } from './snapshot-state.js';

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
  const rows = planStatus({ local: local.snapshots, remote, health });
  if (opts.json) {
    ports.stdout.write(renderStatusJson(rows));
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
