import type { BackupOptions } from '../backup.js';

/** `z3 backup` options as the CLI passes them with no flag given, then `over`. */
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
    quiet: false,
    wait: false,
    ...over,
  };
}
