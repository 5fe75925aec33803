/**
 * The one place that builds a backend from the settings: S3 (BUCKET) or a local directory
 * (BACKUP_DIR), wrapped in the one retry policy (MAX_RETRIES attempts per call) and the
 * bandwidth limits (LIMIT_UPLOAD, LIMIT_DOWNLOAD), with the
 * metadata cache (CACHE_DIR) applied to listings where the backend allows it. Commands receive
 * the result (`Storage`) and never construct a backend themselves.
 */
import { posix } from 'node:path';
import type { Settings } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Backend, ObjectInfo } from './backend.js';
import { cacheDirProblem } from './cache-trust.js';
import { listWithMetadata, type KnownMetadata, type MetadataCacheOptions } from './listing.js';
import { createLocalBackend } from './local/backend.js';
import { createS3Backend } from './s3/backend.js';
import { withRetries } from './wrappers/retrying.js';
import { withThrottle } from './wrappers/throttled.js';
import { runBucket } from './run-buckets.js';

/** What a command works with: the backend and the listing with metadata. */
export interface Storage {
  /** The backend, retries included. */
  readonly backend: Backend;
  /**
   * How the target is named in titles and messages: the bucket name for S3 (as the original
   * printed it), the directory for a local target.
   */
  readonly name: string;
  /**
   * What makes two runs write to the same place, for run locks: the endpoint (or `aws`) and the
   * bucket for S3, the resolved directory for a local target. Never shown to the user.
   */
  readonly identity: string;
  /**
   * Every object under `prefix` with its metadata (listing order), `known` answering what the
   * metadata cache does not; see listWithMetadata.
   */
  listWithMetadata(prefix: string, known?: Promise<KnownMetadata>): Promise<ObjectInfo[]>;
}

export interface OpenStorageOptions {
  /** Told about a metadata cache that cannot be written (the run goes on). */
  warn: (message: string) => void;
}

/**
 * The target of this run: BACKUP_DIR or BUCKET (exactly one is set; the config layer refuses
 * both). Throws a ConfigError naming what to set when neither is.
 */
export function openStorage(settings: Settings, options: OpenStorageOptions): Storage {
  if (settings.backupDir !== undefined) {
    const backend = withLimits(
      withRetries(createLocalBackend(settings.backupDir), retryPolicy(settings)),
      settings,
    );
    const identity = `dir ${posix.resolve(settings.backupDir)}`;
    return { ...storageOf(backend, settings.backupDir), identity };
  }
  const bucket = requireBucket(settings);
  const backend = withLimits(
    withRetries(createS3Backend(settings, bucket), retryPolicy(settings)),
    settings,
  );
  const cache: MetadataCacheOptions | undefined =
    settings.metadataCacheDir === undefined
      ? undefined
      : { dir: settings.metadataCacheDir, endpoint: settings.endpoint, bucket, warn: options.warn };
  // As a URL, so `HTTP://Host:9000` and `http://host:9000/` are one endpoint.
  const endpoint = settings.endpoint === undefined ? 'aws' : new URL(settings.endpoint).href;
  const identity = `s3 ${endpoint} ${bucket}`;
  return { ...storageOf(backend, bucket, cache), identity };
}

/**
 * A Storage over any backend (tests use it with the memory backend); its identity is the
 * backend's kind and location.
 */
export function storageOf(backend: Backend, name: string, cache?: MetadataCacheOptions): Storage {
  const trustedCache = cache === undefined ? undefined : checkCacheDirOnce(cache);
  return {
    backend,
    name,
    identity: `${backend.kind} ${backend.location}`,
    listWithMetadata: async (prefix, known) =>
      listWithMetadata(backend, prefix, await trustedCache?.(), known),
  };
}

/**
 * The cache options once CACHE_DIR has been checked (./cache-trust.ts), or undefined when it must
 * not be used; the check and its warning happen once per storage, however many listings follow.
 */
function checkCacheDirOnce(
  cache: MetadataCacheOptions,
): () => Promise<MetadataCacheOptions | undefined> {
  let checked: Promise<MetadataCacheOptions | undefined> | undefined;
  return () =>
    (checked ??= cacheDirProblem(cache.dir).then((problem) => {
      if (problem === undefined) return cache;
      cache.warn(problem);
      return undefined;
    }));
}

/** The bucket of this run, or a config error that says where to set it. */
export function requireBucket(settings: Settings): string {
  if (settings.bucket === undefined || settings.bucket === '') {
    throw new ConfigError('no target: set BUCKET (S3) or BACKUP_DIR (a local directory)', {
      hint: 'set BUCKET or BACKUP_DIR in [main] of /etc/z3_backup/z3.conf or in the environment, or pass --backup-dir',
    });
  }
  return settings.bucket;
}

/**
 * `backend` paced by LIMIT_UPLOAD / LIMIT_DOWNLOAD: one bucket per direction for the run, shared
 * with every other storage of the process (--all --jobs N: see ./run-buckets.ts).
 */
function withLimits(backend: Backend, settings: Settings): Backend {
  const { upload, download } = settings.bandwidth;
  return withThrottle(backend, {
    upload: upload === undefined ? undefined : runBucket('upload', upload),
    download: download === undefined ? undefined : runBucket('download', download),
  });
}

function retryPolicy(settings: Settings): { attempts: number } {
  return { attempts: settings.maxRetries };
}
