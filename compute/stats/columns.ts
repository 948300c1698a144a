/**
 * Per-feature (column) statistics over the whole column-major matrix, NaN-aware: a missing value
 * is skipped, so each feature's statistics use its own observed count. The hot kernels read each
 * contiguous column once, sequentially (shifted sums, see below), which lets the hardware
 * prefetcher stream a 20,000-feature matrix at memory speed.
 */

import { Scratch } from '../core/scratch';
import { groupMask, groupSum4, groupSums } from './simd_sums';

export interface ColumnMoments {
  /** Observed (non-NaN) values per feature. */
  count: Int32Array;
  mean: Float64Array;
  /** Sum of squared deviations from the mean (divide by count − ddof for a variance). */
  m2: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

/**
 * Count, mean, centred sum of squares, min and max of every column, in one sequential pass per
 * column: shifted sums around the column's first observed value c (a sample of the column, so
 * Σ(x − c)² and (Σ(x − c))²/n are of the order of the variance and m2 = Σd² − (Σd)²/n keeps its
 * precision, as numpy's two-pass var does to ~1e-14 here).
 */
export function columnMoments(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
): ColumnMoments {
  const count = new Int32Array(nFeatures);
  const mean = new Float64Array(nFeatures);
  const m2 = new Float64Array(nFeatures);
  const min = new Float64Array(nFeatures);
  const max = new Float64Array(nFeatures);
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    const end = off + nSamples;
    let i0 = off;
    while (i0 < end && data[i0] !== data[i0]) i0++;
    if (i0 === end) {
      count[j] = 0;
      mean[j] = m2[j] = min[j] = max[j] = NaN;
      continue;
    }
    const c = data[i0]!;
    let s = 0;
    let q = 0;
    let k = 0;
    let lo = c;
    let hi = c;
    for (let i = i0; i < end; i++) {
      const v = data[i]!;
      if (v === v) {
        const d = v - c;
        s += d;
        q += d * d;
        k++;
        if (v < lo) lo = v;
        else if (v > hi) hi = v;
      }
    }
    count[j] = k;
    mean[j] = c + s / k;
    m2[j] = Math.max(0, q - (s * s) / k);
    min[j] = lo;
    max[j] = hi;
  }
  return { count, mean, m2, min, max };
}

/**
 * Count, mean and centred sum of squares per column (columnMoments without min / max), for hot
 * callers: complete columns take four independent accumulator chains for Σd and Σd² around the
 * first value c (one chain is bound by the floating-point add latency; min / max tracking alone
 * cost more than the sums), so the sums round differently from columnMoments' single chain, at
 * the 1e-16 relative level. A column with a NaN (its Σd comes out NaN) is redone NaN-skipping.
 */
export function columnCentredMoments(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
): Pick<ColumnMoments, 'count' | 'mean' | 'm2'> {
  const count = new Int32Array(nFeatures);
  const mean = new Float64Array(nFeatures);
  const m2 = new Float64Array(nFeatures);
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    const end = off + nSamples;
    const c = data[off]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    let i = off;
    for (; i + 3 < end; i += 4) {
      const d0 = data[i]! - c;
      const d1 = data[i + 1]! - c;
      const d2 = data[i + 2]! - c;
      const d3 = data[i + 3]! - c;
      s0 += d0;
      s1 += d1;
      s2 += d2;
      s3 += d3;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    for (; i < end; i++) {
      const d = data[i]! - c;
      s0 += d;
      q0 += d * d;
    }
    const s = s0 + s1 + s2 + s3;
    const q = q0 + q1 + q2 + q3;
    if (s === s && q === q && nSamples > 0) {
      count[j] = nSamples;
      mean[j] = c + s / nSamples;
      m2[j] = Math.max(0, q - (s * s) / nSamples);
      continue;
    }
    const one = columnMoments(data.subarray(off, end), nSamples, 1);
    count[j] = one.count[0]!;
    mean[j] = one.mean[0]!;
    m2[j] = one.m2[0]!;
  }
  return { count, mean, m2 };
}

/** max − min of data[off, end) over the observed values (NaN when none). */
export function columnRange(data: Float64Array, off: number, end: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  let seen = false;
  for (let i = off; i < end; i++) {
    const v = data[i]!;
    if (v === v) {
      seen = true;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return seen ? hi - lo : NaN;
}

/** Variance per column with the given ddof (0 = population, as numpy / sklearn VarianceThreshold). */
export function columnVariance(m: ColumnMoments, ddof = 0): Float64Array {
  const out = new Float64Array(m.count.length);
  for (let j = 0; j < out.length; j++) {
    const dof = m.count[j]! - ddof;
    out[j] = dof > 0 ? m.m2[j]! / dof : NaN;
  }
  return out;
}

export interface GroupMoments {
  nGroups: number;
  /** Row-major p × nGroups: count[j * nGroups + g]. */
  count: Int32Array;
  mean: Float64Array;
  m2: Float64Array;
}

/** Sample indices grouped by label: group g owns idx[start[g], start[g + 1]). Negative labels are left out. */
export function groupIndex(
  labels: Int32Array,
  nGroups: number,
): { idx: Int32Array; start: Int32Array } {
  const start = new Int32Array(nGroups + 1);
  for (let i = 0; i < labels.length; i++) if (labels[i]! >= 0) start[labels[i]! + 1]++;
  for (let g = 0; g < nGroups; g++) start[g + 1] += start[g]!;
  const fill = start.slice(0, nGroups);
  const idx = new Int32Array(start[nGroups]!);
  for (let i = 0; i < labels.length; i++) if (labels[i]! >= 0) idx[fill[labels[i]!]++] = i;
  return { idx, start };
}

/**
 * Count, mean and centred sum of squares per (feature, group). `labels[i]` in [0, nGroups);
 * a negative label excludes the sample.
 *
 * Each group is reduced over its own index list into local scalars: accumulating into
 * `sum[label[i]]` instead chains every add through memory (store-to-load forwarding) and ran
 * about three times slower.
 */
export function groupMoments(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  nGroups: number,
): GroupMoments {
  const count = new Int32Array(nFeatures * nGroups);
  const mean = new Float64Array(nFeatures * nGroups);
  const m2 = new Float64Array(nFeatures * nGroups);
  const { idx, start } = groupIndex(labels, nGroups);
  // Fused single pass for 2–4 groups covering every sample, each group non-empty.
  let fused = nGroups >= 2 && nGroups <= MAX_FUSED_GROUPS && idx.length === nSamples;
  for (let g = 0; g < nGroups && fused; g++) if (start[g + 1]! === start[g]!) fused = false;
  const fusion = fused ? makeFusion(labels, nGroups, start) : null;
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    const base = j * nGroups;
    if (fusion && fusedGroupColumn(data, off, nSamples, fusion, count, mean, m2, base)) {
      continue;
    }
    // One sequential sweep first: the hardware prefetcher streams the column into cache (the
    // gathers below then hit L1), and a NaN total tells whether the column has missing values.
    let total = 0;
    for (let i = off; i < off + nSamples; i++) total += data[i]!;
    const complete = total === total;
    for (let g = 0; g < nGroups; g++) {
      const q0 = start[g]!;
      const q1 = start[g + 1]!;
      let s = 0;
      let c = 0;
      let ss = 0;
      if (complete) {
        for (let q = q0; q < q1; q++) s += data[off + idx[q]!]!;
        c = q1 - q0;
        const mu = s / c;
        for (let q = q0; q < q1; q++) {
          const d = data[off + idx[q]!]! - mu;
          ss += d * d;
        }
      } else {
        for (let q = q0; q < q1; q++) {
          const v = data[off + idx[q]!]!;
          if (v === v) {
            s += v;
            c++;
          }
        }
        const mu = s / c;
        for (let q = q0; q < q1; q++) {
          const v = data[off + idx[q]!]!;
          if (v === v) {
            const d = v - mu;
            ss += d * d;
          }
        }
      }
      count[base + g] = c;
      mean[base + g] = c > 0 ? s / c : NaN;
      m2[base + g] = c > 0 ? ss : NaN;
    }
  }
  return { nGroups, count, mean, m2 };
}

const MAX_FUSED_GROUPS = 4;

interface Fusion {
  nGroups: number;
  /** w[g − 1][i] = 1 when sample i is in group g (g = 1 … 3; unused groups stay all zero). */
  w1: Float64Array;
  w2: Float64Array;
  w3: Float64Array;
  size: Int32Array;
  sums: Float64Array;
  squares: Float64Array;
}

function makeFusion(labels: Int32Array, nGroups: number, start: Int32Array): Fusion {
  const n = labels.length;
  const w = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) if (labels[i]! > 0) w[labels[i]! - 1]![i] = 1;
  const size = new Int32Array(nGroups);
  for (let g = 0; g < nGroups; g++) size[g] = start[g + 1]! - start[g]!;
  return {
    nGroups,
    w1: w[0]!,
    w2: w[1]!,
    w3: w[2]!,
    size,
    sums: new Float64Array(4),
    squares: new Float64Array(4),
  };
}

/**
 * Up to four groups in ONE sequential pass over a column (the hardware prefetcher streams it and
 * nothing is gathered or accumulated through memory): shifted sums around the column's first
 * value c, d = x − c, accumulating Σd, Σd² and, for groups g ≥ 1, Σw_g·d, Σw_g·d² with 0/1
 * weights; group 0's sums are the differences. m2_g = Σ_g d² − (Σ_g d)²/n_g cancels when a group
 * sits far from c relative to its spread, losing about log10(Σ_g d² / m2_g) digits: beyond 1e4
 * (four digits, leaving ~1e-12) the column is recomputed by the two-pass path instead, so the
 * fast path never costs accuracy (tested on far-apart groups). Returns false (nothing written)
 * for such columns and for columns with missing values.
 */
function fusedGroupColumn(
  data: Float64Array,
  off: number,
  n: number,
  f: Fusion,
  count: Int32Array,
  mean: Float64Array,
  m2: Float64Array,
  base: number,
): boolean {
  const k = f.nGroups;
  const c = data[off]!;
  const w1 = f.w1;
  const w2 = f.w2;
  const w3 = f.w3;
  let s = 0;
  let q = 0;
  let s1 = 0;
  let q1 = 0;
  let s2 = 0;
  let q2 = 0;
  let s3 = 0;
  let q3 = 0;
  if (k === 2) {
    for (let i = 0; i < n; i++) {
      const d = data[off + i]! - c;
      const x = w1[i]! * d;
      s += d;
      q += d * d;
      s1 += x;
      q1 += x * d;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const d = data[off + i]! - c;
      const x = w1[i]! * d;
      const y = w2[i]! * d;
      const z = w3[i]! * d;
      s += d;
      q += d * d;
      s1 += x;
      q1 += x * d;
      s2 += y;
      q2 += y * d;
      s3 += z;
      q3 += z * d;
    }
  }
  if (!(s === s && q === q)) return false;
  const sums = f.sums;
  const squares = f.squares;
  sums[0] = s - s1 - s2 - s3;
  sums[1] = s1;
  sums[2] = s2;
  sums[3] = s3;
  squares[0] = q - q1 - q2 - q3;
  squares[1] = q1;
  squares[2] = q2;
  squares[3] = q3;
  for (let g = 0; g < k; g++) {
    const ng = f.size[g]!;
    const sg = sums[g]!;
    const ss = squares[g]! - (sg * sg) / ng;
    if (!(ss * 1e4 > squares[g]!)) return false; // cancellation (or a constant group): two-pass
    count[base + g] = ng;
    mean[base + g] = c + sg / ng;
    m2[base + g] = ss;
  }
  return true;
}

/** Count and mean per (feature, group) only: one pass, for callers that need no variance. */
export function groupMeans(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  nGroups: number,
): { count: Int32Array; mean: Float64Array } {
  if (nGroups === 2) {
    const two = twoGroupMeans(data, nSamples, nFeatures, labels);
    if (two) return two;
  }
  if (nGroups <= MAX_FUSED_GROUPS) return groupMoments(data, nSamples, nFeatures, labels, nGroups);
  const count = new Int32Array(nFeatures * nGroups);
  const mean = new Float64Array(nFeatures * nGroups);
  const { idx, start } = groupIndex(labels, nGroups);
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    let total = 0;
    for (let i = off; i < off + nSamples; i++) total += data[i]!; // streams the column in
    const complete = total === total;
    for (let g = 0; g < nGroups; g++) {
      let s = 0;
      let c = 0;
      if (complete) {
        for (let q = start[g]!; q < start[g + 1]!; q++) s += data[off + idx[q]!]!;
        c = start[g + 1]! - start[g]!;
      } else {
        for (let q = start[g]!; q < start[g + 1]!; q++) {
          const v = data[off + idx[q]!]!;
          if (v === v) {
            s += v;
            c++;
          }
        }
      }
      count[j * nGroups + g] = c;
      mean[j * nGroups + g] = c > 0 ? s / c : NaN;
    }
  }
  return { count, mean };
}

/**
 * 0/1 weights for labels that split every sample into two non-empty groups (labels 0 and 1), with
 * the size of group 1; null for any other labelling.
 */
export function zeroOneSplit(labels: Int32Array): { w: Float64Array; n1: number } | null {
  const n = labels.length;
  const w = new Float64Array(n);
  let n1 = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (l !== 0 && l !== 1) return null;
    w[i] = l;
    n1 += l;
  }
  return n1 === 0 || n1 === n ? null : { w, n1 };
}

function twoGroupMeans(
  data: Float64Array,
  n: number,
  p: number,
  labels: Int32Array,
): { count: Int32Array; mean: Float64Array } | null {
  const split = zeroOneSplit(labels);
  if (!split) return null;
  const count = new Int32Array(2 * p);
  const mean = new Float64Array(2 * p);
  twoGroupMeansInto(data, n, p, split.w, split.n1, mean, count);
  return { count, mean };
}

const groupSumsScratch = Scratch.f64();

/**
 * Means of two groups covering every sample (w from zeroOneSplit): mean[2j] of group 0,
 * mean[2j + 1] of group 1, and the counts when `count` is given. Plain per-group sums, no shift:
 * a mean's rounding error is ~n·ε relative to its values' mean magnitude, well inside 1e-12 for
 * n ≤ 10⁴. The sums come from the wasm group-sums kernel (simd_sums.ts groupSums; ~0.8× the
 * shifted two-weight kernel at 200 × 2,000) or, without wasm SIMD, from groupSum4 in the same
 * order: the same bits either way. A column whose sums are NaN (missing values) is redone
 * NaN-aware, in sample order.
 */
export function twoGroupMeansInto(
  data: Float64Array,
  n: number,
  p: number,
  w: Float64Array,
  n1: number,
  mean: Float64Array,
  count: Int32Array | null,
): void {
  const n0 = n - n1;
  const sums = groupSumsScratch.take(3 * p);
  const simd = groupSums(data, n, 0, p, groupMask(w), sums);
  for (let j = 0; j < p; j++) {
    let s0: number;
    let s1: number;
    if (simd) {
      s0 = sums[3 * j]!;
      s1 = sums[3 * j + 1]!;
    } else [s0, s1] = groupSum4(data, j * n, n, w);
    let c0 = n0;
    let c1 = n1;
    if (s0 !== s0 || s1 !== s1) {
      s0 = s1 = 0;
      c0 = c1 = 0;
      for (let i = 0, off = j * n; i < n; i++) {
        const v = data[off + i]!;
        if (v !== v) continue;
        if (w[i] === 1) {
          s1 += v;
          c1++;
        } else {
          s0 += v;
          c0++;
        }
      }
    }
    if (count) {
      count[2 * j] = c0;
      count[2 * j + 1] = c1;
    }
    mean[2 * j] = c0 > 0 ? s0 / c0 : NaN;
    mean[2 * j + 1] = c1 > 0 ? s1 / c1 : NaN;
  }
}

/** True when the matrix has at least one NaN (lets callers take a no-missing fast path). */
export function hasMissing(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return true;
  return false;
}
