import type { BackupOptions } from '../backup.js';

/** `z3 backup` with no flags but `--quiet` (incremental), with `over` applied. */
export function backupOptions(over: Partial<BackupOptions> = {}): BackupOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    snapshot: undefined,
    dryRun: false,
    compressor: undefined,
    gpgRecipient: undefined,
    parseable: false,
    mode: 'incremental',
    concurrency: undefined,
    chunkSize: undefined,
    storageClass: undefined,
    quiet: true,
    wait: false,
    ...over,
  };
}
