import { loadConfigSources } from '../config/load.js';
import { resolveSettings, type SettingFlags } from '../config/settings.js';
import { OutputError, StorageError } from '../errors.js';
import { downloadKeys, streamAt } from '../transfer/segments-read.js';
import { downloadRanges } from '../transfer/memory-budget.js';
import { createProgress, type Progress } from '../ui/progress.js';
import { isBrokenPipe } from '../ui/safe-sink.js';
import { requireObjectKey } from './object-key.js';
import type { CommandPorts } from './ports.js';

/** Raw `z3_get` options, as typed (no defaults: those come from the config layer). */
export interface GetOptions {
  name: string;
  config: string | undefined;
  /** `--backup-dir`: a local directory target instead of BUCKET. */
  backupDir?: string | undefined;
  concurrency: string | undefined;
  chunkSize: string | undefined;
  /** `--memory` (MEMORY_LIMIT), raw. */
  memory?: string | undefined;
  /** `--limit-download` (LIMIT_DOWNLOAD), raw. */
  limitDownload?: string | undefined;
  progress: boolean;
}

/**
 * Download `options.name` from BUCKET to stdout, in order, with CONCURRENCY ranged GETs of
 * CHUNK_SIZE. Unlike the original (spec 13.6), a missing key or any failure is an error on
 * stderr and a non-zero exit, and nothing more reaches stdout after it. A reader that stops
 * reading (`z3_get KEY | head -c 10`, EPIPE) ends the download quietly: it resolves.
 *
 * @throws StorageError (exit 5) `no such object s3://<bucket>/<key>` and any failed request;
 *   ConfigError (exit 2) when BUCKET is not set or a setting is invalid; UsageError (exit 2)
 *   for an empty key; OutputError (exit 4) when stdout fails otherwise (EIO, a full disk).
 */
export async function getToStdout(options: GetOptions, ports: CommandPorts): Promise<void> {
  requireObjectKey(options.name, 'z3_get');
  const sources = loadConfigSources({ configFlag: options.config, env: ports.env });
  const flags: SettingFlags = {};
  if (options.backupDir !== undefined) flags.backupDir = options.backupDir;
  if (options.concurrency !== undefined) flags.concurrency = options.concurrency;
  if (options.chunkSize !== undefined) flags.chunkSize = options.chunkSize;
  if (options.memory !== undefined) flags.memoryLimit = options.memory;
  if (options.limitDownload !== undefined) flags.limitDownload = options.limitDownload;
  const settings = resolveSettings(sources, flags);
  const { chunkSize, concurrency } = downloadRanges(settings);
  const storage = ports.openStorage(settings);
  const displayName = `${storage.backend.location}/${options.name}`;
  let progress: Progress | undefined;
  let sinkFailure: Error | undefined;
  const onSinkError = (err: Error): void => {
    sinkFailure ??= err;
  };
  ports.stdout.on('error', onSinkError);
  try {
    // a segmented backup is its segments, in order; one with a segment missing is refused first
    const stream = await streamAt(storage.backend, options.name);
    await downloadKeys(
      {
        backend: storage.backend,
        key: options.name,
        displayName,
        chunkSize,
        concurrency,
        signal: ports.signal,
        sink: ports.stdout,
        isSinkDoneAtCallback: true,
        onStart: (size) => {
          progress = createProgress({
            label: displayName,
            total: size,
            stream: ports.stderr,
            enabled: options.progress,
            now: ports.now,
          });
        },
        onProgress: (bytes) => progress?.add(bytes),
      },
      stream.keys,
      stream.size,
    );
  } catch (err) {
    if (sinkFailure !== undefined) {
      if (isBrokenPipe(sinkFailure)) return;
      throw new OutputError(`cannot write to standard output: ${sinkFailure.message}`, {
        cause: sinkFailure,
      });
    }
    if (err instanceof StorageError && err.isNotFound && err.message.startsWith('no such')) {
      throw new StorageError(err.message, {
        isNotFound: true,
        cause: err,
        hint: 'z3_get takes the full key, S3_PREFIX included, e.g. z3-backup/tank/data@snap',
      });
    }
    throw err;
  } finally {
    ports.stdout.off('error', onSinkError);
    // Also on failure: ends a live line, so the error message starts on its own line.
    progress?.finish();
  }
}
