/**
 * Human-readable sizes as the original z3 prints them in `status` and after a backup (spec 5).
 */

const UNITS = ['M', 'G', 'T'] as const;
const MIB = 1024 * 1024;

/**
 * `bytes` in MiB, GiB or TiB with at most two decimals: divide by 1024² (M); while the value is
 * above 1024 and the unit is below T, divide by 1024 again; format with two decimals, strip
 * trailing zeros and a trailing `.`. So `0 M`, `1.5 M`, `1024 M` (exactly 1 GiB), `1 G`
 * (1025 MiB), `2000 T`. Throws a RangeError for a negative or non-finite value.
 *
 * Why not `toFixed(2)`: Python's `'{:.2f}'` rounds an exact tie (1.125 → `1.12`) to even, while
 * `toFixed` rounds it up (`1.13`); the status table must match the original byte for byte.
 */
export function humanizeSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`not a size in bytes: ${bytes}`);
  let value = bytes / MIB;
  let unit = 0;
  while (value > 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const fixed = formatFixed2(value).replace(/0+$/, '').replace(/\.$/, '');
  return `${fixed} ${UNITS[unit] ?? 'T'}`;
}

/**
 * `value` with exactly two decimals, correctly rounded from its exact binary value with ties to
 * even, as Python's `'%.2f'` does. Exact because every finite double is m·2^e: scale by 100 in
 * BigInt and round the quotient by comparing twice the remainder with the divisor.
 */
function formatFixed2(value: number): string {
  const { mantissa, exponent } = decompose(value);
  const scaled = mantissa * 100n;
  let hundredths: bigint;
  if (exponent >= 0) {
    hundredths = scaled << BigInt(exponent);
  } else {
    const divisor = 1n << BigInt(-exponent);
    const quotient = scaled / divisor;
    const twiceRemainder = 2n * (scaled % divisor);
    const roundsUp =
      twiceRemainder > divisor || (twiceRemainder === divisor && quotient % 2n === 1n);
    hundredths = roundsUp ? quotient + 1n : quotient;
  }
  const whole = hundredths / 100n;
  const fraction = (hundredths % 100n).toString().padStart(2, '0');
  return `${whole}.${fraction}`;
}

/** A finite non-negative double as `mantissa · 2^exponent` with an integer mantissa. */
function decompose(value: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // Subnormals (biased 0) have no implicit leading 1 and the exponent of biased 1.
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
