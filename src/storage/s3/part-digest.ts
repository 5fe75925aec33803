/**
 * Which digest a part carries for the server to verify: Content-MD5, or the SigV4 payload hash
 * (`x-amz-content-sha256`, the SHA-256 of the body, signed).
 *
 * Why not always MD5: with the CPU's SHA instructions (x86 SHA-NI, Arm's SHA2) OpenSSL hashes
 * SHA-256 more than twice as fast as MD5 (1.80 against 0.74 GB/s on this project's test
 * machine), and MD5 was half of an upload's CPU. Why not always SHA-256: without those
 * instructions it is slower than MD5, and a server may take the signed hash without checking
 * it against the body, which would leave the parts unchecked.
 *
 * So the first upload of a run asks the server, on its own upload id, before any real part:
 * part 1 with one byte and a wrong hash must be refused, and the same byte with the right hash
 * accepted. Anything else (accepted, a network error, no answer) keeps Content-MD5. The real
 * part 1 replaces the probe's. The second answer also tells whether the server's part ETags are
 * MD5s (not under SSE-KMS or SSE-C), which the commit check needs (etag-rule.ts).
 *
 * Measured on Ceph RGW 16: refuses a wrong hash (400 XAmzContentSHA256Mismatch) on UploadPart
 * and PutObject, and keeps MD5 part ETags, with or without SSE-KMS.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { UploadPartCommand } from '@aws-sdk/client-s3';
import type { ChunkDigestAlgorithm } from '../backend.js';
import { md5, normalizeEtag } from '../etag.js';
import { PAYLOAD_HASH_HEADER } from './client.js';
import { isRefusal } from './errors.js';

/**
 * How parts are checked: 'auto' (SHA-256 where the CPU is fast at it and the server verifies
 * it), 'md5', or 'sha256' (where the server verifies it, whatever the CPU).
 */
export type PartDigestMode = 'auto' | ChunkDigestAlgorithm;

/** What the probe found for the writers of a run. */
export interface PartDigest {
  digest: ChunkDigestAlgorithm;
  /** The server's part ETags are the MD5s of the parts (always assumed for MD5 parts). */
  etagsAreMd5: boolean;
}

/** Content-MD5, no probe. */
export const MD5_PARTS: PartDigest = { digest: 'md5', etagsAreMd5: true };

/**
 * True when this machine's CPU hashes SHA-256 in hardware, read from `cpuinfo` (default
 * /proc/cpuinfo; false where there is none): the flag `sha_ni` (x86) or the feature `sha2`
 * (64-bit Arm).
 */
export function hasFastSha256(cpuinfo?: string): boolean {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return false;
    }
  }
  return /^(flags|Features)\s*:.*\b(sha_ni|sha2)\b/m.test(text);
}

/** Sign `command` with `sha256` (binary) as its payload hash, instead of UNSIGNED-PAYLOAD. */
export function signPayloadHash<
  C extends { middlewareStack: UploadPartCommand['middlewareStack'] },
>(command: C, sha256: Uint8Array): C {
  const hex = Buffer.from(sha256).toString('hex');
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (request?.headers !== undefined) request.headers[PAYLOAD_HASH_HEADER] = hex;
      return next(args);
    },
    { step: 'build', name: 'z3SignedPayloadHash', priority: 'low' },
  );
  return command;
}

/** The probe's part: one byte. */
export const PROBE_BODY = Uint8Array.of(0x7a);
/** A hash that is not the probe's. */
const WRONG_HASH = createHash('sha256').update('not the probe body').digest();

/**
 * Ask the server whether it verifies a part's signed SHA-256 (see the top of this file), with
 * `sendPart`, which sends PROBE_BODY as part 1 of an upload signed with `sha256` as its payload
 * hash and resolves to the part's ETag. Never throws: a failure keeps MD5.
 */
export async function probePartDigest(
  sendPart: (sha256: Uint8Array) => Promise<string>,
): Promise<PartDigest> {
  try {
    await sendPart(WRONG_HASH);
    return MD5_PARTS; // a wrong hash accepted: the server does not check it
  } catch (err) {
    if (!isRefusal(err)) return MD5_PARTS;
  }
  try {
    const etag = await sendPart(createHash('sha256').update(PROBE_BODY).digest());
    const etagsAreMd5 = normalizeEtag(etag) === md5(PROBE_BODY).toString('hex');
    return { digest: 'sha256', etagsAreMd5 };
  } catch {
    return MD5_PARTS;
  }
}
