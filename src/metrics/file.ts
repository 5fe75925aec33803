/**
 * The metrics file on disk. One file per dataset and target: METRICS_FILE `<dir>/<name>.prom`
 * is written as `<dir>/<name>-<16 hex of sha256(dataset, target)>.prom`, so the runs of several
 * datasets (one per dataset, or a loop over them) share node_exporter's textfile directory
 * without overwriting each other's series and without a lock of their own: a run rewrites its
 * file under the backup lock of its dataset and target (only a run that failed before taking it
 * writes without; the lock holder overwrites that when it ends). Written atomically (a temp
 * file in the same directory, fsync, rename, fsync of the directory): the collector reads either
 * the old file or the new one, never half of one. The temp name does not end in `.prom`, so the
 * collector never reads it.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { MetricLabels } from './render.js';

/** The file of one dataset and target for METRICS_FILE `file` (which ends in `.prom`). */
export function metricsPath(file: string, labels: MetricLabels): string {
  const digest = createHash('sha256')
    .update(`${labels.dataset}\0${labels.target}`)
    .digest('hex')
    .slice(0, 16);
  return join(dirname(file), `${basename(file, '.prom')}-${digest}.prom`);
}

/** The previous text at `path`; empty when there is none or it cannot be read. Never throws. */
export async function readPrevious(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** Replace `path` by `text` atomically (see the module comment). Throws the file system error. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Make the rename durable; a file system that cannot sync a directory is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
