/**
 * The S3 backend: ObjectStore over `@aws-sdk/client-s3` v3 low-level calls. The only module
 * (with client.ts and errors.ts beside it) that imports the SDK. Every error leaves as a
 * StorageError classified by `toStorageError`.
 *
 * Superseded by S3Backend (backend.ts); kept until the commands are switched over. Its client
 * makes one attempt per call (client.ts).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  UploadPartCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { StorageError } from '../../errors.js';
import type {
  CompletedPart,
  CreateMultipartInput,
  ListedObject,
  ObjectInfo,
  ObjectStore,
  UploadPartInput,
} from '../types.js';
import { createS3Client, type ConnectionSettings } from './client.js';
import { classifyS3Error, toStorageError } from './errors.js';
import { createLeanHead, type HeadFn } from './lean-head.js';

/** The store of one bucket, with its two clients built from the connection settings. */
export function createS3Store(connection: ConnectionSettings, bucket: string): S3Store {
  return new S3Store(createS3Client(connection), bucket);
}

export class S3Store implements ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly dataClient: S3Client;
  private readonly leanHead: HeadFn;

  /**
   * @param client for metadata calls (SDK retries on).
   * @param dataClient for part uploads and ranged reads; should make one attempt (our retries
   *   apply). Default: `client`.
   */
  constructor(client: S3Client, bucket: string, dataClient?: S3Client) {
    this.client = client;
    this.bucket = bucket;
    this.dataClient = dataClient ?? client;
    this.leanHead = createLeanHead({ client, bucket, fallback: (key) => this.head(key) });
  }

  /** `<bucket>/<key>`, for messages. */
  private where(key: string): string {
    return `${this.bucket}/${key}`;
  }

  async create(input: CreateMultipartInput): Promise<string> {
    const out = await this.client
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: input.key,
          ACL: 'bucket-owner-full-control',
          Metadata: input.metadata,
          ...(input.storageClass !== undefined
            ? { StorageClass: input.storageClass as StorageClass }
            : {}),
        }),
      )
      .catch((err: unknown) => {
        throw toStorageError(err, `starting upload to ${this.where(input.key)}`, {
          onBadArgument:
            input.storageClass === undefined
              ? 'check the metadata'
              : `the server may not support storage class ${input.storageClass}: ` +
                'set --storage-class / S3_STORAGE_CLASS, e.g. STANDARD',
        });
      });
    if (out.UploadId === undefined || out.UploadId === '') {
      throw new StorageError(`starting upload to ${this.where(input.key)}: no upload id returned`);
    }
    return out.UploadId;
  }

  async uploadPart(input: UploadPartInput): Promise<string> {
    const what = `uploading part ${input.partNumber} of ${this.where(input.key)}`;
    const out = await this.dataClient
      .send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: input.key,
          UploadId: input.uploadId,
          PartNumber: input.partNumber,
          Body: input.body,
          ContentLength: input.body.byteLength,
          ContentMD5: input.md5Base64,
        }),
        input.signal !== undefined ? { abortSignal: input.signal } : {},
      )
      .catch((err: unknown) => {
        throw toStorageError(err, what);
      });
    if (out.ETag === undefined || out.ETag === '') {
      throw new StorageError(`${what}: the server returned no ETag`, { isRetryable: true });
    }
    return out.ETag;
  }

  async complete(input: { key: string; uploadId: string; parts: CompletedPart[] }): Promise<void> {
    const parts = [...input.parts].sort((a, b) => a.partNumber - b.partNumber);
    await this.client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: input.key,
          UploadId: input.uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })),
          },
        }),
      )
      .catch((err: unknown) => {
        throw toStorageError(err, `completing upload of ${this.where(input.key)}`);
      });
  }

  async abort(input: { key: string; uploadId: string }): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: input.key,
          UploadId: input.uploadId,
        }),
      );
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return;
      throw toStorageError(err, `aborting upload of ${this.where(input.key)}`);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.Metadata ?? {})) metadata[k.toLowerCase()] = v;
      return { key, size: out.ContentLength ?? 0, etag: out.ETag ?? '', metadata };
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return undefined;
      throw toStorageError(err, `reading metadata of ${this.where(key)}`);
    }
  }

  /** `head` without the SDK's per-call overhead (lean-head.ts), for the HEADs of a listing. */
  headBulk(key: string): Promise<ObjectInfo | undefined> {
    return this.leanHead(key);
  }

  /** A range in a buffer of its own; see `getRangeInto`. */
  getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    const target = Buffer.allocUnsafeSlow(end - start + 1);
    return this.getRangeInto({ key, start, end, target, signal });
  }

  /**
   * Bytes [start, end] of `key` read into `target` as they arrive; resolves the filled prefix.
   * Why not `Body.transformToByteArray()`: it collects the chunks and concatenates them, two
   * copies of the range at the peak and a fresh buffer per range. A body longer than the range
   * is a retryable error; a shorter one is returned short (the downloader retries it).
   */
  async getRangeInto(input: {
    key: string;
    start: number;
    end: number;
    target: Uint8Array;
    signal?: AbortSignal | undefined;
  }): Promise<Uint8Array> {
    const { key, start, end, signal } = input;
    const what = `reading bytes ${start}-${end} of ${this.where(key)}`;
    try {
      const out = await this.dataClient.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }),
        signal !== undefined ? { abortSignal: signal } : {},
      );
      if (out.Body === undefined) throw new StorageError(`${what}: empty response`);
      const length = Math.min(end - start + 1, input.target.byteLength);
      return await readBody(
        out.Body as AsyncIterable<Uint8Array>,
        input.target.subarray(0, length),
        what,
      );
    } catch (err) {
      throw toStorageError(err, what);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const out = await this.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        )
        .catch((err: unknown) => {
          throw toStorageError(err, `listing ${this.where(prefix)}`);
        });
      for (const o of out.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield {
          key: o.Key,
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          lastModified: o.LastModified?.toISOString() ?? '',
        };
      }
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return;
      throw toStorageError(err, `deleting ${this.where(key)}`);
    }
  }

  async listMultipartUploads(prefix: string): Promise<{ key: string; uploadId: string }[]> {
    const uploads: { key: string; uploadId: string }[] = [];
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
        if (u.Key !== undefined && u.UploadId !== undefined) {
          uploads.push({ key: u.Key, uploadId: u.UploadId });
        }
      }
      if (out.IsTruncated !== true) return uploads;
      keyMarker = out.NextKeyMarker;
      uploadIdMarker = out.NextUploadIdMarker;
    }
  }
}

/** The whole body into `target`, which it must not overflow; resolves the filled prefix. */
async function readBody(
  body: AsyncIterable<Uint8Array>,
  target: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  let filled = 0;
  for await (const chunk of body) {
    if (filled + chunk.byteLength > target.byteLength) {
      throw new StorageError(`${what}: the server sent more than ${target.byteLength} bytes`, {
        isRetryable: true,
      });
    }
    target.set(chunk, filled);
    filled += chunk.byteLength;
  }
  return target.subarray(0, filled);
}
