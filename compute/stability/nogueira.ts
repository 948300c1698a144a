/**
 * Stability of a feature-selection procedure from M selected sets over d features (a binary
 * M × d matrix Z), Nogueira, Sechidis & Brown (2018) JMLR 18(174):
 *   Φ̂ = 1 − [ (1/d) Σ_f M/(M−1) p̂_f (1 − p̂_f) ] / [ (k̄/d)(1 − k̄/d) ],
 * with p̂_f the selection frequency of feature f and k̄ the mean set size; Φ̂ is 1 for identical
 * sets and ≈ 0 for random sets of the same sizes. Its asymptotic variance (their Theorem 9) is
 * (4/M²) Σ_i (Φ̂_i − mean Φ̂)² over per-set terms
 *   Φ̂_i = [ 1 − k_i/d − k̄/d + (2/d) Σ_f Z_if p̂_f − (1 − Φ̂)(π k_i/d + (1 − π)(1 − k_i/d)) ]
 *          / (2 π (1 − π)),   π = k̄/d,
 * giving a normal-approximation confidence interval.
 */
import { normalQuantile } from '../metrics/ranking';

export interface StabilityIndex {
  stability: number;
  variance: number;
  lower: number;
  upper: number;
  level: number;
}

/** `sets[i]` = selected feature indices of run i; d = number of features. */
export function nogueiraStability(
  sets: readonly ArrayLike<number>[],
  d: number,
  level = 0.95,
): StabilityIndex {
  const M = sets.length;
  const freq = new Float64Array(d);
  const k = sets.map(s => s.length);
  for (const s of sets) for (let j = 0; j < s.length; j++) freq[s[j]!]! += 1 / M;
  const kbar = k.reduce((a, b) => a + b, 0) / M;
  const pi = kbar / d;
  const denom = 2 * pi * (1 - pi);
  if (M < 2 || !(denom > 0)) {
    // every run selected nothing or everything: identical sets, stability is trivially 1
    return { stability: M < 2 ? NaN : 1, variance: 0, lower: NaN, upper: NaN, level };
  }
  let spread = 0;
  for (let f = 0; f < d; f++) spread += freq[f]! * (1 - freq[f]!);
  const pa = 1 - (2 / d) * (M / (M - 1)) * spread;
  const pe = 1 - denom;
  const phi = (pa - pe) / denom;
  const phis = sets.map((s, i) => {
    let overlap = 0;
    for (let j = 0; j < s.length; j++) overlap += freq[s[j]!]!;
    const pai = 1 - k[i]! / d - pi + (2 / d) * overlap;
    const pei = (1 - phi) * (pi * (k[i]! / d) + (1 - pi) * (1 - k[i]! / d));
    return (pai - pei) / denom;
  });
  const mean = phis.reduce((a, b) => a + b, 0) / M;
  const variance = (4 / (M * M)) * phis.reduce((a, b) => a + (b - mean) ** 2, 0);
  const z = normalQuantile(1 - (1 - level) / 2);
  const half = z * Math.sqrt(variance);
  return { stability: phi, variance, lower: phi - half, upper: phi + half, level };
}

/**
 * Meinshausen & Bühlmann (2010) JRSS-B 72:417, Theorem 1: with subsamples of size ⌊n/2⌋ and
 * threshold π_thr ∈ (½, 1], the expected number of falsely selected variables is bounded by
 * E[V] ≤ q² / ((2π_thr − 1) p), q = average number of variables selected per subsample.
 * (NaN for π_thr ≤ ½ where the bound does not hold.)
 */
export function pferBound(q: number, p: number, threshold: number): number {
  if (!(threshold > 0.5)) return NaN;
  return (q * q) / ((2 * threshold - 1) * p);
}
