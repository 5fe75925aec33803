/**
 * The S3 backend: the storage port (../backend.ts) over `@aws-sdk/client-s3` v3 low-level calls,
 * for AWS and every S3-compatible server (Ceph RGW, MinIO, Swift's s3api, R2). With the other
 * files of this folder, the only code that imports the SDK.
 *
 * One client, one attempt per call (client.ts): retries are the wrapper's. Every error leaves
 * as a StorageError classified by `toStorageError` (errors.ts).
 */
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { StorageError } from '../../errors.js';
import type {
  Backend,
  BackendFeatures,
  ChunkWriter,
  CommittedObject,
  ListOptions,
  ListedChunk,
  ListedObject,
  ObjectInfo,
  OpenWriterInput,
  PendingWrite,
  PutInput,
  ReadRangeInput,
  ResumeWriterInput,
} from '../backend.js';
import { S3_LIMITS } from '../limits.js';
import { lowerCaseKeys } from '../rules.js';
import { createS3Client, type ConnectionSettings } from './client.js';
import { classifyS3Error, toStorageError, writeArgumentHint } from './errors.js';
import { putObject } from './put.js';
import { createLeanRangeReader, type ReadRangeFn } from './lean-get.js';
import { createLeanHead } from './lean-head.js';
import { readRange } from './range.js';
import { createLeanPartUploader, type UploadPartFn } from './lean-put.js';
import { S3ChunkWriter, abortUpload, sdkPartUploader } from './writer.js';
import {
  MD5_PARTS,
  PROBE_BODY,
  hasFastSha256,
  probePartDigest,
  type PartDigest,
  type PartDigestMode,
} from './part-digest.js';

export interface S3BackendOptions {
  client: S3Client;
  bucket: string;
  /** Keys per ListObjectsV2 page (MaxKeys), parts per ListParts page (MaxParts); default the server's (1000 on S3). */
  pageSize?: number | undefined;
  /** The lean HEAD's idle timeout; the client has its own (client.ts). */
  socketTimeoutMs?: number | undefined;
  /** How parts are checked (part-digest.ts); default 'auto'. */
  partDigest?: PartDigestMode | undefined;
}

/** The backend of one bucket, with its one client built from the connection settings. */
export function createS3Backend(
  connection: ConnectionSettings,
  bucket: string,
  options: { pageSize?: number; socketTimeoutMs?: number; partDigest?: PartDigestMode } = {},
): S3Backend {
  const client = createS3Client(connection, { socketTimeoutMs: options.socketTimeoutMs });
  return new S3Backend({ client, bucket, ...options });
}

export class S3Backend implements Backend {
  readonly kind = 's3';
  readonly location: string;
  readonly limits = S3_LIMITS;
  readonly features: BackendFeatures;
  readonly bucket: string;
  /** The one client (tests use it to set up objects, and `destroy()` it at the end). */
  readonly client: S3Client;
  private readonly pageSize: number | undefined;
  private readonly leanReadRange: ReadRangeFn;
  private readonly uploadPart: UploadPartFn;
  private readonly partDigestMode: PartDigestMode;
  /** Decided by the first upload (its probe, if any), which every later one goes by. */
  private partDigest: Promise<PartDigest> | undefined;

  constructor(options: S3BackendOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.location = `s3://${options.bucket}`;
    this.pageSize = options.pageSize;
    this.partDigestMode = options.partDigest ?? 'auto';
    const statBulk = createLeanHead({
      client: this.client,
      bucket: this.bucket,
      fallback: (key) => this.stat(key),
      socketTimeoutMs: options.socketTimeoutMs,
    });
    this.leanReadRange = createLeanRangeReader({
      client: this.client,
      bucket: this.bucket,
      fallback: (input) => this.readRangeViaSdk(input),
      socketTimeoutMs: options.socketTimeoutMs,
    });
    this.uploadPart = createLeanPartUploader({
      client: this.client,
      bucket: this.bucket,
      fallback: sdkPartUploader(this.client, this.bucket),
      socketTimeoutMs: options.socketTimeoutMs,
    });
    // conditionalCommit: true although some servers ignore If-None-Match (Ceph RGW 16): the
    // backend cannot tell the server, and the HEAD before the commit holds on every server
    // (see writer.ts for what each one guarantees).
    this.features = { hasStableListing: true, conditionalCommit: true, statBulk };
  }

  /** `<bucket>/<key>`, for messages. */
  private where(key: string): string {
    return `${this.bucket}/${key}`;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const metadata = lowerCaseKeys(out.Metadata ?? {});
      return { key, size: out.ContentLength ?? 0, etag: out.ETag ?? '', metadata };
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return undefined;
      throw toStorageError(err, `reading metadata of ${this.where(key)}`);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const out = await this.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(this.pageSize !== undefined ? { MaxKeys: this.pageSize } : {}),
            ...(token !== undefined ? { ContinuationToken: token } : {}),
            ...(token === undefined && options.startAfter !== undefined
              ? { StartAfter: options.startAfter }
              : {}),
          }),
        )
        .catch((err: unknown) => {
          throw toStorageError(err, `listing ${this.where(prefix)}`);
        });
      for (const o of out.Contents ?? []) {
        if (o.Key === undefined) continue;
        const lastModified = o.LastModified?.toISOString() ?? '';
        const storageClass = o.StorageClass;
        yield { key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified, storageClass };
      }
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  readRange(input: ReadRangeInput): Promise<Uint8Array> {
    return this.leanReadRange(input);
  }

  /** The ranged read through the SDK: what the lean path falls back to. */
  readRangeViaSdk(input: ReadRangeInput): Promise<Uint8Array> {
    return readRange({ client: this.client, bucket: this.bucket }, input);
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return;
      throw toStorageError(err, `deleting ${this.where(key)}`);
    }
  }

  put(input: PutInput): Promise<CommittedObject> {
    return putObject({ client: this.client, bucket: this.bucket, store: this }, input);
  }

  /**
   * CreateMultipartUpload, granting the bucket owner full control (as the original z3 does).
   * `chunkSize` is the caller's business: S3 learns part sizes from the parts.
   */
  async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    const { key, storageClass } = input;
    const out = await this.client
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ACL: 'bucket-owner-full-control',
          Metadata: lowerCaseKeys(input.metadata),
          ...(storageClass !== undefined ? { StorageClass: storageClass as StorageClass } : {}),
        }),
      )
      .catch((err: unknown) => {
        throw toStorageError(err, `starting upload to ${this.where(key)}`, {
          onBadArgument: writeArgumentHint(storageClass),
        });
      });
    if (out.UploadId === undefined || out.UploadId === '') {
      throw new StorageError(`starting upload to ${this.where(key)}: no upload id returned`);
    }
    const id = out.UploadId;
    const { client, bucket, uploadPart } = this;
    const ifNoneMatch = input.ifNoneMatch;
    const writerOptions = { client, bucket, key, id, store: this, ifNoneMatch, uploadPart };
    const partDigest = await this.choosePartDigest(new S3ChunkWriter(writerOptions));
    return new S3ChunkWriter({ ...writerOptions, partDigest });
  }

  /**
   * The parts' digest (part-digest.ts), decided once per backend: MD5 when so configured or
   * when SHA-256 is slow here; otherwise what the probe finds with part 1 of the first upload,
   * sent through that upload's MD5 `writer` (which sends a SHA-256 part as every writer does).
   */
  private choosePartDigest(writer: S3ChunkWriter): Promise<PartDigest> {
    const mode = this.partDigestMode;
    this.partDigest ??=
      mode === 'md5' || (mode === 'auto' && !hasFastSha256())
        ? Promise.resolve(MD5_PARTS)
        : probePartDigest(
            async (sha256) =>
              (await writer.writeChunk({ number: 1, body: PROBE_BODY, sha256 })).etag,
          );
    return this.partDigest;
  }

  async listPending(prefix: string): Promise<PendingWrite[]> {
    const pending: PendingWrite[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const out = await this.client
        .send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        )
        .catch((err: unknown) => {
          throw toStorageError(err, `listing pending uploads under ${this.where(prefix)}`);
        });
      for (const u of out.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined) continue;
        pending.push({ key: u.Key, id: u.UploadId, started: u.Initiated?.toISOString() ?? '' });
      }
      if (out.IsTruncated !== true) return pending;
      keyMarker = out.NextKeyMarker;
      uploadIdMarker = out.NextUploadIdMarker;
    }
  }

  abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void> {
    return abortUpload({ client: this.client, bucket: this.bucket, ...pending });
  }

  /**
   * ListParts, every page. A missing upload is NoSuchUpload (AWS) or NoSuchKey (Ceph RGW after
   * an abort): both `isNotFound`.
   */
  async listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
    const chunks: ListedChunk[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await this.client
        .send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: pending.key,
            UploadId: pending.id,
            ...(this.pageSize !== undefined ? { MaxParts: this.pageSize } : {}),
            ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
          }),
        )
        .catch((err: unknown) => {
          throw toStorageError(
            err,
            `listing the parts of upload ${pending.id} of ${this.where(pending.key)}`,
          );
        });
      for (const p of out.Parts ?? []) {
        if (p.PartNumber === undefined) continue;
        chunks.push({ number: p.PartNumber, size: p.Size ?? 0, etag: p.ETag ?? '' });
      }
      if (out.IsTruncated !== true || out.NextPartNumberMarker === undefined) break;
      marker = out.NextPartNumberMarker;
    }
    return chunks.sort((a, b) => a.number - b.number);
  }

  /**
   * No request: a missing upload fails the first part or the commit (NoSuchUpload). Parts carry
   * MD5s: a resume compares them with the listed part ETags (src/resume/part-skip.ts).
   */
  resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    const { client, bucket, uploadPart } = this;
    const { key, id, ifNoneMatch } = input;
    return Promise.resolve(
      new S3ChunkWriter({ client, bucket, key, id, store: this, ifNoneMatch, uploadPart }),
    );
  }
}
