import type { MainContext } from '../cli/run-main.js';
import { requirePrograms } from '../pipeline/programs.js';
import { planStatus } from '../plan/status.js';
import { renderStatusJson, renderStatusTable, renderStatusTitle } from '../ui/status-table.js';
import { loadSettings, openStore, requireFilesystem, type GlobalFlags } from './context.js';
import { readSnapshotState } from './snapshot-state.js';

export interface StatusOptions extends GlobalFlags {
  json: boolean;
}

/** `z3 status`: the table of spec 5 (or JSON Lines with --json). Exit 0 whatever the health. */
export async function runStatus(opts: StatusOptions, _ctx: MainContext): Promise<number> {
  const settings = loadSettings(opts);
  const filesystem = requireFilesystem(settings);
  const { store, bucket } = openStore(settings);
  await requirePrograms([['zfs']]);
  const { local, remote, health } = await readSnapshotState(store, settings, {
    filesystem,
    localDataset: filesystem,
    selectLocal: true,
  });
  const rows = planStatus({ local: local.snapshots, remote, health });
  if (opts.json) {
    process.stdout.write(renderStatusJson(rows));
    return 0;
  }
  const title = renderStatusTitle({
    filesystem,
    snapshotPrefix: settings.snapshotPrefix,
    bucket,
    s3PrefixRaw: settings.s3PrefixRaw,
  });
  process.stdout.write(`${title}\n${renderStatusTable(rows)}`);
  return 0;
}
