import type { RestoreOptions } from '../restore.js';

/** `z3 restore snap-3 --quiet` options as the CLI passes them, then `over`. */
export function restoreOptions(over: Partial<RestoreOptions> = {}): RestoreOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    snapshot: 'snap-3',
    dryRun: false,
    force: false,
    target: undefined,
    concurrency: undefined,
    chunkSize: undefined,
    quiet: true,
    ...over,
  };
}
