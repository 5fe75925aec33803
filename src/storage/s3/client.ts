import { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../../config/types.js';
import { createAgent } from './agents.js';

/** The settings that decide how to reach the store. */
export type ConnectionSettings = Pick<
  Settings,
  'endpoint' | 's3Region' | 's3ForcePathStyle' | 's3KeyId' | 's3Secret'
>;

/** Default region when neither S3_REGION nor AWS_REGION / AWS_DEFAULT_REGION names one. */
const FALLBACK_REGION = 'us-east-1';

/** A TCP connect that takes longer than this is treated as a (retryable) failure. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** A socket idle this long in the middle of a request is a (retryable) failure. */
export const SOCKET_IDLE_TIMEOUT_MS = 120_000;

export interface S3ClientOptions {
  /** Idle time after which a socket in the middle of a request fails (tests shorten it). */
  socketTimeoutMs?: number | undefined;
}

/**
 * Build the one S3 client of a run. Why WHEN_REQUIRED checksums: the SDK's default streaming
 * checksums are sent as aws-chunked trailers, which Ceph RGW answers with 411 and Swift with
 * 501; we send Content-MD5 on every part instead, which real servers verify.
 * Why `maxAttempts: 1`: the one retry policy is a wrapper around the backend
 * (src/storage/wrappers/retrying.ts); SDK retries inside it would multiply the attempts (3 × 3
 * requests for one failing call), so every call through this client is exactly one request.
 */
export function createS3Client(
  settings: ConnectionSettings,
  options: S3ClientOptions = {},
): S3Client {
  const client = new S3Client({
    region: settings.s3Region ?? FALLBACK_REGION,
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.s3ForcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK's default sends every body of 2 MiB or more (every part) with `Expect:
    // 100-continue`, and sends such a request on a new connection closed after it: a TCP and
    // TLS handshake and a wait for `100 Continue` per part. Without the header parts share the
    // keep-alive pool; a request the server refuses costs one part's bytes, once.
    expectContinueHeader: false,
    maxAttempts: 1,
    // Without an idle timeout a stalled connection (a NAT dropping the flow, a wedged server)
    // hangs a part forever: `socketTimeout` ends it as a retryable TimeoutError. Not
    // `requestTimeout`, which only warns, and would cut slow but healthy large parts if made to
    // throw. The socket pool must be at least as large as the highest CONCURRENCY (agents.ts).
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: options.socketTimeoutMs ?? SOCKET_IDLE_TIMEOUT_MS,
      httpAgent: createAgent(false),
      httpsAgent: createAgent(true),
    },
    ...(settings.s3KeyId !== undefined
      ? {
          credentials: {
            accessKeyId: settings.s3KeyId,
            secretAccessKey: settings.s3Secret ?? '',
          },
        }
      : {}),
  });
  skipPayloadHash(client);
  return client;
}

/** The header SigV4 signs as the payload hash; a value set before signing is used as is. */
export const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';

/** The commands whose body carries its own check (src/storage/s3/writer.ts, put.ts). */
const CHECKED_COMMANDS = new Set(['UploadPartCommand', 'PutObjectCommand']);

/**
 * Sign part uploads and single PUTs with `x-amz-content-sha256: UNSIGNED-PAYLOAD`. Why: the
 * SigV4 signer otherwise hashes every body with SHA-256 on the main thread (about 0.6 CPU-s per
 * GiB), while each of them already carries a check the server verifies: Content-MD5, or a
 * SHA-256 hashed off the main thread and set as the payload hash by the command itself
 * (part-digest.ts, which runs after this). S3 and Ceph RGW accept unsigned payloads. Added at
 * the build step, before the signer.
 */
function skipPayloadHash(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (CHECKED_COMMANDS.has(context.commandName ?? '') && request?.headers !== undefined) {
        request.headers[PAYLOAD_HASH_HEADER] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'z3SkipPayloadHash' },
  );
}
