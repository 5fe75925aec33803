/**
 * Fletcher-4 the slow, obvious way (BigInt per word, as fletcher_4_scalar_native in
 * module/zcommon/zfs_fletcher.c), to check the fast one against and to write test streams with a
 * checksum the parser did not compute itself.
 */
const MASK = (1n << 64n) - 1n;

export class ReferenceFletcher4 {
  a = 0n;
  b = 0n;
  c = 0n;
  d = 0n;

  reset(): void {
    this.a = this.b = this.c = this.d = 0n;
  }

  /** Fold the whole 32-bit words of `bytes`, read in the given byte order; a 1–3 byte tail is skipped. */
  update(bytes: Uint8Array, littleEndian: boolean): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i + 4 <= bytes.length; i += 4) {
      this.a = (this.a + BigInt(view.getUint32(i, littleEndian))) & MASK;
      this.b = (this.b + this.a) & MASK;
      this.c = (this.c + this.b) & MASK;
      this.d = (this.d + this.c) & MASK;
    }
  }

  /** The state as a zio_cksum_t: four u64 in the given byte order. */
  bytes(littleEndian: boolean): Uint8Array {
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    [this.a, this.b, this.c, this.d].forEach((w, k) => view.setBigUint64(8 * k, w, littleEndian));
    return out;
  }
}
