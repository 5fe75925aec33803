/**
 * A ByteReader over a pipe or socket descriptor (pput's stdin when it is a pipe, the read end of
 * `z3 backup`'s last stage): the kernel copies each read straight into the part buffer.
 *
 * Why not a stream (process.stdin, a child's stdout): it reads 64 KiB at a time into a fresh
 * Buffer that the uploader then copies into its part buffer, so every byte is copied twice and
 * a GiB of short-lived buffers per GiB feeds the garbage collector. Measured on 1 GiB through
 * `pput` from a pipe: the copy and the collector were about a quarter of pput's CPU besides MD5.
 *
 * Why not `fs.read` (fdReader): on a pipe it blocks a thread-pool thread until input arrives, and
 * a stalled writer would then keep pput from ever exiting (fd-reader.ts). Here libuv reads on the
 * event loop, non-blocking, into the buffer we hand it (net.Socket's `onread`).
 *
 * Backpressure: the socket reads only while a `readInto` is pending and pauses once its request
 * is filled, so while every part buffer is busy nothing is read, the pipe fills and the writer
 * waits, as with the stream.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { ByteReader } from './part-reader.js';

/** Bytes a read may bring when no request is pending (one pipe's worth; copied once per part). */
const SPARE_SIZE = 64 * 1024;

interface Request {
  buf: Uint8Array;
  /** Where the next byte goes. */
  at: number;
  end: number;
  got: number;
  resolve: (n: number) => void;
  reject: (err: Error) => void;
}

/**
 * Read the pipe or socket `fd` until its end. `readInto` resolves when the request is full or
 * the input ended (so a part is filled in one call). `close` destroys the socket, which closes
 * `fd`.
 */
export function pipeReader(fd: number): ByteReader {
  const spare = Buffer.allocUnsafe(SPARE_SIZE);
  let request: Request | undefined;
  /** Bytes that arrived in `spare` beyond what the request then pending could take. */
  let leftover: Uint8Array = new Uint8Array(0);
  let ended = false;
  let failure: Error | undefined;

  const finish = (): void => {
    const r = request;
    request = undefined;
    r?.resolve(r.got);
  };
  /** Copy what `spare` brought into the request, keep the rest; true when the request is full. */
  const take = (data: Uint8Array): void => {
    const r = request;
    if (r === undefined) {
      leftover = Buffer.from(data);
      return;
    }
    const n = Math.min(data.byteLength, r.end - r.at);
    r.buf.set(data.subarray(0, n), r.at);
    r.at += n;
    r.got += n;
    if (n < data.byteLength) leftover = Buffer.from(data.subarray(n));
  };

  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: false,
    onread: {
      // The next read's target: the rest of the pending request, else the spare.
      buffer: () => (request === undefined ? spare : request.buf.subarray(request.at, request.end)),
      callback: (n: number, buf: Uint8Array): boolean => {
        if (buf === spare) take(spare.subarray(0, n));
        else if (request !== undefined) {
          request.at += n;
          request.got += n;
        }
        if (request === undefined || request.at < request.end) return request !== undefined;
        finish();
        return false; // pause until the next readInto
      },
    },
  };
  // `onread` is a documented option of the constructor (Node >= 12), typed only for connect().
  const socket = new Socket(options);
  socket.on('end', () => {
    ended = true;
    finish();
  });
  socket.on('error', (err) => {
    failure = err;
    const r = request;
    request = undefined;
    r?.reject(err);
  });

  return {
    readInto(buf, offset, length) {
      if (failure !== undefined) return Promise.reject(failure);
      const fromLeftover = Math.min(length, leftover.byteLength);
      buf.set(leftover.subarray(0, fromLeftover), offset);
      leftover = leftover.subarray(fromLeftover);
      if (fromLeftover === length || ended) return Promise.resolve(fromLeftover);
      return new Promise((resolve, reject) => {
        const end = offset + length;
        request = { buf, at: offset + fromLeftover, end, got: fromLeftover, resolve, reject };
        socket.resume();
      });
    },
    close() {
      socket.destroy();
    },
  };
}
