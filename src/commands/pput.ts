import { createReadStream, fstatSync, type Stats } from 'node:fs';
import { formatMiB } from '../config/sizes.js';
import { loadConfigSources } from '../config/load.js';
import { resolveSettings, type SettingFlags } from '../config/settings.js';
import { UsageError } from '../errors.js';
import { choosePartSize } from '../transfer/part-size.js';
import { fdReader } from '../transfer/fd-reader.js';
import {
  uploadStream,
  type UploadResult,
  type UploadSource,
  type UploadStreamOptions,
} from '../transfer/uploader.js';
import { prepareResumable, resumeReport, uploadResumable } from '../resume/resumable-upload.js';
import type { Settings } from '../config/types.js';
import { partsInFlight } from '../transfer/memory-budget.js';
import { pipeReader } from '../transfer/pipe-reader.js';
import { createProgress } from '../ui/progress.js';
import { withSafeOutput, type CommandPorts } from './ports.js';
import { requireObjectKey } from './object-key.js';

/** Raw `pput` options as typed; defaults come from the config layer. */
export interface PputOptions {
  name: string;
  config: string | undefined;
  /** `--backup-dir`: a local directory target instead of BUCKET. */
  backupDir?: string | undefined;
  chunkSize: string | undefined;
  /** `--estimated` in bytes. */
  estimated: number | undefined;
  fileDescriptor: number;
  concurrency: string | undefined;
  /** `--memory` (MEMORY_LIMIT), raw. */
  memory?: string | undefined;
  storageClass: string | undefined;
  /** `--limit-upload` (LIMIT_UPLOAD), raw. */
  limitUpload?: string | undefined;
  metadata: string[];
  progress: boolean;
  quiet: boolean;
  /** `--resume`: journal the upload; keep it on a signal; take up a matching pending one. */
  resume?: boolean | undefined;
}

/**
 * `--metadata key=value` pairs, split at the first `=` (so `dana=are=pere` is `dana` →
 * `are=pere`). Keys are lower-cased, as S3 stores them.
 *
 * @throws UsageError `malformed metadata '<m>'; should be key=value`
 */
export function parseMetadata(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`malformed metadata '${pair}'; should be key=value`);
    out[pair.slice(0, eq).toLowerCase()] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Upload the input to `<BUCKET>/<name>`. Prints the original's banner on stderr and its JSON
 * result on stdout (both unless `--quiet`). Nothing is committed unless every byte was read
 * and uploaded; on any failure or signal the multipart upload is aborted, unless `--resume`
 * keeps it (with its journal) for the next `pput --resume` of the same key.
 */
export async function putStream(options: PputOptions, rawPorts: CommandPorts): Promise<void> {
  requireObjectKey(options.name, 'pput');
  const ports = withSafeOutput(rawPorts);
  const metadata = parseMetadata(options.metadata);
  const flags: SettingFlags = {};
  if (options.backupDir !== undefined) flags.backupDir = options.backupDir;
  if (options.chunkSize !== undefined) flags.chunkSize = options.chunkSize;
  if (options.concurrency !== undefined) flags.concurrency = options.concurrency;
  if (options.memory !== undefined) flags.memoryLimit = options.memory;
  if (options.storageClass !== undefined) flags.storageClass = options.storageClass;
  if (options.limitUpload !== undefined) flags.limitUpload = options.limitUpload;
  const sources = loadConfigSources({ configFlag: options.config, env: ports.env });
  const settings = resolveSettings(sources, flags);
  const storage = ports.openStorage(settings);
  const where = `${storage.name}/${options.name}`;
  const partSize = choosePartSize({ chunkSize: settings.chunkSize, estimated: options.estimated });
  const { concurrency, memoryLimit } = settings;
  const workers = partsInFlight({ concurrency, partSize, memoryLimit });
  const source = openInput(options.fileDescriptor);
  if (!options.quiet) {
    ports.stderr.write(
      `starting upload to ${where} with chunksize ${formatMiB(partSize)}M ` +
        `using ${workers} workers\n`,
    );
  }
  const progress = createProgress({
    label: where,
    ...(options.estimated !== undefined ? { total: options.estimated } : {}),
    stream: ports.stderr,
    enabled: options.progress,
    now: ports.now,
  });
  try {
    const upload: UploadStreamOptions = {
      source,
      backend: storage.backend,
      key: options.name,
      metadata,
      storageClass: settings.storageClass,
      partSize,
      concurrency: workers,
      signal: ports.signal,
      onProgress: (bytes) => progress.add(bytes),
    };
    const say = (line: string): void => {
      progress.finish();
      ports.stderr.write(`pput: ${line}\n`);
    };
    const result =
      options.resume === true
        ? await putResumable({ upload, settings, ports, say, quiet: options.quiet })
        : await uploadStream(upload);
    progress.finish();
    if (!options.quiet) {
      ports.stdout.write(`{"status": "success", "etag": ${JSON.stringify(result.etag)}}\n`);
    }
  } finally {
    // Also on failure: ends a live line, so the error message starts on its own line.
    progress.finish();
  }
}

/**
 * `pput --resume`: journaled by target and key (no pipeline: pput cannot see what feeds it, and
 * the part check is what proves the bytes the same). With `--quiet` it says what it resumed
 * only when the upload fails (the kept parts), never on success.
 */
async function putResumable(input: {
  upload: UploadStreamOptions;
  settings: Settings;
  ports: CommandPorts;
  say: (line: string) => void;
  quiet: boolean;
}): Promise<UploadResult> {
  const { upload, ports, say, quiet } = input;
  const journal = {
    stateDir: input.settings.stateDir,
    pipeline: [],
    warn: (message: string) => ports.stderr.write(`pput: warning: ${message}\n`),
    say,
  };
  // before any part: no progress line to end yet, nor to finish for good
  const early = (line: string): void => {
    if (!quiet) ports.stderr.write(`pput: ${line}\n`);
  };
  const prepared = await prepareResumable({ ...journal, say: early, upload });
  const result = await uploadResumable(prepared, { ...journal, upload, now: ports.now });
  if (result.resumed !== undefined && !quiet) say(resumeReport(upload.key, result, result.resumed));
  return result;
}

/**
 * stdin, or the given descriptor. A regular file is read with `fs.read` straight into the part
 * buffers (src/transfer/fd-reader.ts says why only a file), a pipe or socket by the event loop
 * straight into them (src/transfer/pipe-reader.ts); anything else (a terminal, a device) as a
 * stream.
 * Checked before the upload starts, so a descriptor that is not open is a usage error, not an
 * aborted upload.
 */
function openInput(fd: number): UploadSource {
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`--file-descriptor ${fd}: cannot read it (${code})`, { cause: err });
  }
  if (stats.isFile()) return fdReader(fd);
  if (stats.isFIFO() || stats.isSocket()) return pipeReader(fd);
  return fd === 0 ? process.stdin : createReadStream('', { fd, highWaterMark: 1024 * 1024 });
}
