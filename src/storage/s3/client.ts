import { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../../config/types.js';

/** The settings that decide how to reach the store. */
export type ConnectionSettings = Pick<
  Settings,
  'endpoint' | 's3Region' | 's3ForcePathStyle' | 's3KeyId' | 's3Secret'
>;

/** Default region when neither S3_REGION nor AWS_REGION / AWS_DEFAULT_REGION names one. */
const FALLBACK_REGION = 'us-east-1';

/**
 * Build the one S3 client of a run. Why WHEN_REQUIRED checksums: the SDK's default streaming
 * checksums are sent as aws-chunked trailers, which Ceph RGW answers with 411 and Swift with
 * 501; we send Content-MD5 on every part instead, which real servers verify.
 * Retries are ours (src/transfer/retry.ts), so the SDK's own are limited to one attempt for
 * uploads of parts; `maxAttempts` here covers the cheap metadata calls.
 */
export function createS3Client(settings: ConnectionSettings, maxAttempts = 3): S3Client {
  return new S3Client({
    region: settings.s3Region ?? FALLBACK_REGION,
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.s3ForcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
    ...(settings.s3KeyId !== undefined
      ? {
          credentials: {
            accessKeyId: settings.s3KeyId,
            secretAccessKey: settings.s3Secret ?? '',
          },
        }
      : {}),
  });
}
