/**
 * Small helpers for `<dataset>@<snapshot>` names. ZFS forbids `@` in dataset and snapshot names,
 * so the first `@` separates the two parts.
 */

/** The part after the first `@`; the whole string when it has no `@` (e.g. a malformed `parent`). */
export function snapshotPart(fullName: string): string {
  const at = fullName.indexOf('@');
  return at === -1 ? fullName : fullName.slice(at + 1);
}

/** `<dataset>@<snapshot>`. */
export function joinSnapshotName(dataset: string, snapshot: string): string {
  return `${dataset}@${snapshot}`;
}

/**
 * Order strings by Unicode code point, as Python compares `str` (the original sorts the status
 * table so). JavaScript's `<` compares UTF-16 code units, which differs for characters beyond
 * U+FFFF against U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}
