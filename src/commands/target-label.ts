import type { Settings } from '../config/types.js';

/**
 * Where a run's backups are, for metrics labels and `--json` events, without credentials or
 * endpoint: `s3://<bucket>/<prefix>` or the BACKUP_DIR directory and prefix.
 */
export function targetLabel(settings: Settings): string {
  const where = settings.backupDir ?? `s3://${settings.bucket ?? ''}`;
  return `${where.replace(/\/+$/, '')}/${settings.s3Prefix}`;
}
