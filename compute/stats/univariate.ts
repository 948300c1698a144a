/**
 * Univariate tests of every feature against an outcome, over the column-major matrix.
 * Each returns per-feature statistic, p-value and ln p-value (ln p never underflows, so −log10 p
 * ranks even p < 1e-308 correctly). Missing values (NaN) are skipped per feature, as scipy's
 * `nan_policy='omit'` does, so a feature's degrees of freedom use its own observed count.
 *
 * Definitions match (scipy 1.10 / scikit-learn 1.2):
 *   welchT / studentT  scipy.stats.ttest_ind(pos, neg, equal_var=False / True), two-sided
 *   fOneway            sklearn f_classif = scipy f_oneway per column
 *   pearson            scipy pearsonr (two-sided); sklearn f_regression has the same p-value
 *   spearman           scipy spearmanr (t approximation with n − 2 df)
 *   mannWhitney        scipy mannwhitneyu(pos, neg, alternative='two-sided', method='asymptotic',
 *                      use_continuity=True): U of the positive group, tie-corrected normal
 *                      approximation, z = (max(U1, U2) − n1n2/2 − ½)/σ, p = min(1, 2·sf(z))
 *   kruskal            scipy kruskal: H with tie correction, χ²(k − 1) upper tail
 */
import { groupMoments } from './columns';
import { shiftedSums } from './simd_sums';
import { chi2LogSf, fLogSf, normalLogSf, tLogSf2 } from './distributions';
import { logBetaInc } from './special';
import { rankAverage } from './ranks';
import { sortRange } from './sort';

export interface FeatureTests {
  statistic: Float64Array;
  pValue: Float64Array;
  /** Natural log of the p-value. */
  logP: Float64Array;
  /** Degrees of freedom per feature (t: ν; F: denominator d2; χ²: k − 1); NaN when not used. */
  df: Float64Array;
}

function alloc(p: number): FeatureTests {
  return {
    statistic: new Float64Array(p),
    pValue: new Float64Array(p),
    logP: new Float64Array(p),
    df: new Float64Array(p),
  };
}

function setP(out: FeatureTests, j: number, logP: number): void {
  out.logP[j] = logP;
  out.pValue[j] = Math.exp(logP);
}

/**
 * Two-sample t-test per feature between label 1 (positive, "a") and label 0 (negative, "b").
 * Welch (equalVar=false) or Student's pooled-variance test. The statistic's sign is
 * mean(positive) − mean(negative).
 */
export function tTest(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  equalVar: boolean,
): FeatureTests {
  const gm = groupMoments(data, nSamples, nFeatures, labels, 2);
  const out = alloc(nFeatures);
  for (let j = 0; j < nFeatures; j++) {
    const na = gm.count[2 * j + 1]!;
    const nb = gm.count[2 * j]!;
    const diff = gm.mean[2 * j + 1]! - gm.mean[2 * j]!;
    const ssa = gm.m2[2 * j + 1]!;
    const ssb = gm.m2[2 * j]!;
    let t: number;
    let df: number;
    if (na < 2 || nb < 2) {
      t = NaN;
      df = NaN;
    } else if (equalVar) {
      df = na + nb - 2;
      const sp2 = (ssa + ssb) / df;
      t = diff / Math.sqrt(sp2 * (1 / na + 1 / nb));
    } else {
      const va = ssa / (na - 1) / na;
      const vb = ssb / (nb - 1) / nb;
      const se2 = va + vb;
      t = diff / Math.sqrt(se2);
      // Welch–Satterthwaite ν = se2² / (va²/(na−1) + vb²/(nb−1)) written with the shares va/se2
      // and vb/se2: the squares of variances overflow for values ~1e150 and underflow for
      // ~1e-150 (Inf/Inf or 0/0 = NaN), while the shares are scale-free.
      const fa = va / se2;
      const fb = vb / se2;
      df = 1 / ((fa * fa) / (na - 1) + (fb * fb) / (nb - 1));
      // Both groups constant: scipy gives t = ±inf, p = 0 (or NaN when the means are equal).
      if (se2 === 0) df = na + nb - 2;
    }
    out.statistic[j] = t;
    out.df[j] = df;
    setP(out, j, tLogSf2(t, df));
  }
  return out;
}

/**
 * One-way ANOVA F per feature over class labels 0..nGroups−1 (sklearn f_classif). Groups with no
 * observed value for a feature are left out of that feature's test.
 */
export function fOneway(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  nGroups: number,
): FeatureTests {
  const gm = groupMoments(data, nSamples, nFeatures, labels, nGroups);
  const out = alloc(nFeatures);
  for (let j = 0; j < nFeatures; j++) {
    const base = j * nGroups;
    let total = 0;
    let sum = 0;
    let k = 0;
    for (let g = 0; g < nGroups; g++) {
      const c = gm.count[base + g]!;
      if (c > 0) {
        total += c;
        sum += c * gm.mean[base + g]!;
        k++;
      }
    }
    const grand = sum / total;
    let ssb = 0;
    let ssw = 0;
    for (let g = 0; g < nGroups; g++) {
      const c = gm.count[base + g]!;
      if (c > 0) {
        const d = gm.mean[base + g]! - grand;
        ssb += c * d * d;
        ssw += gm.m2[base + g]!;
      }
    }
    const d1 = k - 1;
    const d2 = total - k;
    const f = d1 > 0 && d2 > 0 ? ssb / d1 / (ssw / d2) : NaN;
    out.statistic[j] = f;
    out.df[j] = d2;
    setP(out, j, fLogSf(f, d1, d2));
  }
  return out;
}

/** Pearson r of one column against y over rows where both are observed. */
function pearsonColumn(
  data: Float64Array,
  off: number,
  nSamples: number,
  y: Float64Array,
): { r: number; n: number } {
  let sx = 0;
  let sy = 0;
  let c = 0;
  for (let i = 0; i < nSamples; i++) {
    const v = data[off + i]!;
    const w = y[i]!;
    if (v === v && w === w) {
      sx += v;
      sy += w;
      c++;
    }
  }
  const mx = sx / c;
  const my = sy / c;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < nSamples; i++) {
    const v = data[off + i]!;
    const w = y[i]!;
    if (v === v && w === w) {
      const dx = v - mx;
      const dy = w - my;
      sxx += dx * dx;
      syy += dy * dy;
      sxy += dx * dy;
    }
  }
  const r = sxy / Math.sqrt(sxx * syy);
  return { r: Math.max(-1, Math.min(1, r)), n: c };
}

/** Two-sided p-value of a correlation coefficient r from n pairs (t with n − 2 df). */
export function correlationLogP(r: number, n: number): number {
  const df = n - 2;
  if (!(df > 0) || Number.isNaN(r)) return NaN;
  const ar = Math.abs(r);
  if (ar === 1) return -Infinity;
  // t² = r²·ν/(1 − r²), so ν/(ν + t²) = 1 − r² = (1 − |r|)(1 + |r|), computed without cancellation.
  return logBetaInc(0.5 * df, 0.5, (1 - ar) * (1 + ar), ar * ar);
}

/** y centred over all rows and its sum of squares, or null when y has a missing value. */
function centredOutcome(y: Float64Array): { yc: Float64Array; syy: number; sum: number } | null {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== y[i]) return null;
    s += y[i]!;
  }
  const my = s / n;
  const yc = new Float64Array(n);
  let syy = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = y[i]! - my;
    yc[i] = d;
    syy += d * d;
    sum += d;
  }
  return { yc, syy, sum };
}

/**
 * r of every column of `data` with y: complete columns take a fast path against the pre-centred
 * y (two passes over a column already in L1), columns with missing values the pairwise path.
 */
function correlateColumns(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  y: Float64Array,
  out: FeatureTests,
): void {
  const cy = centredOutcome(y);
  let j = 0;
  if (cy) {
    // One sequential pass per column with shifted sums around the column's first value c:
    // Σ(x − mx)² = Σd² − (Σd)²/n and Σ(x − mx)·yc = Σd·yc − (Σd/n)·Σyc (Σyc ≈ 0 up to rounding).
    // Two columns per sweep: each yc[i] load serves both, and six independent add chains
    // instead of three (~20 % faster); every column's own sums are formed in the same order as
    // one column alone, so the results are bit-identical.
    const yc = cy.yc;
    // wasm SIMD where available (simd_sums.ts: the same three shifted sums, two f64 lanes).
    const sums = new Float64Array(3 * nFeatures);
    if (shiftedSums(data, nSamples, 0, nFeatures, new Float64Array(nSamples).fill(1), yc, sums)) {
      for (j = 0; j < nFeatures; j++) {
        const sd = sums[3 * j]!;
        finishColumn(data, nSamples, y, cy, out, j, sd, sums[3 * j + 2]!, sums[3 * j + 1]!);
      }
      return;
    }
    for (; j + 1 < nFeatures; j += 2) {
      const o0 = j * nSamples;
      const o1 = o0 + nSamples;
      const c0 = data[o0]!;
      const c1 = data[o1]!;
      let sd0 = 0;
      let sdd0 = 0;
      let sdy0 = 0;
      let sd1 = 0;
      let sdd1 = 0;
      let sdy1 = 0;
      for (let i = 0; i < nSamples; i++) {
        const w = yc[i]!;
        const d0 = data[o0 + i]! - c0;
        const d1 = data[o1 + i]! - c1;
        sd0 += d0;
        sdd0 += d0 * d0;
        sdy0 += d0 * w;
        sd1 += d1;
        sdd1 += d1 * d1;
        sdy1 += d1 * w;
      }
      finishColumn(data, nSamples, y, cy, out, j, sd0, sdd0, sdy0);
      finishColumn(data, nSamples, y, cy, out, j + 1, sd1, sdd1, sdy1);
    }
    for (; j < nFeatures; j++) {
      const off = j * nSamples;
      const c = data[off]!;
      let sd = 0;
      let sdd = 0;
      let sdy = 0;
      for (let i = 0; i < nSamples; i++) {
        const d = data[off + i]! - c;
        sd += d;
        sdd += d * d;
        sdy += d * yc[i]!;
      }
      finishColumn(data, nSamples, y, cy, out, j, sd, sdd, sdy);
    }
    return;
  }
  for (; j < nFeatures; j++) finishColumn(data, nSamples, y, null, out, j, NaN, NaN, NaN);
}

/**
 * r, df and p of column j from its shifted sums; a column whose sums are NaN (missing values,
 * or y has missing values: cy null) takes the pairwise-complete path.
 */
function finishColumn(
  data: Float64Array,
  nSamples: number,
  y: Float64Array,
  cy: { syy: number; sum: number } | null,
  out: FeatureTests,
  j: number,
  sd: number,
  sdd: number,
  sdy: number,
): void {
  let r: number;
  let n = nSamples;
  if (cy && sd === sd && sdd === sdd) {
    const sxx = Math.max(0, sdd - (sd * sd) / nSamples);
    const sxy = sdy - (sd / nSamples) * cy.sum;
    r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * cy.syy)));
  } else {
    const pc = pearsonColumn(data, j * nSamples, nSamples, y);
    r = pc.r;
    n = pc.n;
  }
  out.statistic[j] = r;
  out.df[j] = n - 2;
  setP(out, j, correlationLogP(r, n));
}

/** Pearson correlation of every feature with a continuous outcome (pairwise-complete rows). */
export function pearson(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  y: Float64Array,
): FeatureTests {
  const out = alloc(nFeatures);
  correlateColumns(data, nSamples, nFeatures, y, out);
  return out;
}

/**
 * Spearman ρ of every feature with a continuous outcome: Pearson on average ranks, the ranks of
 * both variables taken over the rows where both are observed (scipy spearmanr, nan_policy='omit').
 */
export function spearman(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  y: Float64Array,
): FeatureTests {
  const out = alloc(nFeatures);
  const scratch = new Float64Array(nSamples);
  const order = new Int32Array(nSamples);
  const xv = new Float64Array(nSamples);
  const yv = new Float64Array(nSamples);
  const rx = new Float64Array(nSamples);
  const ry = new Float64Array(nSamples);
  let yComplete = true;
  for (let i = 0; i < nSamples; i++) if (y[i] !== y[i]) yComplete = false;
  // Complete columns: rank y once and correlate the column ranks with it (fast path).
  const ryAll = new Float64Array(nSamples);
  if (yComplete) rankAverage(y, ryAll, scratch, order);
  const cy = yComplete ? centredOutcome(ryAll) : null;
  const one = alloc(1);
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    let complete = yComplete;
    for (let i = 0; i < nSamples && complete; i++)
      if (data[off + i] !== data[off + i]) complete = false;
    let r: number;
    let n: number;
    if (complete && cy) {
      rankAverage(data.subarray(off, off + nSamples), rx, scratch, order);
      // ranks 1..n have mean (n + 1)/2 exactly
      const mx = (nSamples + 1) / 2;
      let sxx = 0;
      let sxy = 0;
      for (let i = 0; i < nSamples; i++) {
        const d = rx[i]! - mx;
        sxx += d * d;
        sxy += d * cy.yc[i]!;
      }
      r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * cy.syy)));
      n = nSamples;
    } else {
      // Missing values: rank both variables again on the rows both observe.
      let c = 0;
      for (let i = 0; i < nSamples; i++) {
        const v = data[off + i]!;
        if (v === v && y[i] === y[i]) {
          xv[c] = v;
          yv[c] = y[i]!;
          c++;
        }
      }
      rankAverage(xv.subarray(0, c), rx, scratch, order);
      rankAverage(yv.subarray(0, c), ry, scratch, order);
      correlateColumns(rx.subarray(0, c), c, 1, ry.subarray(0, c), one);
      r = one.statistic[0]!;
      n = c;
    }
    out.statistic[j] = r;
    out.df[j] = n - 2;
    setP(out, j, correlationLogP(r, n));
  }
  return out;
}

/**
 * Per feature: rank sums per group of the observed values, by sorting each group's values
 * natively and merging the sorted groups tie block by tie block (O(n log n) + O(n·k), no index
 * sort). Calls `visit(j, counts, rankSums, tieSum, total)` for each feature.
 */
function groupRankSums(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  nGroups: number,
  visit: (
    j: number,
    counts: Int32Array,
    rankSums: Float64Array,
    tie: number,
    total: number,
  ) => void,
): void {
  const buf = new Float64Array(nSamples);
  const counts = new Int32Array(nGroups);
  const start = new Int32Array(nGroups + 1);
  const fill = new Int32Array(nGroups);
  const ptr = new Int32Array(nGroups);
  const rankSums = new Float64Array(nGroups);
  const block = new Int32Array(nGroups);
  const segs: Float64Array[] = new Array<Float64Array>(nGroups);
  for (let j = 0; j < nFeatures; j++) {
    const off = j * nSamples;
    counts.fill(0);
    for (let i = 0; i < nSamples; i++) {
      const v = data[off + i]!;
      const g = labels[i]!;
      if (v === v && g >= 0) counts[g]++;
    }
    start[0] = 0;
    for (let g = 0; g < nGroups; g++) start[g + 1] = start[g]! + counts[g]!;
    for (let g = 0; g < nGroups; g++) fill[g] = start[g]!;
    for (let i = 0; i < nSamples; i++) {
      const v = data[off + i]!;
      const g = labels[i]!;
      if (v === v && g >= 0) buf[fill[g]++] = v;
    }
    for (let g = 0; g < nGroups; g++) {
      segs[g] = buf.subarray(start[g]!, start[g + 1]!);
      sortRange(buf, start[g]!, start[g + 1]!);
      ptr[g] = 0;
      rankSums[g] = 0;
    }
    const total = start[nGroups]!;
    let pos = 0;
    let tie = 0;
    while (pos < total) {
      let v = Infinity;
      for (let g = 0; g < nGroups; g++) {
        if (ptr[g]! < counts[g]!) {
          const w = segs[g]![ptr[g]!]!;
          if (w < v) v = w;
        }
      }
      // Consume the tie block of value v from every group, then give each member its average rank.
      let t = 0;
      for (let g = 0; g < nGroups; g++) {
        const s = segs[g]!;
        const c = counts[g]!;
        const q0 = ptr[g]!;
        let q = q0;
        while (q < c && s[q] === v) q++;
        ptr[g] = q;
        block[g] = q - q0;
        t += q - q0;
      }
      const avg = pos + (t + 1) / 2;
      for (let g = 0; g < nGroups; g++) if (block[g]! > 0) rankSums[g] += block[g]! * avg;
      pos += t;
      if (t > 1) tie += t * t * t - t;
    }
    visit(j, counts, rankSums, tie, total);
  }
}

/** Mann–Whitney U per feature, positive (label 1) versus negative (label 0); see module doc. */
export function mannWhitney(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
): FeatureTests {
  const out = alloc(nFeatures);
  groupRankSums(data, nSamples, nFeatures, labels, 2, (j, counts, rankSums, tie, total) => {
    const n1 = counts[1]!;
    const n2 = counts[0]!;
    out.df[j] = NaN;
    if (n1 === 0 || n2 === 0) {
      out.statistic[j] = NaN;
      setP(out, j, NaN);
      return;
    }
    const u1 = rankSums[1]! - (n1 * (n1 + 1)) / 2;
    const u = Math.max(u1, n1 * n2 - u1);
    const s = Math.sqrt(((n1 * n2) / 12) * (total + 1 - tie / (total * (total - 1))));
    const z = (u - (n1 * n2) / 2 - 0.5) / s;
    out.statistic[j] = u1;
    // p = min(1, 2·sf(z)); z = −∞ (all values tied) gives 1 as in scipy.
    setP(out, j, Math.min(0, Math.LN2 + normalLogSf(z)));
  });
  return out;
}

/** Kruskal–Wallis H per feature over class labels 0..nGroups−1; see module doc. */
export function kruskal(
  data: Float64Array,
  nSamples: number,
  nFeatures: number,
  labels: Int32Array,
  nGroups: number,
): FeatureTests {
  const out = alloc(nFeatures);
  groupRankSums(data, nSamples, nFeatures, labels, nGroups, (j, counts, rankSums, tie, total) => {
    let ssbn = 0;
    let k = 0;
    for (let g = 0; g < nGroups; g++) {
      const c = counts[g]!;
      if (c > 0) {
        ssbn += (rankSums[g]! * rankSums[g]!) / c;
        k++;
      }
    }
    const correction = 1 - tie / (total * total * total - total);
    let h = (12 / (total * (total + 1))) * ssbn - 3 * (total + 1);
    h /= correction;
    const df = k - 1;
    if (!(df > 0) || !(correction > 0)) h = NaN;
    out.statistic[j] = h;
    out.df[j] = df;
    setP(out, j, chi2LogSf(h, df));
  });
  return out;
}
