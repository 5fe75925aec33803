/** The options of the `z3 cleanup` unit tests: every flag at its default unless given. */
import type { CleanupOptions } from '../cleanup.js';

export function cleanupOptions(extra: Partial<CleanupOptions> = {}): CleanupOptions {
  return {
    config: undefined,
    s3Prefix: undefined,
    filesystem: undefined,
    snapshotPrefix: undefined,
    olderThan: undefined,
    dryRun: false,
    json: false,
    ...extra,
  };
}
