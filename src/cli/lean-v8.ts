/**
 * V8 settings for a process whose memory is budgeted (MEMORY_LIMIT), applied as soon as this
 * module is imported; an entry point imports it before anything else is loaded (src/bin/pput.ts).
 *
 * Why: the budget bounds the part buffers; everything beyond them is Node's own, and two parts
 * of that grow for nothing on an upload, whose JavaScript allocates little (about 9 MiB per
 * GiB: request objects, pipe reads; about 10 MiB live) and never runs hot (the bytes are moved
 * by the kernel and hashed by OpenSSL):
 * - the young generation: V8 doubles its semi-spaces (1 → 2 → 4 → 8 MiB, two of each)
 *   whenever enough objects survive a scavenge, which loading the AWS SDK alone does, and then
 *   keeps them mostly empty. A growth factor of 1 keeps them at their starting size.
 * - the optimizing compiler (TurboFan): compiling the few functions that get warm costs its
 *   compiler's memory and code pages, for code that spends its time waiting on I/O.
 * Measured on `pput --chunk-size 64M --memory 256M` of 1 GiB (3 runs each, same machine): peak
 * RSS 338 MiB without either, 334 with the growth factor, 325 with both; CPU 2.7 s per GiB in
 * every case.
 *
 * Why here and not on the command line (`--max-semi-space-size`, `--no-opt`): users and the
 * benchmark start `node dist/bin/pput.js` as they like. V8 reads the semi-space limit only when
 * the heap is created, but the growth factor at each growth and the optimization flag at each
 * tier-up decision, so setting them before the first of those takes full effect.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flags this module sets. */
export const LEAN_V8_FLAGS: readonly string[] = [
  // grow the semi-spaces by this factor (default 2): 1 never grows them
  '--semi-space-growth-factor=1',
  // interpreter and baseline compiler only
  '--no-opt',
];

for (const flag of LEAN_V8_FLAGS) setFlagsFromString(flag);
