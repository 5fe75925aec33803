/**
 * A ByteReader over a regular file's descriptor, for pput's stdin or `--file-descriptor`.
 *
 * Why not a stream: process.stdin and fs.ReadStream read 64 KiB chunks into fresh buffers that
 * the uploader then copies into its part buffer: one more copy of every byte and a GiB of
 * short-lived buffers per GiB uploaded, which costs CPU (garbage collection) and inflates the
 * heap. `fs.read` straight into the part buffer copies each byte once, kernel to part.
 *
 * Why regular files only: `fs.read` runs on libuv's thread pool, and a read of a pipe or socket
 * blocks its thread until input arrives. Node joins those threads on exit, so a pipe whose
 * writer stalls would keep an interrupted pput from ever exiting. A file read always returns.
 */
import { read } from 'node:fs';
import type { ByteReader } from './part-reader.js';

/** Read the regular file `fd` from its current position; the descriptor is not closed. */
export function fdReader(fd: number): ByteReader {
  return {
    readInto(buf, offset, length) {
      return new Promise((resolve, reject) => {
        read(fd, buf, offset, length, null, (err, n) => (err !== null ? reject(err) : resolve(n)));
      });
    },
    close() {
      // Nothing to release: a file read in flight ends by itself, and the caller owns `fd`.
    },
  };
}
