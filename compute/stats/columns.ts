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
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    const base = j * nGroups;
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

/** Count and mean per (feature, group) only: one pass, for callers that need no variance. */
export function groupMeans(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  nGroups: number,
): { count: Int32Array; mean: Float64Array } {
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

/** True when the matrix has at least one NaN (lets callers take a no-missing fast path). */
export function hasMissing(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return true;
  return false;
}
