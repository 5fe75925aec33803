import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../errors.js';
import { injected } from '../../testing/faults.js';
import { createS3Backend } from './backend.js';

describe('S3 client timeouts', () => {
  // A server that accepts connections and never answers: a wedged S3 server, or a NAT that
  // dropped the flow mid-request.
  let server: Server;
  const sockets: Socket[] = [];
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it(
    'ends a request on a silent connection as a retryable storage error',
    { tags: ['faults'] },
    async () => {
      const connection = {
        endpoint: `http://127.0.0.1:${port}`,
        s3Region: 'us-east-1',
        s3ForcePathStyle: true,
        s3KeyId: 'AKIAEXAMPLE',
        s3Secret: 'secret-example',
      };
      const backend = createS3Backend(connection, 'b', { socketTimeoutMs: 300 });
      const statBulk = backend.features.statBulk;
      expect(statBulk).toBeDefined();
      let silent = 0;
      for (const call of [
        () => backend.readRange({ key: 'k', start: 0, end: 9 }),
        () => backend.stat('k'),
        () => (statBulk ?? backend.stat.bind(backend))('k'),
      ]) {
        const connections = sockets.length;
        const started = Date.now();
        const err = await call().catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(err).toBeInstanceOf(StorageError);
        expect((err as StorageError).isRetryable).toBe(true);
        // One attempt per call: the retry policy is the wrapper's, never the SDK's too.
        expect(sockets.length - connections).toBe(1);
        silent += sockets.length - connections;
      }
      injected('S3 reset/timeout', silent);
      backend.client.destroy();
    },
  );
});
