import { registerSecret } from '../cli/secrets.js';
import { ConfigError } from '../errors.js';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import { findSection, type IniSection } from './ini.js';
import { checkKnownKeys } from './known-keys.js';
import type { ConfigSources } from './load.js';
import { parseMetricsFile } from './metrics-file.js';
import { parseChainLimits } from './chain-limits.js';
import { parseRetention } from './retention.js';
import { MIB, parseSize } from './sizes.js';
import { parseBandwidth } from './bandwidth.js';
import { parseStateDir } from './state-dir.js';
import { COMPRESSOR_NAMES, type Settings } from './types.js';
import { normalizePrefix } from '../plan/remote.js';
import { parseSendFlags } from '../plan/send-flags.js';
import { MAX_PART_SIZE } from '../transfer/part-size.js';

/**
 * Every key z3 reads, from the config file or the environment: the one list to extend when a
 * setting is added (one line here, and its entry in z3.conf.sample, which settings.test.ts
 * checks). Settings are read only through a lookup typed by this list, and a key in the file
 * that is not in it is a ConfigError naming the nearest one (./known-keys.ts).
 */
export const CONFIG_KEYS = [
  'BUCKET',
  'BACKUP_DIR',
  'S3_KEY_ID',
  'S3_SECRET',
  'HOST',
  'S3_REGION',
  'S3_FORCE_PATH_STYLE',
  'S3_PREFIX',
  'FILESYSTEM',
  'SNAPSHOT_PREFIX',
  'COMPRESSOR',
  'GPG_RECIPIENT',
  'CONCURRENCY',
  'CHUNK_SIZE',
  'SEGMENT_SIZE',
  'MAX_RETRIES',
  'S3_STORAGE_CLASS',
  'SSH_OPTIONS',
  'CACHE_DIR',
  'LOCK_DIR',
  'STATE_DIR',
  'KEEP_LAST',
  'KEEP_HOURLY',
  'KEEP_DAILY',
  'KEEP_WEEKLY',
  'KEEP_MONTHLY',
  'KEEP_YEARLY',
  'KEEP_WITHIN',
  'FULL_EVERY',
  'MAX_CHAIN',
  'SEND_FLAGS',
  'HOLD',
  'LIMIT_UPLOAD',
  'LIMIT_DOWNLOAD',
  'DATASETS',
  'METRICS_FILE',
] as const;

/** A key of CONFIG_KEYS. */
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/**
 * Raw command-line values, exactly as typed (no defaults: an absent flag is undefined so that
 * lower layers can supply the value). BUCKET, S3_KEY_ID and S3_SECRET have no flag on purpose:
 * they must never show in `ps`.
 */
export interface SettingFlags {
  s3Prefix?: string | undefined;
  filesystem?: string | undefined;
  snapshotPrefix?: string | undefined;
  compressor?: string | undefined;
  gpgRecipient?: string | undefined;
  concurrency?: string | undefined;
  chunkSize?: string | undefined;
  segmentSize?: string | undefined;
  storageClass?: string | undefined;
  sshOptions?: string | undefined;
  backupDir?: string | undefined;
  keepLast?: string | undefined;
  keepHourly?: string | undefined;
  keepDaily?: string | undefined;
  keepWeekly?: string | undefined;
  keepMonthly?: string | undefined;
  keepYearly?: string | undefined;
  keepWithin?: string | undefined;
  fullEvery?: string | undefined;
  maxChain?: string | undefined;
  limitUpload?: string | undefined;
  limitDownload?: string | undefined;
  metricsFile?: string | undefined;
}

/**
 * Each flag: the config key it sets and the spelling named in error messages, an option that
 * exists (src/cli/option-names.test.ts checks it against every program). S3_REGION and
 * MAX_RETRIES have no flag.
 */
export const SETTING_FLAGS: Record<keyof SettingFlags, { key: ConfigKey; option: string }> = {
  s3Prefix: { key: 'S3_PREFIX', option: '--s3-prefix' },
  filesystem: { key: 'FILESYSTEM', option: '--filesystem' },
  snapshotPrefix: { key: 'SNAPSHOT_PREFIX', option: '--snapshot-prefix' },
  compressor: { key: 'COMPRESSOR', option: '--compressor' },
  gpgRecipient: { key: 'GPG_RECIPIENT', option: '--gpg-recipient' },
  concurrency: { key: 'CONCURRENCY', option: '--concurrency' },
  chunkSize: { key: 'CHUNK_SIZE', option: '--chunk-size' },
  segmentSize: { key: 'SEGMENT_SIZE', option: '--segment-size' },
  storageClass: { key: 'S3_STORAGE_CLASS', option: '--storage-class' },
  sshOptions: { key: 'SSH_OPTIONS', option: '--ssh-option' },
  backupDir: { key: 'BACKUP_DIR', option: '--backup-dir' },
  keepLast: { key: 'KEEP_LAST', option: '--keep-last' },
  keepHourly: { key: 'KEEP_HOURLY', option: '--keep-hourly' },
  keepDaily: { key: 'KEEP_DAILY', option: '--keep-daily' },
  keepWeekly: { key: 'KEEP_WEEKLY', option: '--keep-weekly' },
  keepMonthly: { key: 'KEEP_MONTHLY', option: '--keep-monthly' },
  keepYearly: { key: 'KEEP_YEARLY', option: '--keep-yearly' },
  keepWithin: { key: 'KEEP_WITHIN', option: '--keep-within' },
  fullEvery: { key: 'FULL_EVERY', option: '--full-if-older-than' },
  maxChain: { key: 'MAX_CHAIN', option: '--max-chain' },
  limitUpload: { key: 'LIMIT_UPLOAD', option: '--limit-upload' },
  limitDownload: { key: 'LIMIT_DOWNLOAD', option: '--limit-download' },
  metricsFile: { key: 'METRICS_FILE', option: '--metrics-file' },
};

/**
 * Built-in defaults (spec 2.3). S3_STORAGE_CLASS is the default on AWS only (no HOST): other
 * S3-compatible servers (Ceph RGW, MinIO, Swift) refuse STANDARD_IA with InvalidStorageClass,
 * so with HOST set and no S3_STORAGE_CLASS none is sent and the server's default applies.
 */
export const DEFAULTS = {
  S3_PREFIX: 'z3-backup/',
  SNAPSHOT_PREFIX: 'zfs-auto-snap:daily',
  COMPRESSOR: 'pigz1',
  GPG_RECIPIENT: 'z3_backup',
  CONCURRENCY: '32',
  CHUNK_SIZE: '256M',
  MAX_RETRIES: '3',
  S3_STORAGE_CLASS: 'STANDARD_IA',
} as const;

/**
 * Part limits: every part but the last is at least 5 MiB (S3); a part is at most 5 GiB (S3) and
 * at most what Node.js can allocate in one Buffer (4 GiB on Node 20: MAX_PART_SIZE).
 */
const MIN_CHUNK_SIZE = 5 * MIB;
const S3_MAX_CHUNK_SIZE = 5 * 1024 * MIB;

/** A value and where it came from: `--concurrency`, `environment` or `<file> [<section>]`. */
interface RawValue {
  value: string;
  where: string;
}

type Lookup = (key: ConfigKey) => RawValue | undefined;

/**
 * Resolve every setting of one run. Precedence, for every key: flag > environment variable (the
 * key's name) > `[fs:<dataset>]` > `[main]` > `[DEFAULT]` > built-in default. The dataset that
 * picks the `[fs:…]` section is FILESYSTEM from flag > environment > `[main]`.
 *
 * A key set to an empty value is set: `HOST=` in the environment cancels a HOST from the file.
 * Optional keys (BUCKET, HOST, FILESYSTEM, …) read an empty value as "none". An unknown key or
 * section in the file is an error (a typo like `COMPRESOR = gpg` would otherwise disable
 * encryption silently); unknown environment variables are not (the environment holds everything).
 *
 * Pure except for `registerSecrets`, which makes the entry point redact every secret value,
 * and for the default LOCK_DIR, which depends on this process's uid and temporary directory.
 *
 * @throws ConfigError `<where> <KEY>: <what is expected>` for the first invalid value.
 */
export function resolveSettings(sources: ConfigSources, flags: SettingFlags): Settings {
  registerSecrets(sources);
  if (sources.file !== undefined) checkKnownKeys(sources.file, CONFIG_KEYS);
  const datasetLookup = makeLookup(sources, flags, undefined);
  const filesystem = optional(datasetLookup('FILESYSTEM'));
  const lookup = makeLookup(sources, flags, filesystem);
  const endpoint = parseHost(lookup('HOST'));
  const s3PrefixRaw = lookup('S3_PREFIX')?.value ?? DEFAULTS.S3_PREFIX;
  const s3KeyId = optional(lookup('S3_KEY_ID'));
  const s3Secret = optional(lookup('S3_SECRET'));
  const target = parseTarget(lookup);
  checkPrefixFitsTarget(lookup('S3_PREFIX'), target.backupDir);
  return {
    bucket: target.bucket,
    backupDir: target.backupDir,
    s3KeyId,
    s3Secret,
    endpoint,
    s3Region:
      optional(lookup('S3_REGION')) ??
      nonEmpty(sources.env['AWS_REGION']) ??
      nonEmpty(sources.env['AWS_DEFAULT_REGION']),
    s3ForcePathStyle:
      parseBoolean(lookup('S3_FORCE_PATH_STYLE'), 'S3_FORCE_PATH_STYLE') ?? endpoint !== undefined,
    s3Prefix: normalizePrefix(s3PrefixRaw),
    s3PrefixRaw,
    filesystem,
    snapshotPrefix: lookup('SNAPSHOT_PREFIX')?.value ?? DEFAULTS.SNAPSHOT_PREFIX,
    compressor: parseCompressor(lookup('COMPRESSOR')),
    gpgRecipient: lookup('GPG_RECIPIENT')?.value ?? DEFAULTS.GPG_RECIPIENT,
    concurrency: parseWholeNumber(lookup('CONCURRENCY'), { key: 'CONCURRENCY', min: 1, max: 1000 }),
    chunkSize: parseChunkSize(lookup('CHUNK_SIZE')),
    chunkSizeIsSet: lookup('CHUNK_SIZE') !== undefined,
    segmentSize: parseSegmentSize(lookup('SEGMENT_SIZE')),
    maxRetries: parseWholeNumber(lookup('MAX_RETRIES'), { key: 'MAX_RETRIES', min: 1, max: 100 }),
    storageClass: parseStorageClass(lookup('S3_STORAGE_CLASS'), { isAws: endpoint === undefined }),
    sshOptions: (lookup('SSH_OPTIONS')?.value ?? '').split(/\s+/).filter((s) => s !== ''),
    metadataCacheDir: parseCacheDir(lookup('CACHE_DIR'), sources.env),
    lockDir: parseLockDir(lookup('LOCK_DIR'), sources.env),
    stateDir: parseStateDir(lookup('STATE_DIR'), sources.env, process.getuid?.()),
    retention: parseRetention(lookup),
    chainLimits: parseChainLimits(lookup),
    bandwidth: parseBandwidth(lookup),
    sendFlags: parseSendFlags(lookup('SEND_FLAGS')?.value ?? '', lookup('SEND_FLAGS')?.where ?? ''),
    hold: parseBoolean(lookup('HOLD'), 'HOLD') ?? true,
    datasets: parseDatasetList(lookup('DATASETS')),
    metricsFile: parseMetricsFile(lookup('METRICS_FILE')),
    configFile: describeConfigFile(sources),
  };
}

/** Environment variables that hold secrets besides S3_SECRET (the AWS SDK reads them). */
const SECRET_ENV = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/**
 * Register every secret value of the sources for redaction: S3_SECRET from the environment and
 * from every section of the file (not only the one this run uses), and the AWS SDK's secret
 * variables. Why first and all of them: an error raised while resolving, about any key, must
 * not carry a secret that would only have been registered later. A key id is not registered:
 * it is an identifier, and redacting a short one would mangle unrelated words.
 */
function registerSecrets(sources: ConfigSources): void {
  for (const name of ['S3_SECRET', ...SECRET_ENV]) registerSecret(nonEmpty(sources.env[name]));
  for (const section of sources.file?.sections ?? []) {
    registerSecret(nonEmpty(section.entries.get('S3_SECRET')?.value));
  }
}

function describeConfigFile(sources: ConfigSources): Settings['configFile'] {
  if (sources.file === undefined) return undefined;
  const fsDatasets = sources.file.sections.flatMap((s) =>
    s.name.startsWith('fs:') ? [s.name.slice('fs:'.length)] : [],
  );
  return { path: sources.filePath, fsDatasets };
}

/** DATASETS: dataset names separated by whitespace or commas, duplicates dropped. */
function parseDatasetList(raw: RawValue | undefined): string[] {
  const names = (raw?.value ?? '').split(/[\s,]+/).filter((name) => name !== '');
  return [...new Set(names)];
}

function makeLookup(
  sources: ConfigSources,
  flags: SettingFlags,
  dataset: string | undefined,
): Lookup {
  const flagByKey = new Map<string, RawValue>();
  for (const [field, spec] of Object.entries(SETTING_FLAGS)) {
    const value = flags[field as keyof SettingFlags];
    if (value !== undefined) flagByKey.set(spec.key, { value, where: spec.option });
  }
  const sections: IniSection[] = [];
  const file = sources.file;
  if (file !== undefined) {
    for (const name of [dataset === undefined ? undefined : `fs:${dataset}`, 'main', 'DEFAULT']) {
      const section = name === undefined ? undefined : findSection(file, name);
      if (section !== undefined) sections.push(section);
    }
  }
  return (key) => {
    const fromFlag = flagByKey.get(key);
    if (fromFlag !== undefined) return fromFlag;
    const fromEnv = sources.env[key];
    if (fromEnv !== undefined) return { value: fromEnv, where: 'environment' };
    for (const section of sections) {
      const entry = section.entries.get(key);
      if (entry !== undefined) {
        return { value: entry.value, where: `${sources.filePath} [${section.name}]` };
      }
    }
    return undefined;
  };
}

function invalid(raw: RawValue, key: ConfigKey, expected: string): ConfigError {
  return new ConfigError(`${raw.where} ${key}: ${expected}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}

function optional(raw: RawValue | undefined): string | undefined {
  return nonEmpty(raw?.value);
}

function parseWholeNumber(
  raw: RawValue | undefined,
  limits: { key: keyof typeof DEFAULTS; min: number; max: number },
): number {
  const text = (raw?.value ?? DEFAULTS[limits.key]).trim();
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (raw !== undefined && !(value >= limits.min && value <= limits.max)) {
    throw invalid(raw, limits.key, `expected a whole number from ${limits.min} to ${limits.max}`);
  }
  return value;
}

function parseChunkSize(raw: RawValue | undefined): number {
  if (raw === undefined) return parseSize(DEFAULTS.CHUNK_SIZE);
  let bytes: number;
  try {
    bytes = parseSize(raw.value);
  } catch {
    throw invalid(raw, 'CHUNK_SIZE', 'expected a size like 256M');
  }
  if (bytes < MIN_CHUNK_SIZE || bytes > MAX_PART_SIZE) {
    throw invalid(raw, 'CHUNK_SIZE', chunkSizeRule(MAX_PART_SIZE));
  }
  return bytes;
}

/**
 * SEGMENT_SIZE: empty or unset = the backend's object limit (undefined). At least one part
 * (5M, the smallest a part but the last may be); whether it holds the part size a backup
 * chooses is checked by that backup (src/transfer/segments.ts).
 */
function parseSegmentSize(raw: RawValue | undefined): number | undefined {
  if (raw === undefined || raw.value.trim() === '') return undefined;
  let bytes: number;
  try {
    bytes = parseSize(raw.value);
  } catch {
    throw invalid(raw, 'SEGMENT_SIZE', 'expected a size like 1T');
  }
  if (bytes < MIN_CHUNK_SIZE) throw invalid(raw, 'SEGMENT_SIZE', 'expected a size of at least 5M');
  return bytes;
}

/** What CHUNK_SIZE must be, naming the limit that applies (exported for its test). */
export function chunkSizeRule(maxPartSize: number): string {
  if (maxPartSize >= S3_MAX_CHUNK_SIZE)
    return 'expected a size from 5M to 5G (the S3 part size limits)';
  return (
    `expected a size from 5M to ${formatSize(maxPartSize)} (S3 allows parts up to 5G; ` +
    `this Node.js allocates at most ${formatSize(maxPartSize)} in one buffer)`
  );
}

/** `4G`, `4095M` or a byte count: the largest unit that divides `bytes`. */
function formatSize(bytes: number): string {
  if (bytes % (1024 * MIB) === 0) return `${bytes / (1024 * MIB)}G`;
  return bytes % MIB === 0 ? `${bytes / MIB}M` : String(bytes);
}

function parseCompressor(raw: RawValue | undefined): string {
  if (raw === undefined) return DEFAULTS.COMPRESSOR;
  const name = raw.value.trim();
  if (!(COMPRESSOR_NAMES as readonly string[]).includes(name)) {
    throw invalid(raw, 'COMPRESSOR', `expected one of ${COMPRESSOR_NAMES.join(', ')}`);
  }
  return name;
}

function parseStorageClass(
  raw: RawValue | undefined,
  target: { isAws: boolean },
): string | undefined {
  if (raw === undefined) return target.isAws ? DEFAULTS.S3_STORAGE_CLASS : undefined;
  const name = raw.value.trim();
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) {
    throw invalid(raw, 'S3_STORAGE_CLASS', 'expected an upper-case storage class like STANDARD_IA');
  }
  return name;
}

/**
 * What a bucket name may be. Today's AWS rule is 3–63 lower-case letters, digits, `.` and `-`;
 * buckets created in us-east-1 before 2018 may also hold upper-case letters and `_` and be up
 * to 255 long, and S3-compatible servers differ, so z3 refuses only what no bucket name holds:
 * whitespace, `/`, `+`, `=`, … — the marks of a value that is no bucket name at all, like a
 * secret pasted into the wrong key. A name too short or too long for the server is left to the
 * server (NoSuchBucket / InvalidBucketName, exit 5).
 */
const BUCKET_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?$/;
const BUCKET_NAME_RULE =
  'expected a bucket name: letters, digits, ".", "-" and "_", starting and ending with a ' +
  'letter or digit, at most 255 characters';

/**
 * BUCKET or BACKUP_DIR: where backups go. Both set (from any layers) is an error rather than a
 * silent pick: a run that writes to the wrong target would look like a successful backup. An
 * empty value unsets a key, so `BUCKET=` in the environment lets BACKUP_DIR from the file win.
 */
function parseTarget(lookup: Lookup): {
  bucket: string | undefined;
  backupDir: string | undefined;
} {
  const bucketRaw = lookup('BUCKET');
  const bucket = optional(bucketRaw);
  if (bucketRaw !== undefined && bucket !== undefined && !BUCKET_NAME.test(bucket)) {
    // The value is not shown: a secret pasted into the wrong key must not be printed.
    throw invalid(bucketRaw, 'BUCKET', BUCKET_NAME_RULE);
  }
  const dirRaw = lookup('BACKUP_DIR');
  const backupDir = optional(dirRaw);
  if (dirRaw !== undefined && backupDir !== undefined && !posix.isAbsolute(backupDir)) {
    throw invalid(dirRaw, 'BACKUP_DIR', 'expected an absolute directory path');
  }
  if (bucket !== undefined && backupDir !== undefined) {
    throw new ConfigError(
      `BUCKET (${bucketRaw?.where ?? ''}) and BACKUP_DIR (${dirRaw?.where ?? ''}) are both set`,
      {
        hint:
          'choose one: BUCKET for an S3 bucket, BACKUP_DIR for a local directory ' +
          '(an empty value, e.g. BUCKET= in the environment, unsets one from the config file)',
      },
    );
  }
  return { bucket, backupDir };
}

/**
 * A local directory stores keys as paths and cannot hold one beginning with `/`; such a prefix
 * (`/`, the original's empty prefix) only makes sense for a bucket written by the original.
 */
function checkPrefixFitsTarget(raw: RawValue | undefined, backupDir: string | undefined): void {
  if (raw === undefined || backupDir === undefined || !raw.value.startsWith('/')) return;
  throw invalid(
    raw,
    'S3_PREFIX',
    'a prefix beginning with / is for buckets only (a local directory cannot hold keys ' +
      'beginning with /); with BACKUP_DIR leave it out',
  );
}

const CACHE_OFF_WORDS = ['off', 'none'];

/**
 * CACHE_DIR: `off`/`none` disables the cache; an empty or absent value means the default,
 * `$XDG_CACHE_HOME/z3` (when that is an absolute path, as the XDG spec requires) else
 * `$HOME/.cache/z3`, else no cache. Why absolute only: a relative path would depend on the
 * directory z3 happens to be started from (cron, systemd).
 */
function parseCacheDir(
  raw: RawValue | undefined,
  env: Record<string, string | undefined>,
): string | undefined {
  const text = optional(raw);
  if (raw !== undefined && text !== undefined) {
    if (CACHE_OFF_WORDS.includes(text.toLowerCase())) return undefined;
    if (!posix.isAbsolute(text)) {
      throw invalid(raw, 'CACHE_DIR', 'expected an absolute directory path, or off');
    }
    return text;
  }
  const xdg = nonEmpty(env['XDG_CACHE_HOME']);
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, 'z3');
  const home = nonEmpty(env['HOME']);
  return home !== undefined && posix.isAbsolute(home)
    ? posix.join(home, '.cache', 'z3')
    : undefined;
}

/**
 * LOCK_DIR: an absolute path; an empty or absent value means `defaultLockDir` for this process.
 * Whether the directory is safe (owned by this user, writable by nobody else) is checked when a
 * lock is taken (src/lock/lock-dir.ts), not here: resolving settings touches no file system.
 */
function parseLockDir(raw: RawValue | undefined, env: Record<string, string | undefined>): string {
  const text = optional(raw);
  if (raw !== undefined && text !== undefined) {
    if (!posix.isAbsolute(text))
      throw invalid(raw, 'LOCK_DIR', 'expected an absolute directory path');
    return text;
  }
  return defaultLockDir({ env, uid: process.getuid?.(), tmpdir: tmpdir() });
}

/**
 * The lock directory when LOCK_DIR is not set: `/run/z3` for root (the runtime directory of
 * system services, emptied at boot), else `$XDG_RUNTIME_DIR/z3` (absolute only, as the XDG spec
 * requires; systemd's per-user /run/user/<uid>), else `<tmpdir>/z3-<uid>` (a cron job of a user
 * without a login session). Why not `$HOME`: it may be on NFS, where flock may not work.
 */
export function defaultLockDir(input: {
  env: Record<string, string | undefined>;
  uid: number | undefined;
  tmpdir: string;
}): string {
  if (input.uid === 0) return '/run/z3';
  const runtime = nonEmpty(input.env['XDG_RUNTIME_DIR']);
  if (runtime !== undefined && posix.isAbsolute(runtime)) return posix.join(runtime, 'z3');
  return posix.join(input.tmpdir, `z3-${input.uid ?? 'user'}`);
}

const TRUE_WORDS = ['true', 'yes', '1', 'on'];
const FALSE_WORDS = ['false', 'no', '0', 'off'];

function parseBoolean(raw: RawValue | undefined, key: ConfigKey): boolean | undefined {
  if (raw === undefined) return undefined;
  const word = raw.value.trim().toLowerCase();
  if (word === '') return undefined;
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw invalid(raw, key, 'expected true or false');
}

/**
 * HOST as a bare host name (`minio.local`, `minio.local:9000`, `[::1]:9000`) becomes
 * `https://<host>`, as boto connected over TLS by default; an `http://` or `https://` URL is
 * kept as written. Why not just any URL: a typo like `htps://x` must not become a host name.
 */
function parseHost(raw: RawValue | undefined): string | undefined {
  const text = optional(raw);
  if (raw === undefined || text === undefined) return undefined;
  const isUrl = /^https?:\/\//i.test(text);
  let url: URL | undefined;
  try {
    url = new URL(isUrl ? text : `https://${text}`);
  } catch {
    url = undefined;
  }
  const isBareHost =
    url !== undefined &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    !text.includes('/') &&
    !text.includes('@');
  if (url === undefined || url.hostname === '' || (!isUrl && !isBareHost)) {
    throw invalid(raw, 'HOST', 'expected a host name or an http:// or https:// URL');
  }
  return isUrl ? text : `https://${text}`;
}
