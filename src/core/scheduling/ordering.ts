// Orderings the reference gets from Rust's standard library, reproduced so
// that the TypeScript and Rust kernels sort and break ties identically.

/**
 * Rust's f64::total_cmp: like `a - b` for ordinary numbers, but -0 sorts
 * before +0 and NaN after +Infinity (a negative NaN cannot be produced from
 * JavaScript, so every NaN counts as positive).
 */
export function totalCompare(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const aNegative = Object.is(a, -0);
    return aNegative === Object.is(b, -0) ? 0 : aNegative ? -1 : 1;
  }
  const aNaN = Number.isNaN(a);
  return aNaN === Number.isNaN(b) ? 0 : aNaN ? 1 : -1;
}

/** Moves UTF-16 units so that their order is that of the code points they belong to. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  // surrogates (0xD800..0xDFFF) encode code points above every BMP unit
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/**
 * Compares strings by Unicode code points, which is the byte order of their
 * UTF-8 forms and so the order of Rust's `String`. JavaScript's `<` compares
 * UTF-16 units, which disagrees for characters above U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}
