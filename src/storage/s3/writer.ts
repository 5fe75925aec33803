/**
 * The chunk writer of the S3 backend: one multipart upload. Chunks are parts (UploadPart with
 * Content-MD5, so the server verifies every byte); `complete` commits them and then checks the
 * object by HEAD, because the CompleteMultipartUpload answer cannot be relied on (Ceph RGW
 * answers an empty ETag) and may be lost.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { IntegrityError, StorageError } from '../../errors.js';
import type {
  Backend,
  ChunkWriter,
  CommittedObject,
  WriteChunkInput,
  WrittenChunk,
} from '../backend.js';
import { S3_LIMITS } from '../limits.js';
import { checkChunkNumber, checkCompleteChunks } from '../rules.js';
import { describeCommitMismatch } from './etag-rule.js';
import { callError, classifyS3Error, toStorageError } from './errors.js';

export interface S3ChunkWriterOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** The upload id. */
  id: string;
  /** The backend, to HEAD the committed object and delete it when it is wrong. */
  store: Pick<Backend, 'stat' | 'remove'>;
}

export class S3ChunkWriter implements ChunkWriter {
  readonly key: string;
  readonly id: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly store: Pick<Backend, 'stat' | 'remove'>;

  constructor(options: S3ChunkWriterOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.key = options.key;
    this.id = options.id;
    this.store = options.store;
  }

  /** `<bucket>/<key>`, for messages. */
  private get where(): string {
    return `${this.bucket}/${this.key}`;
  }

  async writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    checkChunkNumber(input.number, S3_LIMITS.maxParts, this.where);
    const what = `uploading part ${input.number} of ${this.where}`;
    const out = await this.client
      .send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.id,
          PartNumber: input.number,
          Body: input.body,
          ContentLength: input.body.byteLength,
          ContentMD5: Buffer.from(input.md5).toString('base64'),
        }),
        input.signal !== undefined ? { abortSignal: input.signal } : {},
      )
      .catch((err: unknown) => {
        throw callError(err, what, input.signal);
      });
    if (out.ETag === undefined || out.ETag === '') {
      throw new StorageError(`${what}: the server returned no ETag`, { isRetryable: true });
    }
    return { number: input.number, size: input.body.byteLength, md5: input.md5, etag: out.ETag };
  }

  /**
   * Commit, then verify by HEAD (see etag-rule.ts). Safe to call again after a lost answer: the
   * upload is gone then (NoSuchUpload), and the object at the key is verified instead. An
   * object that fails the check is deleted only when this call committed it: after
   * NoSuchUpload it may be another writer's (the upload was aborted by a cleanup), so it is
   * left alone and the call fails with `isNotFound`.
   */
  async complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    const ordered = checkCompleteChunks(chunks, this.key);
    const isUploadGone = !(await this.commit(ordered));
    const info = await this.store.stat(this.key);
    const gone = `completing ${this.where}: the upload is gone`;
    if (info === undefined) {
      throw isUploadGone
        ? new StorageError(`${gone} and no object is at the key`, { isNotFound: true })
        : new StorageError(
            `${this.key}: the object is missing right after its upload was completed`,
            {
              isRetryable: true,
            },
          );
    }
    const mismatch = describeCommitMismatch(ordered, info);
    if (mismatch === undefined) return { etag: info.etag, size: info.size };
    if (isUploadGone) {
      throw new StorageError(`${gone} and the object at the key is not this write's: ${mismatch}`, {
        isNotFound: true,
      });
    }
    await this.store.remove(this.key);
    throw new IntegrityError(`${this.key}: ${mismatch}; the object was deleted`);
  }

  /** CompleteMultipartUpload; false when the upload is gone (completed or aborted before). */
  private async commit(ordered: readonly WrittenChunk[]): Promise<boolean> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.id,
          MultipartUpload: { Parts: ordered.map((c) => ({ PartNumber: c.number, ETag: c.etag })) },
        }),
      );
      return true;
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return false;
      throw toStorageError(err, `completing upload of ${this.where}`);
    }
  }

  async abort(): Promise<void> {
    await abortUpload({ client: this.client, bucket: this.bucket, key: this.key, id: this.id });
  }
}

/** AbortMultipartUpload; an upload that is gone already (aborted, completed) is not an error. */
export async function abortUpload(input: {
  client: S3Client;
  bucket: string;
  key: string;
  id: string;
}): Promise<void> {
  try {
    await input.client.send(
      new AbortMultipartUploadCommand({ Bucket: input.bucket, Key: input.key, UploadId: input.id }),
    );
  } catch (err) {
    if (classifyS3Error(err).isNotFound) return;
    throw toStorageError(err, `aborting upload ${input.id} of ${input.bucket}/${input.key}`);
  }
}
