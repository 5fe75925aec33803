/**
 * The lock of `z3 backup`: one run per dataset and target. Two runs of one dataset (a cron job
 * that overlaps a slow upload) would otherwise both plan from the same listing and upload every
 * snapshot twice; the second is refused (exit 2) or, with `--wait`, runs after the first and
 * finds its work done.
 */
import type { Settings } from '../config/types.js';
import type { LockRequest } from '../lock/acquire.js';
import { lockName } from '../lock/name.js';
import type { Storage } from '../storage/open.js';
import type { CommandPorts } from './ports.js';

export const BACKUP_BUSY_HINT = 'wait for it, or pass --wait';

/**
 * The lock request of a backup (or, with `command: 'prune'`, a prune: the same lock, so that a
 * prune never deletes a parent a running backup is about to use) of `filesystem` into `storage`
 * under S3_PREFIX. The lock file's
 * name is a digest of the target's identity (endpoint and bucket, or the directory), the
 * normalised prefix and the dataset, so runs into different buckets or prefixes, or of other
 * datasets, never wait for each other.
 */
export function backupLockRequest(input: {
  settings: Settings;
  storage: Storage;
  filesystem: string;
  wait: boolean;
  quiet: boolean;
  ports: Pick<CommandPorts, 'signal' | 'stderr'>;
  /**
   * The command taking the lock (default `backup`), recorded in the lock file: a run that finds
   * the lock taken names what the holder is doing.
   */
  command?: 'backup' | 'prune' | 'holds' | undefined;
}): LockRequest {
  const { settings, storage, filesystem, ports } = input;
  const description = `z3 ${input.command ?? 'backup'} of ${filesystem} to ${storage.name}/${settings.s3PrefixRaw}`;
  return {
    dir: settings.lockDir,
    name: lockName('backup', [storage.identity, settings.s3Prefix, filesystem]),
    description,
    wait: input.wait,
    signal: ports.signal,
    busyHint: BACKUP_BUSY_HINT,
    onWait: (holder) => {
      if (input.quiet) return;
      const who = holder.pid === undefined ? '' : ` (pid ${holder.pid})`;
      ports.stderr.write(
        `z3: waiting for another ${holder.description ?? description}${who} to finish\n`,
      );
    },
  };
}
