/**
 * Ranks with ties (scipy `rankdata(method='average')`) on the quicksort kernels of sort.ts, plus
 * binary searches in sorted arrays.
 */
import { sortPairs } from './sort';

/** First index in sorted[0, n) whose value is ≥ v. */
export function lowerBound(sorted: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in sorted[0, n) whose value is > v. */
export function upperBound(sorted: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Average (1-based) rank of v among sorted[0, n) — v must occur in it. */
export function averageRank(sorted: Float64Array, n: number, v: number): number {
  const lo = lowerBound(sorted, n, v);
  const hi = upperBound(sorted, n, v);
  return (lo + 1 + hi) / 2;
}

/** Σ (t³ − t) over the tie blocks of a sorted array (the tie-correction term). */
export function tieTerm(sorted: Float64Array, n: number): number {
  let total = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    const t = j - i;
    if (t > 1) total += t * t * t - t;
    i = j;
  }
  return total;
}

/**
 * Average (1-based) ranks of `values` (NaN must already be removed) into `out`; returns the tie
 * term Σ(t³ − t). Co-sorts values with their positions, then walks the tie blocks once.
 * `scratch` / `order` (length ≥ n) avoid allocations per feature.
 */
export function rankAverage(
  values: ArrayLike<number>,
  out: Float64Array,
  scratch: Float64Array = new Float64Array(values.length),
  order: Int32Array = new Int32Array(values.length),
): number {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    scratch[i] = values[i]!;
    order[i] = i;
  }
  sortPairs(scratch, order, 0, n);
  let tie = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && scratch[j] === scratch[i]) j++;
    const avg = (i + 1 + j) / 2;
    for (let q = i; q < j; q++) out[order[q]!] = avg;
    const t = j - i;
    if (t > 1) tie += t * t * t - t;
    i = j;
  }
  return tie;
}

/** Convenience: a new array of average ranks (1-based). */
export function rankdata(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  rankAverage(values, out);
  return out;
}
