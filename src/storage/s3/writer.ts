/**
 * The chunk writer of the S3 backend: one multipart upload. Chunks are parts (UploadPart, sent
 * by lean-put.ts, with Content-MD5 or with the signed SHA-256 where the server showed that it
 * verifies it: part-digest.ts; either way the server verifies every byte); `complete` commits
 * them and then checks the object by HEAD, because the CompleteMultipartUpload answer cannot be
 * relied on (Ceph RGW answers an empty ETag) and may be lost. A mismatching object is deleted
 * only when it is provably this write's (ownership.ts).
 *
 * A conditional commit (`ifNoneMatch`) is checked twice: by a HEAD before the Complete, which
 * catches an object committed before this write finished (overlapping runs, the usual case),
 * and by `If-None-Match: *` on the Complete, which closes the race between that HEAD and the
 * commit on servers that honour it (AWS since 2024). Ceph RGW 16 ignores the header (tested):
 * there a writer that commits between the HEAD and the Complete is replaced. A server that
 * refuses the header (501 NotImplemented) gets the Complete again without it: the HEAD check
 * has run, and failing every backup on such a server would protect nothing.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CommitConflictError, IntegrityError, InternalError, StorageError } from '../../errors.js';
import type {
  Backend,
  ChunkDigestAlgorithm,
  ChunkWriter,
  CommittedObject,
  ObjectInfo,
  WriteChunkInput,
  WrittenChunk,
} from '../backend.js';
import { normalizeEtag } from '../etag.js';
import { S3_LIMITS } from '../limits.js';
import { pacedBody } from './paced-body.js';
import { checkChunkNumber, checkCompleteChunks } from '../rules.js';
import { describeCommitMismatch } from './etag-rule.js';
import {
  callError,
  classifyS3Error,
  isNotImplemented,
  isPreconditionFailed,
  toStorageError,
} from './errors.js';
import { judgeMismatch, leftInPlace, type MismatchFacts } from './ownership.js';
import type { UploadPartFn } from './lean-put.js';
import { MD5_PARTS, signPayloadHash, type PartDigest } from './part-digest.js';

export interface S3ChunkWriterOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** The upload id. */
  id: string;
  /** The backend, to HEAD the object before a conditional commit and after every commit. */
  store: Pick<Backend, 'stat'>;
  /** Commit only if no object is at the key (OpenWriterInput.ifNoneMatch). */
  ifNoneMatch?: boolean | undefined;
  /** The digest parts should carry, and whether part ETags are MD5s; default MD5_PARTS. */
  partDigest?: PartDigest | undefined;
  /** How a part is sent: the backend's lean UploadPart (lean-put.ts); default the SDK's. */
  uploadPart?: UploadPartFn | undefined;
}

/** What the Complete answered: committed (with its ETag, maybe `""`), upload gone, or 412. */
type CommitOutcome =
  { status: 'committed'; etag: string } | { status: 'gone' } | { status: 'conflict' };

export class S3ChunkWriter implements ChunkWriter {
  readonly key: string;
  readonly id: string;
  readonly digest: ChunkDigestAlgorithm;
  private readonly client: S3Client;
  private readonly uploadPart: UploadPartFn;
  /** A part's ETag is its MD5, so a SHA-256 part's ETag gives its MD5. */
  private readonly etagsAreMd5: boolean;
  private readonly bucket: string;
  private readonly store: Pick<Backend, 'stat'>;
  private readonly ifNoneMatch: boolean;
  /** A Complete was sent: a later call is a retry, which may find this write's own object. */
  private isCommitSent = false;

  constructor(options: S3ChunkWriterOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.key = options.key;
    this.id = options.id;
    this.store = options.store;
    this.ifNoneMatch = options.ifNoneMatch === true;
    const partDigest = options.partDigest ?? MD5_PARTS;
    this.digest = partDigest.digest;
    this.etagsAreMd5 = partDigest.etagsAreMd5;
    this.uploadPart = options.uploadPart ?? sdkPartUploader(this.client, this.bucket);
  }

  /** `<bucket>/<key>`, for messages. */
  private get where(): string {
    return `${this.bucket}/${this.key}`;
  }

  async writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    checkChunkNumber(input.number, S3_LIMITS.maxParts, this.where);
    const what = `uploading part ${input.number} of ${this.where}`;
    const { md5, sha256 } = input;
    if (md5 === undefined && sha256 === undefined) {
      throw new InternalError(`${what}: the part carries no digest`);
    }
    const { key, id } = this;
    const etag = await this.uploadPart({ ...input, key, id }).catch((err: unknown) => {
      throw callError(err, what, input.signal);
    });
    if (etag === '') {
      throw new StorageError(`${what}: the server returned no ETag`, { isRetryable: true });
    }
    const size = input.body.byteLength;
    return { number: input.number, size, md5: md5 ?? this.md5OfEtag(etag), etag };
  }

  /** The MD5 a SHA-256 part's ETag gives, where part ETags are MD5s (a 32-digit hex ETag). */
  private md5OfEtag(etag: string): Uint8Array | undefined {
    const hex = normalizeEtag(etag);
    return this.etagsAreMd5 && /^[0-9a-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
  }

  /**
   * Commit, then verify by HEAD (see etag-rule.ts). Safe to call again after a lost answer: the
   * upload is gone then (NoSuchUpload), and the object at the key is verified instead; after
   * NoSuchUpload a mismatching object may be another writer's (the upload was aborted by a
   * cleanup), so the call fails with `isNotFound` and leaves it. With `ifNoneMatch` an object
   * at the key is a CommitConflictError, except on a retry when it is this write's own.
   */
  async complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    const ordered = checkCompleteChunks(chunks, this.key);
    const isRetry = this.isCommitSent;
    if (this.ifNoneMatch && !isRetry && (await this.store.stat(this.key)) !== undefined) {
      throw new CommitConflictError(this.key);
    }
    this.isCommitSent = true;
    const outcome = await this.commit(ordered);
    if (outcome.status === 'conflict' && !isRetry) throw new CommitConflictError(this.key);
    const info = await this.store.stat(this.key);
    const mismatch = info && describeCommitMismatch(ordered, info);
    if (info !== undefined && mismatch === undefined) return { etag: info.etag, size: info.size };
    const gone = `completing ${this.where}: the upload is gone`;
    switch (outcome.status) {
      case 'conflict':
        throw new CommitConflictError(this.key);
      case 'gone':
        throw new StorageError(
          info === undefined
            ? `${gone} and no object is at the key`
            : `${gone} and the object at the key is not this write's: ${mismatch}`,
          { isNotFound: true },
        );
      case 'committed':
        if (info === undefined || mismatch === undefined) throw this.missingAfterCommit();
        return this.removeIfOwn({ ...this.facts(mismatch, info), committedEtag: outcome.etag });
    }
  }

  /** The retryable error of an object missing right after its commit (a lagging listing). */
  private missingAfterCommit(): StorageError {
    return new StorageError(
      `${this.key}: the object is missing right after its upload was completed`,
      { isRetryable: true },
    );
  }

  private facts(mismatch: string, info: ObjectInfo): Omit<MismatchFacts, 'committedEtag'> {
    return { key: this.key, mismatch, storedEtag: info.etag };
  }

  /**
   * Delete the mismatching object when it is provably this write's (ownership.ts), with a
   * delete conditional on its ETag; either way fail with an IntegrityError saying what happened.
   */
  private async removeIfOwn(facts: MismatchFacts): Promise<never> {
    const verdict = judgeMismatch(facts);
    if (verdict.action === 'leave') throw verdict.error;
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key, IfMatch: verdict.etag }),
      );
    } catch (err) {
      if (isPreconditionFailed(err)) {
        throw leftInPlace(facts, 'it changed before the delete conditional on its ETag (412)');
      }
      if (!classifyS3Error(err).isNotFound) {
        const why = toStorageError(err, 'deleting it').message;
        throw new IntegrityError(`${this.key}: ${facts.mismatch}; ${why}`, { cause: err });
      }
    }
    throw new IntegrityError(`${this.key}: ${facts.mismatch}; the object was deleted`);
  }

  /** CompleteMultipartUpload, with `If-None-Match: *` when the commit is conditional. */
  private async commit(
    ordered: readonly WrittenChunk[],
    withHeader = this.ifNoneMatch,
  ): Promise<CommitOutcome> {
    try {
      const out = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.id,
          MultipartUpload: { Parts: ordered.map((c) => ({ PartNumber: c.number, ETag: c.etag })) },
          ...(withHeader ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return { status: 'committed', etag: out.ETag ?? '' };
    } catch (err) {
      if (classifyS3Error(err).isNotFound) return { status: 'gone' };
      if (withHeader && isPreconditionFailed(err)) return { status: 'conflict' };
      if (withHeader && isNotImplemented(err)) return this.commit(ordered, false);
      throw toStorageError(err, `completing upload of ${this.where}`);
    }
  }

  async abort(): Promise<void> {
    await abortUpload({ client: this.client, bucket: this.bucket, key: this.key, id: this.id });
  }
}

/**
 * UploadPart through the SDK: what the lean path (lean-put.ts) falls back to. Content-MD5 where
 * the part has an MD5, else its SHA-256 as the signed payload hash (part-digest.ts).
 */
export function sdkPartUploader(client: S3Client, bucket: string): UploadPartFn {
  return async (part) => {
    const { md5, sha256 } = part;
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: part.key,
      UploadId: part.id,
      PartNumber: part.number,
      Body: part.pace === undefined ? part.body : pacedBody(part),
      ContentLength: part.body.byteLength,
      ...(md5 !== undefined ? { ContentMD5: Buffer.from(md5).toString('base64') } : {}),
    });
    if (md5 === undefined && sha256 !== undefined) signPayloadHash(command, sha256);
    const out = await client.send(
      command,
      part.signal !== undefined ? { abortSignal: part.signal } : {},
    );
    return out.ETag ?? '';
  };
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
