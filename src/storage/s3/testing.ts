/** Test helpers of the S3 backend (excluded from the build, as every `testing.ts`). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { createS3Backend, type S3Backend } from './backend.js';
import type { ConnectionSettings } from './client.js';

/**
 * The connection settings of a scripted S3 server that listens on `port` of this machine: path
 * style (the bucket in the path), a region, and made-up keys that only a scripted server takes.
 */
export function scriptedConnection(
  port: number,
  { scheme = 'http', host = '127.0.0.1' }: { scheme?: 'http' | 'https'; host?: string } = {},
): ConnectionSettings {
  return {
    endpoint: `${scheme}://${host}:${port}`,
    s3Region: 'us-east-1',
    s3ForcePathStyle: true,
    s3KeyId: 'AKIAEXAMPLE',
    s3Secret: 'secret-example',
  };
}

/**
 * A scripted S3 server for the tests of one `describe`: an HTTP server on a free port of
 * 127.0.0.1 that answers with `handler`, listening from `beforeAll` to `afterAll`, and
 * `backend(options)`, an S3 backend of bucket `b` on it.
 */
export function useScriptedS3(handler: RequestListener): {
  server: Server;
  backend: (options?: Parameters<typeof createS3Backend>[2]) => S3Backend;
} {
  const server = createServer(handler);
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const backend = (options?: Parameters<typeof createS3Backend>[2]): S3Backend =>
    createS3Backend(scriptedConnection((server.address() as AddressInfo).port), 'b', options);
  return { server, backend };
}

/** A new self-signed certificate for `localhost` (openssl), and its key: a TLS test server's. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'z3-tls-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        ...[
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        ...['-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert],
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
