/**
 * The digests of upload parts (MD5 or SHA-256, whichever the writer verifies: ChunkWriter.digest)
 * on a few worker threads, so hashing (MD5: about 1.4 CPU-s per GiB, OpenSSL's speed on one
 * core; SHA-256 with the CPU's SHA instructions: about 0.6) runs beside the main thread's
 * reading and sending instead of between them: one run can use more than one core.
 *
 * Why shared memory: a part lives in a SharedArrayBuffer (PartPool allocates it so), which a
 * worker reads where it is; posting an ordinary buffer would copy it, costing more than the
 * hash saves. A part not in shared memory, or smaller than `minBytes` (where the round trip to
 * a thread costs more than hashing here), is hashed on the calling thread.
 *
 * Integrity is unchanged: every part still gets its own digest of exactly its bytes, which the
 * backend verifies (S3: Content-MD5, or the signed payload hash); only the thread differs.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InternalError } from '../errors.js';
import type { ChunkDigestAlgorithm } from '../storage/backend.js';

/** Parts below this size are hashed on the calling thread (a thread hop costs ~0.1 ms). */
export const MIN_OFFLOAD_BYTES = 1024 * 1024;

/** The worker: hashes views of shared memory and answers with the binary digest. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, algorithm, buffer, offset, length }) => {
  try {
    const digest = createHash(algorithm).update(new Uint8Array(buffer, offset, length)).digest();
    parentPort.postMessage({ id, digest });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

export interface DigestPoolOptions {
  /** Worker threads; default one less than the cores (at least 1, at most 4). */
  workers?: number | undefined;
  /** Smaller inputs are hashed on the calling thread; default MIN_OFFLOAD_BYTES. */
  minBytes?: number | undefined;
}

interface Pending {
  resolve: (digest: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

export interface DigestPool {
  /** The binary digest of `data` (which must not change until this resolves); default MD5. */
  digest(data: Uint8Array, algorithm?: ChunkDigestAlgorithm): Promise<Uint8Array>;
  /** Stop the threads; digests still pending reject. Safe to call twice. */
  close(): void;
  /** The running threads (for tests and diagnostics). */
  readonly threads: readonly Worker[];
}

/** The default thread count: one less than the cores, 1 to 4. */
export function defaultDigestWorkers(cores = availableParallelism()): number {
  return Math.min(4, Math.max(1, cores - 1));
}

/** Start nothing yet: threads are created on the first digest that needs one. */
export function createDigestPool(options: DigestPoolOptions = {}): DigestPool {
  const size = options.workers ?? defaultDigestWorkers();
  const minBytes = options.minBytes ?? MIN_OFFLOAD_BYTES;
  const threads: Thread[] = [];
  let nextId = 0;
  let isClosed = false;

  const start = (): Thread => {
    const thread: Thread = {
      worker: new Worker(WORKER_SOURCE, { eval: true }),
      pending: new Map(),
    };
    thread.worker.unref(); // referenced only while a digest waits on it (see `send`)
    thread.worker.on('message', (m: { id: number; digest?: Uint8Array; error?: string }) => {
      const p = thread.pending.get(m.id);
      thread.pending.delete(m.id);
      if (thread.pending.size === 0) thread.worker.unref();
      if (m.digest !== undefined) p?.resolve(new Uint8Array(m.digest));
      else p?.reject(new InternalError(`hashing a part failed: ${m.error ?? 'unknown error'}`));
    });
    const fail = (why: string): void => {
      threads.splice(threads.indexOf(thread), 1);
      for (const p of thread.pending.values()) p.reject(new InternalError(why));
      thread.pending.clear();
    };
    thread.worker.on('error', (err) => fail(`the digest thread failed: ${err.message}`));
    thread.worker.on('exit', (code) => {
      if (threads.includes(thread)) fail(`the digest thread exited (code ${code}) while hashing`);
    });
    threads.push(thread);
    return thread;
  };
  /** The thread with the fewest digests waiting; a new one while fewer than `size` run. */
  const pick = (): Thread => {
    const idle = threads.find((t) => t.pending.size === 0);
    if (idle !== undefined || threads.length >= size) {
      return idle ?? threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    }
    return start();
  };
  const send = (data: Uint8Array, algorithm: ChunkDigestAlgorithm): Promise<Uint8Array> => {
    const thread = pick();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.ref();
      const { buffer, byteOffset: offset, byteLength: length } = data;
      thread.worker.postMessage({ id, algorithm, buffer, offset, length });
    });
  };

  return {
    digest(data, algorithm = 'md5') {
      if (isClosed) return Promise.reject(new InternalError('the digest pool is closed'));
      const isShared = data.buffer instanceof SharedArrayBuffer;
      if (!isShared || data.byteLength < minBytes || size < 1) {
        return Promise.resolve(new Uint8Array(createHash(algorithm).update(data).digest()));
      }
      return send(data, algorithm);
    },
    close() {
      isClosed = true;
      for (const thread of threads.splice(0)) {
        for (const p of thread.pending.values())
          p.reject(new InternalError('the digest pool is closed'));
        void thread.worker.terminate();
      }
    },
    get threads() {
      return threads.map((t) => t.worker);
    },
  };
}
