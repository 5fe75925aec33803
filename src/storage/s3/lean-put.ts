/**
 * A lean UploadPart: the part's bytes written to a keep-alive socket as they are, in one
 * request signed by z3 (signed-endpoint.ts, the SDK's own signer, endpoint rules and
 * credentials). Why: through the AWS SDK v3 a part costs about 1.6 ms more client CPU
 * (middleware stack, endpoint ruleset, serde, its HTTP handler's body stream), measured with
 * 5 MiB parts on Ceph RGW: 4.2 against 2.6 ms. A backup's parts are at least 5 MiB, so that is
 * about 0.3 CPU-s of a 1 GiB backup's 3 (bench:transfer, backup section).
 *
 * The part carries the same check as through the SDK: Content-MD5 (payload signed as
 * UNSIGNED-PAYLOAD), or its SHA-256 as the signed payload hash (part-digest.ts). Errors are
 * shaped like the SDK's (lean-request.ts); one attempt, as every backend call. A paced part
 * (the bandwidth limit) streams its slices as they are let out. An endpoint the lean path
 * cannot serve goes through the SDK (`fallback`).
 */
import type { WriteChunkInput } from '../backend.js';
import { pacedBody } from './paced-body.js';
import {
  leanOrFallback,
  sendLean,
  serverError,
  type LeanPathOptions,
  type LeanTarget,
} from './lean-request.js';
import { signKeyRequest } from './signed-endpoint.js';

/** One part of upload `id` of `key`: its bytes, digest, pacing and cancellation. */
export interface PartUpload extends Pick<
  WriteChunkInput,
  'number' | 'body' | 'md5' | 'sha256' | 'pace' | 'signal'
> {
  key: string;
  id: string;
}

/**
 * Send one part; resolves to the ETag the server answered ('' when none). Rejects with the
 * server's or the socket's error as is: the caller classifies it (errors.ts `callError`).
 */
export type UploadPartFn = (part: PartUpload) => Promise<string>;

/**
 * UploadPart of `bucket` through the lean path, or through `fallback` when the lean path cannot
 * serve this endpoint. Resolves the endpoint on first use; safe to call concurrently.
 */
export function createLeanPartUploader(options: LeanPathOptions<UploadPartFn>): UploadPartFn {
  return leanOrFallback(options, uploadPart);
}

async function uploadPart(t: LeanTarget, part: PartUpload, idleMs: number): Promise<string> {
  const { body, md5, sha256, signal } = part;
  signal?.throwIfAborted();
  const headers: Record<string, string> = { 'content-length': String(body.byteLength) };
  if (md5 !== undefined) headers['content-md5'] = Buffer.from(md5).toString('base64');
  const signed = await signKeyRequest(t, {
    method: 'PUT',
    key: part.key,
    query: { partNumber: String(part.number), uploadId: part.id },
    headers,
    // With Content-MD5 the body is checked by it; hashing it again for the signature would
    // cost about 0.6 CPU-s per GiB (client.ts).
    payloadHash:
      md5 === undefined && sha256 !== undefined
        ? Buffer.from(sha256).toString('hex')
        : 'UNSIGNED-PAYLOAD',
  });
  const answer = await sendLean(t, {
    method: 'PUT',
    ...signed,
    body: part.pace === undefined ? body : pacedBody(part),
    idleMs,
    signal,
  });
  if (answer.status < 200 || answer.status >= 300) {
    throw serverError(answer.status, answer.errorBody);
  }
  const etag = answer.headers.etag;
  return typeof etag === 'string' ? etag : '';
}
