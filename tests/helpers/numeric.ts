/**
 * max_i |a_i − b_i| / max_i |b_i|: the largest error relative to the reference's scale (one
 * number for a whole coefficient vector, so near-zero entries do not blow it up).
 */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}
