/**
 * The backend conformance suite (src/storage/testing/conformance.ts) on the S3 backend against
 * the test S3 server (Ceph RGW from scripts/s3-server.sh, or any endpoint given by the
 * `Z3_TEST_S3_*` variables, see test/s3-env.ts). Each backend the suite asks for gets its own
 * prefix in the test bucket, and is swept clean afterwards.
 */
import { createS3Backend } from '../../src/storage/s3/backend.js';
import { runBackendSuite, sweepPrefix } from '../../src/storage/testing/conformance.js';
import { ensureBucket, testClient, testS3, uniquePrefix } from '../s3-env.js';

const s3 = testS3();

runBackendSuite(`s3 (${s3.connection.endpoint ?? 'AWS'})`, async ({ pageSize }) => {
  const client = testClient(s3);
  try {
    await ensureBucket(client, s3.bucket);
  } finally {
    client.destroy();
  }
  const backend = createS3Backend(
    s3.connection,
    s3.bucket,
    pageSize === undefined ? {} : { pageSize },
  );
  const prefix = `${uniquePrefix('conformance')}/`;
  return { backend, prefix, cleanup: () => sweepPrefix(backend, prefix) };
});
