/** Bytes in one MiB. */
export const MIB = 1024 * 1024;

/** Thrown by `parseSize`; callers turn it into a message naming the flag or config key. */
export class SizeSyntaxError extends Error {
  constructor(readonly text: string) {
    super(`invalid size "${text}": expected a size like 256M`);
    this.name = 'SizeSyntaxError';
  }
}

const POWERS: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT])(?:I?B)?$/;
const PLAIN = /^\d+$/;

/**
 * Parse a size as the original did (trimmed, case-insensitive): a whole number of bytes, or a
 * number with suffix K/M/G/T meaning powers of 1024 (`KB`, `KiB` etc. accepted too). A fraction is
 * allowed with a suffix and floored to whole bytes (`1.5G`). Range checks are the caller's.
 *
 * @throws SizeSyntaxError when `text` is not such a size or exceeds Number.MAX_SAFE_INTEGER.
 */
export function parseSize(text: string): number {
  const upper = text.trim().toUpperCase();
  let bytes: number;
  if (PLAIN.test(upper)) {
    bytes = Number(upper);
  } else {
    const match = SIZE.exec(upper);
    const power = POWERS[match?.[2] ?? ''];
    if (match === null || power === undefined) throw new SizeSyntaxError(text);
    bytes = Math.floor(Number(match[1]) * 1024 ** power);
  }
  if (!Number.isSafeInteger(bytes)) throw new SizeSyntaxError(text);
  return bytes;
}

/** `parseSize(text)`, or NaN when it is not a size: for callers that refuse it with their own message. */
export function sizeOrNaN(text: string): number {
  try {
    return parseSize(text);
  } catch (err) {
    if (!(err instanceof SizeSyntaxError)) throw err;
    return NaN;
  }
}

/**
 * A byte count in MiB written like Python's `repr(float)`, as pput's banner shows it
 * (`chunksize ${formatMiB(n)}M`): `5.0`, `53.77…`. JavaScript prints the same shortest
 * round-trip digits as Python for these magnitudes; only the `.0` of integral values differs.
 */
export function formatMiB(bytes: number): string {
  const mib = bytes / MIB;
  const text = String(mib);
  return Number.isInteger(mib) ? `${text}.0` : text;
}

/** `4G`, `4095M` or a byte count: the largest unit that divides `bytes` (for messages). */
export function formatSize(bytes: number): string {
  if (bytes % (1024 * MIB) === 0) return `${bytes / (1024 * MIB)}G`;
  return bytes % MIB === 0 ? `${bytes / MIB}M` : String(bytes);
}
