import type { BandwidthLimits } from './bandwidth.js';
import type { ChainLimits } from '../plan/backup.js';
import type { RetentionPolicy } from '../plan/retention.js';
import type { SendFlags } from '../plan/send-flags.js';

/**
 * The resolved settings of one run (for one dataset). Produced only by `resolveSettings`
 * (src/config/settings.ts) from the layers flag > environment > [fs:<dataset>] > [main] >
 * default; everything downstream takes this object and never reads the environment itself.
 */
export interface Settings {
  /**
   * BUCKET; undefined when configured nowhere (commands that need it raise a ConfigError). Never
   * set together with `backupDir` (resolveSettings refuses both).
   */
  bucket: string | undefined;
  /**
   * BACKUP_DIR: an absolute directory used as the target instead of a bucket (a backup disk or
   * an NFS mount); undefined when configured nowhere or empty. Never set together with `bucket`.
   */
  backupDir: string | undefined;
  /** S3_KEY_ID / S3_SECRET; when keyId is unset the AWS SDK default credential chain is used. */
  s3KeyId: string | undefined;
  s3Secret: string | undefined;
  /** HOST normalised to a URL (`https://` added to a bare host name); undefined = AWS. */
  endpoint: string | undefined;
  /** S3_REGION; undefined = the AWS SDK chain decides, else us-east-1. */
  s3Region: string | undefined;
  /** S3_FORCE_PATH_STYLE; defaults to true when HOST is set. */
  s3ForcePathStyle: boolean;
  /**
   * S3_PREFIX normalised as spec 4.2: trailing slashes stripped, exactly one `/` appended; an
   * empty prefix is `""` (keys at the bucket root), and `/` stays `/` (the original's empty
   * prefix: keys beginning with `/`).
   */
  s3Prefix: string;
  /** S3_PREFIX exactly as given (the status title shows it so). */
  s3PrefixRaw: string;
  /** FILESYSTEM (dataset); undefined when configured nowhere. */
  filesystem: string | undefined;
  /** SNAPSHOT_PREFIX, default `zfs-auto-snap:daily`. */
  snapshotPrefix: string;
  /** COMPRESSOR, validated against the known compressor names; default `pigz1`. */
  compressor: string;
  /** GPG_RECIPIENT, default `z3_backup`. */
  gpgRecipient: string;
  /** CONCURRENCY: pput workers / z3_get parallel ranges, default 32. */
  concurrency: number;
  /** CHUNK_SIZE in bytes, default 256 MiB. */
  chunkSize: number;
  /**
   * True when CHUNK_SIZE was given in some layer (flag, environment, config file), false when
   * `chunkSize` is the default: `z3 backup` uses it as a larger part size only when given.
   */
  chunkSizeIsSet: boolean;
  /**
   * SEGMENT_SIZE in bytes: a backup stream longer than this is stored as several objects
   * (src/plan/segments.ts); undefined = as long as the backend allows one object.
   */
  segmentSize: number | undefined;
  /** MAX_RETRIES: attempts per part (total, not extra), default 3. */
  maxRetries: number;
  /**
   * S3_STORAGE_CLASS sent with every new object. Default STANDARD_IA on AWS (no HOST); with HOST
   * set and S3_STORAGE_CLASS set nowhere, undefined: no storage class is sent and the server's
   * default applies (Ceph RGW, MinIO and Swift refuse STANDARD_IA).
   */
  storageClass: string | undefined;
  /** SSH_OPTIONS for z3_ssh_sync, split on whitespace; default none. */
  sshOptions: string[];
  /**
   * CACHE_DIR: the directory of the local object-metadata cache (an absolute path); default
   * `$XDG_CACHE_HOME/z3`, else `$HOME/.cache/z3`. Undefined = no cache (CACHE_DIR=off or
   * none, or neither variable is set).
   */
  metadataCacheDir: string | undefined;
  /**
   * LOCK_DIR: the directory of the run locks (an absolute path; `z3 backup` holds one lock per
   * dataset and target there). Default `/run/z3` for root, else `$XDG_RUNTIME_DIR/z3`, else
   * `<tmpdir>/z3-<uid>`. Created 0700 when the lock is taken, refused when others can write it.
   */
  lockDir: string;
  /**
   * STATE_DIR: where the resume journals of uploads in progress live (src/resume/journal.ts).
   * Default `/var/lib/z3` for root, else `$XDG_STATE_HOME/z3`, else `$HOME/.local/state/z3`.
   */
  stateDir: string;
  /**
   * The retention policy of `z3 prune` (KEEP_LAST … KEEP_YEARLY, KEEP_WITHIN); `{}` when no
   * KEEP_* is set anywhere, which prune refuses.
   */
  retention: RetentionPolicy;
  /** FULL_EVERY and MAX_CHAIN: when `z3 backup` ends a chain with a full; `{}` when unset. */
  chainLimits: ChainLimits;
  /** LIMIT_UPLOAD / LIMIT_DOWNLOAD in bytes per second (undefined: no limit). */
  bandwidth: BandwidthLimits;
  /**
   * SEND_FLAGS: the `zfs send` flags of `z3 backup` (raw, compressed, large-blocks, embed,
   * props); empty by default. `backup --raw` … replace them when any is given.
   */
  sendFlags: SendFlags;
  /** DATASETS: the datasets `--all` runs besides those with an `[fs:…]` section. */
  datasets: string[];
  /**
   * METRICS_FILE: an absolute path ending in `.prom`; `z3 backup` writes its Prometheus metrics
   * beside it, one file per dataset and target (src/metrics/file.ts). Undefined: no metrics.
   */
  metricsFile: string | undefined;
  /**
   * HOLD: whether `z3 backup` holds the newest backed-up snapshot and bookmarks it (default
   * true; `backup --no-hold` turns it off for one run).
   */
  hold: boolean;
  /**
   * The config file that was read and the datasets its `[fs:<dataset>]` sections name (`z3
   * status` warns about those that do not exist); undefined when no file was read.
   */
  configFile: { path: string; fsDatasets: string[] } | undefined;
}

/** Known compressor names; `src/pipeline/compressors.ts` maps each to its argv. */
export const COMPRESSOR_NAMES = ['pigz1', 'pigz4', 'gpg', 'none', 'zstd', 'lz4', 'xz'] as const;
export type CompressorName = (typeof COMPRESSOR_NAMES)[number];
