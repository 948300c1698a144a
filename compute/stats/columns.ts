/**
 * Per-feature (column) statistics over the whole column-major matrix, NaN-aware: a missing value
 * is skipped, so each feature's statistics use its own observed count. One contiguous column is
 * read twice (sum, then centred squares): the two-pass form is as accurate as numpy's `var` and
 * still runs at memory speed because a 500-value column stays in L1.
 */

export interface ColumnMoments {
  /** Observed (non-NaN) values per feature. */
  count: Int32Array;
  mean: Float64Array;
  /** Sum of squared deviations from the mean (divide by count − ddof for a variance). */
  m2: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

/** Count, mean, centred sum of squares, min and max of every column. */
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
    let s = 0;
    let c = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = off; i < off + nSamples; i++) {
      const v = data[i]!;
      if (v === v) {
        s += v;
        c++;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const mu = c > 0 ? s / c : NaN;
    let ss = 0;
    if (c > 0) {
      for (let i = off; i < off + nSamples; i++) {
        const v = data[i]!;
        if (v === v) {
          const d = v - mu;
          ss += d * d;
        }
      }
    }
    count[j] = c;
    mean[j] = mu;
    m2[j] = c > 0 ? ss : NaN;
    min[j] = c > 0 ? lo : NaN;
    max[j] = c > 0 ? hi : NaN;
  }
  return { count, mean, m2, min, max };
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

/**
 * Count, mean and centred sum of squares per (feature, group). `labels[i]` in [0, nGroups);
 * a negative label excludes the sample.
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
  const sum = new Float64Array(nGroups);
  const cnt = new Int32Array(nGroups);
  const ss = new Float64Array(nGroups);
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    sum.fill(0);
    cnt.fill(0);
    ss.fill(0);
    for (let i = 0; i < nSamples; i++) {
      const v = data[off + i]!;
      const g = labels[i]!;
      if (v === v && g >= 0) {
        sum[g] += v;
        cnt[g]++;
      }
    }
    for (let g = 0; g < nGroups; g++) sum[g] = cnt[g]! > 0 ? sum[g]! / cnt[g]! : NaN;
    for (let i = 0; i < nSamples; i++) {
      const v = data[off + i]!;
      const g = labels[i]!;
      if (v === v && g >= 0) {
        const d = v - sum[g]!;
        ss[g] += d * d;
      }
    }
    const base = j * nGroups;
    for (let g = 0; g < nGroups; g++) {
      count[base + g] = cnt[g]!;
      mean[base + g] = sum[g]!;
      m2[base + g] = cnt[g]! > 0 ? ss[g]! : NaN;
    }
  }
  return { nGroups, count, mean, m2 };
}

/** True when the matrix has at least one NaN (lets callers take a no-missing fast path). */
export function hasMissing(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return true;
  return false;
}
