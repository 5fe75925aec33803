/**
 * `put` of the S3 backend: one PutObject with Content-MD5 (the server verifies every byte), for
 * objects no larger than a part: small metadata objects and streams shorter than one part,
 * where a multipart upload would cost three requests instead of one.
 *
 * A conditional put (`ifNoneMatch`) is checked as the chunk writer's commit is (writer.ts): a
 * HEAD first, which catches an object written earlier on every server, then `If-None-Match: *`
 * on the PUT where the server honours it; a 501 answer gets the PUT again without the header.
 * An object with exactly this put's bytes is its own (a retry after a lost answer).
 */
import { PutObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { CommitConflictError } from '../../errors.js';
import type { Backend, CommittedObject, PutInput } from '../backend.js';
import { checkPutSize, isOwnPut } from '../put.js';
import { lowerCaseKeys } from '../rules.js';
import {
  callError,
  isNotImplemented,
  isPreconditionFailed,
  toStorageError,
  writeArgumentHint,
} from './errors.js';
import { pacedBody } from './paced-body.js';

export interface S3PutContext {
  client: S3Client;
  bucket: string;
  /** The backend: its limits, its location for messages, and `stat` for the checks. */
  store: Pick<Backend, 'stat' | 'limits' | 'location'>;
}

/** Write `input` as one object; see the module comment. */
export async function putObject(ctx: S3PutContext, input: PutInput): Promise<CommittedObject> {
  checkPutSize(input, ctx.store);
  if (input.ifNoneMatch === true) {
    const info = await ctx.store.stat(input.key);
    if (isOwnPut(info, input)) return { etag: info.etag, size: info.size };
    if (info !== undefined) throw new CommitConflictError(input.key);
  }
  const etag = await send(ctx, input, input.ifNoneMatch === true);
  if (etag !== undefined) return { etag, size: input.body.byteLength };
  // A conflict on the header, or an answer without an ETag: the object at the key decides.
  const info = await ctx.store.stat(input.key);
  if (isOwnPut(info, input)) return { etag: info.etag, size: info.size };
  throw new CommitConflictError(input.key);
}

/** The PUT; resolves its ETag, or undefined on 412 or an answer without one. */
async function send(
  ctx: S3PutContext,
  input: PutInput,
  withHeader: boolean,
): Promise<string | undefined> {
  const { key, body, storageClass } = input;
  try {
    const out = await ctx.client.send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: key,
        ACL: 'bucket-owner-full-control',
        Body: input.pace === undefined ? body : pacedBody(input),
        ContentLength: body.byteLength,
        ContentMD5: Buffer.from(input.md5).toString('base64'),
        Metadata: lowerCaseKeys(input.metadata),
        ...(storageClass !== undefined ? { StorageClass: storageClass as StorageClass } : {}),
        ...(withHeader ? { IfNoneMatch: '*' } : {}),
      }),
      input.signal !== undefined ? { abortSignal: input.signal } : {},
    );
    return out.ETag === undefined || out.ETag === '' ? undefined : out.ETag;
  } catch (err) {
    if (withHeader && isPreconditionFailed(err)) return undefined;
    if (withHeader && isNotImplemented(err)) return send(ctx, input, false);
    const what = `writing ${ctx.bucket}/${key}`;
    if (input.signal?.aborted === true) throw callError(err, what, input.signal);
    throw toStorageError(err, what, { onBadArgument: writeArgumentHint(storageClass) });
  }
}
