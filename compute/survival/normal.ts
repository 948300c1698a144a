/**
 * Normal tail probabilities for Wald tests, accurate in the far tail (private to survival/ until
 * compute/stats is available to import: see the README section).
 *
 * erfc(x), x ≥ 0: for x < 2 the all-positive series erf(x) = 2x e^{−x²}/√π Σ (2x²)^k / (2k+1)!!
 * (no cancellation; erfc ≥ 0.0047 there so 1 − erf keeps ~15 digits), for x ≥ 2 the continued
 * fraction erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))) evaluated by modified Lentz,
 * returned in log form so p-values far below 1e-308 still give finite −log10 p.
 */
const SQRT_PI = Math.sqrt(Math.PI);
const LN10 = Math.LN10;

/** ln erfc(x) for x ≥ 0. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2) {
    const x2 = x * x;
    let term = 1;
    let sum = 1;
    for (let k = 1; k < 200; k++) {
      term *= (2 * x2) / (2 * k + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const erf = ((2 * x) / SQRT_PI) * Math.exp(-x2) * sum;
    return Math.log1p(-erf);
  }
  // Lentz for K = 1/(x + a1/(x + a2/(x + …))), a_k = k/2.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - Math.log(SQRT_PI) - Math.log(f);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|) = erfc(|z|/√2). */
export function normalTwoSidedP(z: number): number {
  return Math.exp(logErfc(Math.abs(z) / Math.SQRT2));
}

/** −log10 of the two-sided p-value (finite even when p underflows). */
export function normalTwoSidedNegLog10P(z: number): number {
  return -logErfc(Math.abs(z) / Math.SQRT2) / LN10;
}

/** Benjamini–Hochberg adjusted p-values (NaN stays NaN and does not count in m). */
export function bhAdjust(p: ArrayLike<number>): Float64Array {
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i]!)) idx.push(i);
  idx.sort((a, b) => p[b]! - p[a]!);
  const m = idx.length;
  const out = new Float64Array(p.length).fill(NaN);
  let running = 1;
  idx.forEach((i, r) => {
    const rank = m - r;
    running = Math.min(running, (p[i]! * m) / rank);
    out[i] = running;
  });
  return out;
}
