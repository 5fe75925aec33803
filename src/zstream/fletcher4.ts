/**
 * The running Fletcher-4 checksum of a ZFS send stream, exact modulo 2^64, without BigInt in the
 * hot loop.
 *
 * Fletcher-4 (module/zcommon/zfs_fletcher.c, fletcher_4_scalar_native) runs over 32-bit words:
 * a += w; b += a; c += b; d += c, all modulo 2^64. BigInt per word is ~50× too slow, so the words
 * are taken in blocks of BLOCK_WORDS: inside a block a, b, c, d start at 0 and stay below 2^53,
 * exact in doubles; the block is then folded into the 64-bit state, kept as two 32-bit limbs per
 * sum, with the closed form of running n words from a state (A, B, C, D):
 *   A' = A + a,  B' = B + nA + b,  C' = C + nB + T2·A + c,  D' = D + nC + T2·B + T3·A + d
 * where T2 = n(n+1)/2 and T3 = n(n+1)(n+2)/6 (the same algebra as OpenZFS's
 * fletcher_4_incremental_combine()). Every product stays below 2^49, so all of it is exact.
 */

/**
 * Words per block: d ≤ (2^32 − 1)·C(n+3, 4), which for n = 64 is below 2^52 (n = 80 would
 * still fit under 2^53; 64 leaves a margin).
 */
const BLOCK_WORDS = 64;
const TWO_32 = 4294967296;
/** Multiplying by 2^-32 is exact and far cheaper than `%` (fmod) or a division. */
const INV_TWO_32 = 1 / TWO_32;

/** A Fletcher-4 state; `update*` fold words in, `matches` compares with a stored checksum. */
export class Fletcher4 {
  private aLo = 0;
  private aHi = 0;
  private bLo = 0;
  private bHi = 0;
  private cLo = 0;
  private cHi = 0;
  private dLo = 0;
  private dHi = 0;

  /** Back to the zero state (a new substream begins). */
  reset(): void {
    this.aLo = this.aHi = this.bLo = this.bHi = 0;
    this.cLo = this.cHi = this.dLo = this.dHi = 0;
  }

  /** Fold `words[start..end)` in, in order. */
  updateWords(words: Uint32Array, start: number, end: number): void {
    for (let i = start; i < end;) {
      const stop = Math.min(i + BLOCK_WORDS, end);
      const n = stop - i;
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      for (; i < stop; i++) {
        a += words[i] as number;
        b += a;
        c += b;
        d += c;
      }
      this.combine(n, a, b, c, d);
    }
  }

  /** The four sums as 64-bit integers (for reports and tests). */
  words(): [bigint, bigint, bigint, bigint] {
    const join = (lo: number, hi: number) => (BigInt(hi) << 32n) | BigInt(lo);
    return [
      join(this.aLo, this.aHi),
      join(this.bLo, this.bHi),
      join(this.cLo, this.cHi),
      join(this.dLo, this.dHi),
    ];
  }

  /**
   * Whether the zio_cksum_t (four u64) stored at `view[offset..offset+32)` equals this state.
   * `littleEndian` is the stream's byte order.
   */
  matches(view: DataView, offset: number, littleEndian: boolean): boolean {
    return (
      this.limbsMatch(view, offset, littleEndian, this.aLo, this.aHi) &&
      this.limbsMatch(view, offset + 8, littleEndian, this.bLo, this.bHi) &&
      this.limbsMatch(view, offset + 16, littleEndian, this.cLo, this.cHi) &&
      this.limbsMatch(view, offset + 24, littleEndian, this.dLo, this.dHi)
    );
  }

  private limbsMatch(view: DataView, at: number, le: boolean, lo: number, hi: number): boolean {
    const loAt = le ? at : at + 4;
    const hiAt = le ? at + 4 : at;
    return view.getUint32(loAt, le) === lo && view.getUint32(hiAt, le) === hi;
  }

  /** Fold in a block of n words whose own sums (from zero) are a, b, c, d. */
  private combine(n: number, a: number, b: number, c: number, d: number): void {
    const t2 = (n * (n + 1)) / 2;
    const t3 = (t2 * (n + 2)) / 3;
    const dLo = this.dLo + n * this.cLo + t2 * this.bLo + t3 * this.aLo + mod32(d);
    const dHi =
      this.dHi + n * this.cHi + t2 * this.bHi + t3 * this.aHi + Math.floor(d * INV_TWO_32);
    const cLo = this.cLo + n * this.bLo + t2 * this.aLo + mod32(c);
    const cHi = this.cHi + n * this.bHi + t2 * this.aHi + Math.floor(c * INV_TWO_32);
    const bLo = this.bLo + n * this.aLo + mod32(b);
    const bHi = this.bHi + n * this.aHi + Math.floor(b * INV_TWO_32);
    const aLo = this.aLo + a;
    this.dLo = mod32(dLo);
    this.dHi = carried(dLo, dHi);
    this.cLo = mod32(cLo);
    this.cHi = carried(cLo, cHi);
    this.bLo = mod32(bLo);
    this.bHi = carried(bLo, bHi);
    this.aLo = mod32(aLo);
    this.aHi = carried(aLo, this.aHi);
  }
}

/** The high limb after the low limb's overflow is carried into it, modulo 2^32 (2^64 overall). */
function carried(lo: number, hi: number): number {
  return mod32(hi + Math.floor(lo * INV_TWO_32));
}

/** x mod 2^32 for a non-negative integer x below 2^53. */
function mod32(x: number): number {
  return x - Math.floor(x * INV_TWO_32) * TWO_32;
}
