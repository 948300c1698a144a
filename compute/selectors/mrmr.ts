/**
 * mRMR — minimum redundancy, maximum relevance (Peng, Long & Ding 2005; Ding & Peng 2005), greedy.
 *
 * Variants (`variant`):
 * - `fcq` (default): relevance = F statistic (f_classif for classes, f_regression for a
 *   continuous outcome), redundancy = mean |Pearson r| with the already selected features, score =
 *   relevance / redundancy. Follows the `mrmr_selection` package: only features with relevance > 0
 *   are candidates; each |r| is clipped below at 0.001 (a NaN r, from a constant column, counts as
 *   0.001); a mean redundancy of exactly 1 makes the score 0; the first pick is the most relevant.
 * - `mid` / `miq`: relevance = I(x; y), redundancy = mean I(x; x_s); score = difference (MID) or
 *   quotient (MIQ, redundancy clipped below at 0.001). Estimator: each feature (and a continuous
 *   outcome) is cut into `n_bins` equal-frequency bins, bin(x) = ⌊n_bins · #{x' < x} / n⌋ (ties stay
 *   in one bin), then the plug-in mutual information in nats of the contingency table.
 *
 * Redundancy is incremental and lazy (see `lazyGreedy`): at most O(k · p · n) work, in practice
 * about a quarter of the k·p terms. FCQ terms are dot products of standardised columns, computed
 * by a WebAssembly SIMD kernel several at a time (compute/kernels/unit-dot.ts), bit-identical to
 * the plain loop.
 * Ties between equal scores go to the earlier column (as pandas argmax).
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { column, type Dataset } from '../core/dataset';
import { checkAbort, type SelectorDef } from '../core/method';
import { recordOf, withLazy } from '../stats/lazy';
import { standardize, UnitColumnPool } from '../kernels/unit-dot';

const FLOOR = 0.001;

const mrmrArgs = {
  variant: {
    type: 'enum',
    values: ['fcq', 'mid', 'miq'],
    default: 'fcq',
    doc: 'fcq: F-statistic / mean |Pearson|; mid: MI difference; miq: MI quotient.',
  },
  n_bins: {
    type: 'integer',
    default: 5,
    min: 2,
    max: 255,
    doc: 'Equal-frequency bins per feature for the MI estimator (mid, miq).',
  },
} satisfies ArgSpecs;

export interface MrmrArgs {
  variant: 'fcq' | 'mid' | 'miq';
  n_bins: number;
}

export function assertComplete(
  ds: Dataset | Float64Array,
  method: string,
  named?: Dataset,
  firstFeature = 0,
): void {
  // A column subarray can be checked alone; `named` / `firstFeature` then name its feature.
  const data = ds instanceof Float64Array ? ds : ds.data;
  const meta = named ?? (ds as Dataset);
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i]!)) {
      const j = firstFeature + Math.floor(i / meta.nSamples);
      throw new Error(
        `${method} needs complete data: feature "${meta.featureNames[j]}" has missing values (impute first)`,
      );
    }
  }
}

/**
 * One-way ANOVA F per feature (sklearn f_classif): two passes per column (group sums, then the
 * within-group sum of squares about the group means).
 *
 * Two classes (the common case) take two columns per loop: every sum is still one sequential
 * chain per column — the same additions in the same order as one column at a time, so the same
 * bits — but two columns' chains interleave, and a one-chain loop is bound by the add latency.
 *
 * With `unit`, the columns are also standardised into unit.z (column j at j·n, `standardize`'s
 * arithmetic: its sum is the same chain as the class sums' total) while they are in cache.
 */
export function fClassif(
  ds: Dataset,
  labels: Int32Array,
  nClasses: number,
  unit?: { z: Float64Array; constant: Uint8Array },
): Float64Array {
  const n = ds.nSamples;
  const p = ds.nFeatures;
  const counts = new Float64Array(nClasses);
  for (let i = 0; i < n; i++) counts[labels[i]!]!++;
  let groups = 0;
  for (let g = 0; g < nClasses; g++) if (counts[g]! > 0) groups++;
  const dfb = groups - 1;
  const dfw = n - groups;
  const f = new Float64Array(p);
  const data = ds.data;
  let j = 0;
  if (nClasses === 2) {
    // 0/1 weights instead of a store through sums[labels[i]] per value. Adding w·v with
    // w ∈ {0, 1} performs the same additions in the same order (x + 0 = x), so the group sums
    // are bit-identical to the indexed loop.
    const w1 = Float64Array.from(labels, l => (l === 1 ? 1 : 0));
    const lab = Int32Array.from(labels);
    const c0 = counts[0]!;
    const c1 = counts[1]!;
    // Group means of the pair: [a0, a1, b0, b1], indexed by the label.
    const mm = new Float64Array(4);
    for (; j + 1 < p; j += 2) {
      const oa = j * n;
      const ob = oa + n;
      let a0 = 0;
      let a1 = 0;
      let ta = 0;
      let b0 = 0;
      let b1 = 0;
      let tb = 0;
      for (let i = 0; i < n; i++) {
        const v = data[oa + i]!;
        const u = data[ob + i]!;
        const w = w1[i]!;
        const w0 = 1 - w;
        a1 += w * v;
        a0 += w0 * v;
        ta += v;
        b1 += w * u;
        b0 += w0 * u;
        tb += u;
      }
      // ±Infinity would turn 0·v into NaN: such pairs take the general loop.
      if (!Number.isFinite(ta) || !Number.isFinite(tb)) {
        for (const jj of [j, j + 1]) {
          f[jj] = fClassifColumn(data, jj * n, n, labels, counts, dfb, dfw);
          if (unit && standardize(data, jj * n, n, unit.z, jj * n)) unit.constant[jj] = 1;
        }
        continue;
      }
      mm[0] = a0 / c0;
      mm[1] = a1 / c1;
      mm[2] = b0 / c0;
      mm[3] = b1 / c1;
      let sa = 0;
      let sb = 0;
      if (unit) {
        const z = unit.z;
        const ma = ta / n;
        const mb = tb / n;
        let qa = 0;
        let qb = 0;
        for (let i = 0; i < n; i++) {
          const l = lab[i]!;
          const v = data[oa + i]!;
          const u = data[ob + i]!;
          const d = v - mm[l]!;
          const e = u - mm[2 + l]!;
          sa += d * d;
          sb += e * e;
          const da = v - ma;
          const db = u - mb;
          z[oa + i] = da;
          z[ob + i] = db;
          qa += da * da;
          qb += db * db;
        }
        scaleUnit(z, oa, n, qa, unit.constant, j);
        scaleUnit(z, ob, n, qb, unit.constant, j + 1);
      } else {
        for (let i = 0; i < n; i++) {
          const l = lab[i]!;
          const d = data[oa + i]! - mm[l]!;
          const e = data[ob + i]! - mm[2 + l]!;
          sa += d * d;
          sb += e * e;
        }
      }
      f[j] = fFromSums(ta / n, c0, c1, a0, a1, sa, dfb, dfw);
      f[j + 1] = fFromSums(tb / n, c0, c1, b0, b1, sb, dfb, dfw);
    }
  }
  for (; j < p; j++) {
    f[j] = fClassifColumn(data, j * n, n, labels, counts, dfb, dfw);
    if (unit && standardize(data, j * n, n, unit.z, j * n)) unit.constant[j] = 1;
  }
  return f;
}

/** The last step of `standardize`: z *= 1 / √ss, or flag a constant column (ss = 0). */
function scaleUnit(
  z: Float64Array,
  off: number,
  n: number,
  ss: number,
  constant: Uint8Array,
  j: number,
): void {
  if (ss === 0) {
    constant[j] = 1;
    return;
  }
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < n; i++) z[off + i]! *= inv;
}

/** F of a two-class column from its sums, with fClassifColumn's arithmetic. */
function fFromSums(
  mean: number,
  c0: number,
  c1: number,
  s0: number,
  s1: number,
  ssw: number,
  dfb: number,
  dfw: number,
): number {
  let ssb = 0;
  if (c0 !== 0) {
    const d = s0 / c0 - mean;
    ssb += c0 * d * d;
  }
  if (c1 !== 0) {
    const d = s1 / c1 - mean;
    ssb += c1 * d * d;
  }
  return ssb / dfb / (ssw / dfw);
}

/** F of one column (any number of classes), indexed group sums. */
function fClassifColumn(
  data: Float64Array,
  off: number,
  n: number,
  labels: Int32Array,
  counts: Float64Array,
  dfb: number,
  dfw: number,
): number {
  const nClasses = counts.length;
  const sums = new Float64Array(nClasses);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = data[off + i]!;
    sums[labels[i]!]! += v;
    total += v;
  }
  const mean = total / n;
  let ssb = 0;
  for (let g = 0; g < nClasses; g++) {
    if (counts[g]! === 0) continue;
    const d = sums[g]! / counts[g]! - mean;
    ssb += counts[g]! * d * d;
  }
  const means = new Float64Array(nClasses);
  for (let g = 0; g < nClasses; g++) means[g] = sums[g]! / counts[g]!;
  let ssw = 0;
  for (let i = 0; i < n; i++) {
    const d = data[off + i]! - means[labels[i]!]!;
    ssw += d * d;
  }
  return ssb / dfb / (ssw / dfw);
}

/** f_regression: F = r² / (1 − r²) · (n − 2) with a centred Pearson r. */
export function fRegression(z: Float64Array, constant: Uint8Array, y: Float64Array): Float64Array {
  const n = y.length;
  const p = constant.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += y[i]!;
  m /= n;
  const yc = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    yc[i] = y[i]! - m;
    ss += yc[i]! * yc[i]!;
  }
  const inv = 1 / Math.sqrt(ss);
  const f = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    if (constant[j] || ss === 0) {
      f[j] = NaN;
      continue;
    }
    const off = j * n;
    let r = 0;
    for (let i = 0; i < n; i++) r += z[off + i]! * yc[i]!;
    r *= inv;
    f[j] = ((r * r) / (1 - r * r)) * (n - 2);
  }
  return f;
}

/** Equal-frequency codes: bin(x) = ⌊bins · #{x' < x} / n⌋. */
export function equalFrequencyCodes(
  values: ArrayLike<number>,
  bins: number,
  out: Uint8Array,
): void {
  const n = values.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a]! - values[b]!);
  let below = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    if (r > 0 && values[i]! !== values[order[r - 1]!]!) below = r;
    out[i] = Math.floor((bins * below) / n);
  }
}

/** Plug-in mutual information (nats) of two code vectors with `a` and `b` levels. */
export function mutualInformation(
  x: Uint8Array | Int32Array,
  a: number,
  y: Uint8Array | Int32Array,
  b: number,
  table: Float64Array,
): number {
  const n = x.length;
  table.fill(0, 0, a * b);
  for (let i = 0; i < n; i++) table[x[i]! * b + y[i]!]!++;
  const pa = new Float64Array(a);
  const pb = new Float64Array(b);
  for (let u = 0; u < a; u++)
    for (let v = 0; v < b; v++) {
      pa[u]! += table[u * b + v]!;
      pb[v]! += table[u * b + v]!;
    }
  let mi = 0;
  for (let u = 0; u < a; u++)
    for (let v = 0; v < b; v++) {
      const c = table[u * b + v]!;
      if (c > 0) mi += (c / n) * Math.log((c * n) / (pa[u]! * pb[v]!));
    }
  return mi;
}

interface Outcome {
  codes?: Int32Array;
  levels?: number;
  values?: Float64Array;
  labels?: Int32Array;
  nClasses?: number;
}

function outcomeOf(ds: Dataset): Outcome {
  const o = ds.outcome;
  if (o.kind === 'binary') return { labels: o.labels, nClasses: 2 };
  if (o.kind === 'multiclass') return { labels: o.labels, nClasses: o.classes.length };
  if (o.kind === 'continuous') return { values: o.values };
  throw new Error(`mrmr needs a class or continuous outcome, the dataset has ${o.kind}`);
}

export const mrmr: SelectorDef<MrmrArgs> = {
  kind: 'selector',
  code: 'mrmr',
  label: 'mRMR (minimum redundancy, maximum relevance)',
  description:
    'Greedy selection maximising relevance to the outcome against mean redundancy with the ' +
    'features already chosen (FCQ: F-statistic / |Pearson|; MID/MIQ: binned mutual information). ' +
    'Needs k.',
  reference:
    'Peng, Long & Ding (2005) IEEE TPAMI 27:1226; Ding & Peng (2005) J Bioinform Comput Biol 3:185; ' +
    'FCQ as in the mrmr_selection Python package',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: mrmrArgs,
  async run(ds, args, ctx, k) {
    if (k === undefined || !(k > 0)) {
      throw new ArgumentError(
        'k',
        'is required for mrmr (a greedy ranking has no own stopping rule)',
      );
    }
    // FCQ for classes checks completeness through the F statistic (a missing value makes its
    // feature's F NaN) instead of a separate pass over the matrix.
    const fcqClasses = args.variant === 'fcq' && ds.outcome.kind !== 'continuous';
    if (!fcqClasses) assertComplete(ds, 'mrmr');
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const y = outcomeOf(ds);
    ctx.progress(0, 'relevance');

    const relevance = new Float64Array(p);
    let codes: Uint8Array | null = null;
    const bins = args.n_bins;
    const table = new Float64Array(
      args.variant === 'fcq' ? 0 : 256 * Math.max(256, y.nClasses ?? 0),
    );
    // FCQ: every column standardised once into the pool (for classes inside the F pass, while the
    // column is in cache: cheaper than building the ~60 % of them the lazy greedy touches later).
    let pool: UnitColumnPool | null = null;
    if (fcqClasses) {
      pool = UnitColumnPool.filled(ds.data, n, p, (z, c) =>
        relevance.set(fClassif(ds, y.labels!, y.nClasses!, { z, constant: c })),
      );
      for (let j = 0; j < p; j++) {
        if (relevance[j] !== relevance[j]) assertComplete(column(ds, j), 'mrmr', ds, j);
      }
    } else if (args.variant === 'fcq') {
      pool = UnitColumnPool.filled(ds.data, n, p, (z, c) => {
        for (let j = 0; j < p; j++) if (standardize(ds.data, j * n, n, z, j * n)) c[j] = 1;
        relevance.set(fRegression(z, c, y.values!));
      });
    } else {
      codes = new Uint8Array(n * p);
      for (let j = 0; j < p; j++) {
        equalFrequencyCodes(
          ds.data.subarray(j * n, (j + 1) * n),
          bins,
          codes.subarray(j * n, (j + 1) * n),
        );
      }
      let yCodes: Int32Array;
      let yLevels: number;
      if (y.labels) {
        yCodes = y.labels;
        yLevels = y.nClasses!;
      } else {
        const u8 = new Uint8Array(n);
        equalFrequencyCodes(y.values!, bins, u8);
        yCodes = Int32Array.from(u8);
        yLevels = bins;
      }
      for (let j = 0; j < p; j++) {
        relevance[j] = mutualInformation(
          codes.subarray(j * n, (j + 1) * n),
          bins,
          yCodes,
          yLevels,
          table,
        );
      }
    }

    // Candidates: relevance > 0 (NaN relevance never qualifies), in column order.
    const candidate = new Uint8Array(p);
    let nCand = 0;
    for (let j = 0; j < p; j++) {
      if (relevance[j]! > 0) {
        candidate[j] = 1;
        nCand++;
      }
    }
    const K = Math.min(k, nCand);
    let greedy: ReturnType<typeof lazyGreedy>;
    try {
      greedy = lazyGreedy(
        args.variant,
        relevance,
        candidate,
        K,
        // MI terms one by one (FCQ terms come in batches from the unit-column pool).
        (j, s) =>
          mutualInformation(
            codes!.subarray(j * n, (j + 1) * n),
            bins,
            codes!.subarray(s * n, (s + 1) * n),
            bins,
            table,
          ),
        step => {
          checkAbort(ctx.signal);
          ctx.progress(step / K, 'greedy selection');
        },
        pool ? fcqTerms(pool) : undefined,
      );
    } finally {
      pool?.release();
    }
    const { picks, pickScores, pickRedundancy, termsComputed } = greedy;

    // The name-keyed records are built on first read, as in the other selectors (stats/lazy.ts: a
    // 20,000-key record costs milliseconds that a caller reading only `selected` need not pay).
    const names = ds.featureNames;
    const rank = new Float64Array(p);
    picks.forEach((j, pos) => (rank[j] = K - pos));
    return withLazy(
      {
        selected: picks.map(j => names[j]!),
        params: { variant: args.variant, n_bins: args.n_bins, k },
        diagnostics: withLazy(
          {
            relevance_measure:
              args.variant === 'fcq'
                ? y.labels
                  ? 'f_classif'
                  : 'f_regression'
                : 'mutual_information_nats',
            mrmr_score_at_pick: pickScores,
            redundancy_at_pick: pickRedundancy,
            candidates: nCand,
            redundancy_terms_computed: termsComputed,
            note: K < k ? `only ${nCand} features have relevance > 0` : undefined,
          },
          { relevance: () => recordOf(names, relevance) },
        ),
        backend: 'float64',
      },
      { scores: () => recordOf(names, rank) },
    );
  },
};

/**
 * Several redundancy terms at once: out[t] = term(j, picks[t]) for t in [from, to) — the same
 * values `term` gives, computed in one pass (added to the running sum in pick order by the caller).
 */
export type BatchTerms = (
  j: number,
  picks: readonly number[],
  from: number,
  to: number,
  out: Float64Array,
) => void;

/** FCQ terms max(|z_jᵀz_s|, 0.001) from a pool of unit columns (0.001 for a constant column). */
function fcqTerms(pool: UnitColumnPool): BatchTerms {
  const constant = pool.constant;
  return (j, picks, from, to, out) => {
    pool.ensure(j);
    for (let t = from; t < to; t++) pool.ensure(picks[t]!);
    pool.dots(j, picks, from, to, out);
    for (let t = from; t < to; t++) {
      if (constant[j] || constant[picks[t]!]) out[t] = FLOOR;
      else {
        const r = Math.abs(out[t]!);
        out[t] = r < FLOOR ? FLOOR : r;
      }
    }
  };
}

/**
 * The greedy loop, evaluated lazily but with exactly the eager algorithm's arithmetic.
 *
 * Eager mRMR adds one redundancy term per candidate and step (k·p terms, each an O(n) product);
 * most of them only ever serve to show that a weakly relevant feature loses. Here each candidate
 * keeps its running sum over the picks it has been brought up to date with (`upTo[j]`). A term is
 * never below `lb` (0.001 for FCQ — every |r| is clipped there — and 0 for mutual information), so
 * at step t the unseen picks add at least (t − upTo[j])·lb, which bounds the candidate's score from
 * above (scores fall as redundancy grows). A candidate is brought up to date — its missing terms
 * added in pick order, so its sum is bit-identical to the eager one — only when that bound
 * reaches the best exact score found so far in the step; everything else provably loses
 * (strictly lower bound), so the pick, its score and the tie rule (earliest column) are those of
 * the eager loop. Candidates are visited from the largest bound down, so the best score is found
 * early and the remaining candidates are cut off by one comparison each.
 */
export function lazyGreedy(
  variant: 'fcq' | 'mid' | 'miq',
  relevance: Float64Array,
  candidate: Uint8Array,
  K: number,
  term: (j: number, s: number) => number,
  onStep: (step: number) => void,
  terms?: BatchTerms,
): {
  picks: number[];
  pickScores: number[];
  pickRedundancy: number[];
  termsComputed: number;
} {
  const p = relevance.length;
  const lb = variant === 'fcq' ? FLOOR : 0;
  const redSum = new Float64Array(p);
  const upTo = new Int32Array(p);
  const bound = new Float64Array(p);
  const cand: number[] = [];
  for (let j = 0; j < p; j++) if (candidate[j]) cand.push(j);
  const alive = new Uint8Array(p);
  for (const j of cand) alive[j] = 1;
  const picks: number[] = [];
  const pickScores: number[] = [];
  const pickRedundancy: number[] = [];
  let termsComputed = 0;
  const exactScore = (j: number, step: number): number => {
    const red = redSum[j]! / step;
    if (variant === 'mid') return relevance[j]! - red;
    if (variant === 'fcq' && red === 1) return 0;
    return relevance[j]! / Math.max(red, FLOOR);
  };
  const upperBound = (j: number, step: number): number => {
    const red = (redSum[j]! + (step - upTo[j]!) * lb) / step;
    if (variant === 'mid') return relevance[j]! - red;
    return relevance[j]! / Math.max(red, FLOOR);
  };
  const buf = new Float64Array(K);
  const catchUp = (j: number, step: number): void => {
    let s = redSum[j]!;
    if (terms) {
      terms(j, picks, upTo[j]!, step, buf);
      for (let t = upTo[j]!; t < step; t++) s += buf[t]!;
    } else for (let t = upTo[j]!; t < step; t++) s += term(j, picks[t]!);
    termsComputed += step - upTo[j]!;
    redSum[j] = s;
    upTo[j] = step;
  };
  const TOP = 16;
  const top: number[] = [];
  const seen = new Int32Array(p).fill(-1);
  for (let step = 0; step < K; step++) {
    onStep(step);
    let best = -1;
    let bestScore = -Infinity;
    if (step === 0) {
      for (const j of cand) {
        if (relevance[j]! > bestScore) {
          bestScore = relevance[j]!;
          best = j;
        }
      }
    } else {
      // Bounds for every live candidate; the TOP largest are evaluated first (largest bound
      // first) so the best score is found early, then one pass over the rest.
      top.length = 0;
      for (const j of cand) {
        if (!alive[j]) continue;
        const b = upperBound(j, step);
        bound[j] = b;
        if (top.length === TOP) {
          if (!(b > bound[top[TOP - 1]!]!)) continue;
          top.pop();
        }
        top.push(j);
        for (let at = top.length - 1; at > 0 && b > bound[top[at - 1]!]!; at--) {
          top[at] = top[at - 1]!;
          top[at - 1] = j;
        }
      }
      const consider = (j: number): void => {
        // Rounding in the bound (sums of ≤ k terms, one division) is far below this margin.
        if (bound[j]! < bestScore - Math.abs(bestScore) * 1e-12) return;
        catchUp(j, step);
        const score = exactScore(j, step);
        if (score > bestScore || (score === bestScore && j < best)) {
          bestScore = score;
          best = j;
        }
      };
      for (const j of top) {
        consider(j);
        seen[j] = step;
      }
      for (const j of cand) if (alive[j] && seen[j] !== step) consider(j);
    }
    picks.push(best);
    pickScores.push(bestScore);
    pickRedundancy.push(step === 0 ? 0 : redSum[best]! / step);
    alive[best] = 0;
  }
  onStep(K);
  return { picks, pickScores, pickRedundancy, termsComputed };
}
