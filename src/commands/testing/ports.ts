/**
 * Ports for the commands' unit tests: a given backend (normally the memory backend, maybe
 * wrapped in FaultyBackend), a scripted `zfs`, an environment with no config file, captured
 * output and a fixed clock.
 */
import { Writable } from 'node:stream';
import type { Backend } from '../../storage/backend.js';
import { storageOf } from '../../storage/open.js';
import type { CommandPorts } from '../ports.js';

export interface TestPorts extends CommandPorts {
  /** Everything written to stdout / stderr so far. */
  out(): string;
  err(): string;
  /** Abort the run as SIGTERM would. */
  controller: AbortController;
}

/** The settings every test starts from: no config file, COMPRESSOR none, no cache. */
export const TEST_ENV: Record<string, string> = {
  Z3_CONFIG: '/dev/null',
  BUCKET: 'test-bucket',
  FILESYSTEM: 'tank/data',
  SNAPSHOT_PREFIX: 'snap',
  COMPRESSOR: 'none',
  CACHE_DIR: 'off',
};

export function testPorts(input: {
  backend: Backend;
  zfs: string;
  env?: Record<string, string>;
}): TestPorts {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const controller = new AbortController();
  return {
    openStorage: () => storageOf(input.backend, 'test-bucket'),
    zfs: input.zfs,
    env: { ...TEST_ENV, ...input.env },
    stdout: collector(out),
    stderr: collector(err),
    now: () => Date.parse('2026-11-26T00:00:00Z'),
    signal: controller.signal,
    controller,
    out: () => Buffer.concat(out).toString(),
    err: () => Buffer.concat(err).toString(),
  };
}

/** A sink that keeps a copy of every chunk (the downloader may reuse its buffers). */
function collector(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      into.push(Buffer.from(chunk));
      callback();
    },
  });
}
