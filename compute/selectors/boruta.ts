/**
 * Boruta all-relevant feature selection (Kursa & Rudnicki 2010), following BorutaPy's loop:
 *
 * Each iteration copies the features not yet rejected, appends a shuffled copy of each (shadows;
 * at least 5, re-drawn every iteration from the run's generator), grows a random forest on both
 * and compares every real feature's impurity importance (MDI) with the `perc` percentile of the
 * shadow importances (100 = the maximum): above it is a hit. After iteration t, for each
 * undecided feature with h hits: P(accept) = P(Bin(t, ½) ≥ h), P(reject) = P(Bin(t, ½) ≤ h);
 * with `two_step` (default) a feature is confirmed / rejected when its p-value passes both a
 * Benjamini–Hochberg correction over the active features at level `alpha` and a Bonferroni
 * correction over iterations (p ≤ alpha / t); otherwise Bonferroni over all features. Rejected
 * features leave later iterations. The loop stops when nothing is undecided or after
 * `max_iter` − 1 forests (BorutaPy's `while _iter < max_iter`).
 *
 * Selected = confirmed, best first by mean importance. Scores = mean importance over the
 * iterations a feature took part in. With k > 0 the ranking is confirmed, then tentative, then
 * rejected. Tentative features and BorutaPy's "rough fix" subset (median importance above the
 * median shadow maximum) are in the diagnostics.
 *
 * Speed: features are binned once; each iteration only copies byte columns (real + permuted
 * shadows) and grows small trees (default max_depth 5) on all cores.
 */
import { type ArgSpecs } from '../core/args';
import { checkAbort, type RunContext, type SelectorDef } from '../core/method';
import { defaultThreads } from '../core/parallel';
import { Rng } from '../core/rng';
import { rankAndSelect } from '../core/select';
import { type BinnedMatrix, binColumns, sharedArray } from '../trees/binning';
import { fitForest } from '../trees/forest';
import { balancedRowWeights, resolveCriterion, resolveMaxFeatures, targetOf } from '../trees/rf';

const borutaArgs = {
  n_estimators: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    doc: "Trees per iteration; null = BorutaPy's 'auto' (100 · 2m / (√(2m) · depth) for m active features, depth 10 when max_depth is null).",
  },
  max_depth: {
    type: 'integer',
    default: 5,
    nullable: true,
    min: 1,
    doc: 'Tree depth (BorutaPy recommends 3–7).',
  },
  max_features: {
    type: 'string',
    default: 'auto',
    doc: "Features per split: 'auto' (sqrt for classes, 1/3 for continuous), 'sqrt', 'log2', 'all', a count or a fraction.",
  },
  min_samples_leaf: { type: 'integer', default: 1, min: 1, doc: 'Minimum samples in a leaf.' },
  class_weight: {
    type: 'enum',
    values: ['none', 'balanced'],
    default: 'balanced',
    doc: 'Class weights of the forests (classes only).',
  },
  perc: {
    type: 'integer',
    default: 100,
    min: 1,
    max: 100,
    doc: 'Percentile of shadow importances a feature must beat (100 = maximum).',
  },
  alpha: {
    type: 'number',
    default: 0.05,
    min: 0,
    exclusiveMin: true,
    max: 1,
    doc: 'Level of the corrected binomial tests.',
  },
  two_step: {
    type: 'boolean',
    default: true,
    doc: 'BH over features and Bonferroni over iterations (false: Bonferroni over features).',
  },
  max_iter: { type: 'integer', default: 100, min: 2, doc: 'Iteration limit (BorutaPy).' },
  max_bin: {
    type: 'integer',
    default: 256,
    min: 2,
    max: 256,
    doc: 'Histogram bins per feature.',
  },
} satisfies ArgSpecs;

export interface BorutaArgs {
  n_estimators: number | null;
  max_depth: number | null;
  max_features: string;
  min_samples_leaf: number;
  class_weight: 'none' | 'balanced';
  perc: number;
  alpha: number;
  two_step: boolean;
  max_iter: number;
  max_bin: number;
}

/** BorutaPy `_get_tree_num`: each feature considered ≈ 100 times per forest. */
export function borutaTreeNum(nActive: number, depth: number | null): number {
  const d = depth ?? 10;
  const multi = (nActive * 2) / (Math.sqrt(nActive * 2) * d);
  return Math.max(1, Math.floor(multi * 100));
}

/** log C(n, k) via a running sum (n ≤ a few hundred iterations). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

/** P(Bin(n, ½) ≤ k) (scipy binom.cdf). */
export function binomCdfHalf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, s);
}

/** P(Bin(n, ½) ≥ h) = binom.sf(h − 1, n, ½). */
export function binomSfHalf(h: number, n: number): number {
  if (h <= 0) return 1;
  if (h > n) return 0;
  let s = 0;
  for (let i = h; i <= n; i++) s += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, s);
}

/** BorutaPy `_fdrcorrection`: Benjamini–Hochberg rejections at level alpha. */
export function bhReject(p: ArrayLike<number>, alpha: number): Uint8Array {
  const m = p.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  let last = -1;
  for (let r = 0; r < m; r++) if (p[order[r]!]! <= ((r + 1) / m) * alpha) last = r;
  const out = new Uint8Array(m);
  for (let r = 0; r <= last; r++) out[order[r]!] = 1;
  return out;
}

/** numpy.percentile (linear interpolation). */
function percentile(values: Float64Array, q: number): number {
  const s = Float64Array.from(values).sort();
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  return percentile(Float64Array.from(values), 50);
}

/** The real + shadow byte matrix of one iteration (shadows: permuted copies, ≥ 5 columns). */
function iterationMatrix(binned: BinnedMatrix, cur: Int32Array, rng: Rng): BinnedMatrix {
  const { n } = binned;
  const m = cur.length;
  let nSh = m;
  while (nSh < 5) nSh *= 2;
  const p = m + nSh;
  const codes = sharedArray(Uint8Array, n * p);
  for (let a = 0; a < m; a++) {
    codes.set(binned.codes.subarray(cur[a]! * n, (cur[a]! + 1) * n), a * n);
  }
  for (let c = 0; c < nSh; c++) {
    const src = (c % m) * n;
    const dst = (m + c) * n;
    const perm = rng.permutation(n);
    for (let i = 0; i < n; i++) codes[dst + i] = codes[src + perm[i]!]!;
  }
  const empty = new Float64Array(0);
  return {
    n,
    p,
    codes,
    nBins: new Uint16Array(0),
    offsets: new Int32Array(0),
    binMin: empty,
    binMax: empty,
  };
}

export const boruta: SelectorDef<BorutaArgs> = {
  kind: 'selector',
  code: 'boruta',
  label: 'Boruta',
  description:
    'All-relevant selection: features must beat shuffled shadow copies in random-forest importance more often than chance (binomial tests, BH + Bonferroni), as BorutaPy.',
  reference:
    'Kursa & Rudnicki (2010) Feature Selection with the Boruta Package, J Stat Softw 36(11); BorutaPy (scikit-learn-contrib/boruta_py).',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: borutaArgs,
  async run(ds, args, ctx: RunContext, k) {
    const target = targetOf(ds);
    const { nSamples: n, nFeatures: p } = ds;
    const threads = ctx.threads ?? defaultThreads();
    ctx.progress(0, 'binning');
    const binned = await binColumns(ds.data, n, p, args.max_bin, threads);
    const classification = target.nClasses > 0;
    const rowWeight =
      classification && args.class_weight === 'balanced'
        ? balancedRowWeights(target.labels!, target.nClasses)
        : null;
    const dec = new Int8Array(p);
    const hits = new Int32Array(p);
    const impSum = new Float64Array(p);
    const impCount = new Int32Array(p);
    const impHistory: Float64Array[] = [];
    const shadowMax: number[] = [];
    const forestSizes: number[] = [];
    let iter = 1;
    while (dec.includes(0) && iter < args.max_iter) {
      checkAbort(ctx.signal);
      const cur = Int32Array.from(
        Array.from(dec.keys()).filter(j => dec[j]! >= 0),
        j => j,
      );
      const m = cur.length;
      const nTree = args.n_estimators ?? borutaTreeNum(m, args.max_depth);
      forestSizes.push(nTree);
      const itRng = ctx.rng.fork(iter);
      const mat = iterationMatrix(binned, cur, new Rng(itRng.fork(0).seed));
      const base = (iter - 1) / (args.max_iter - 1);
      const fit = await fitForest(
        mat,
        target,
        null,
        {
          nEstimators: nTree,
          cart: {
            criterion: resolveCriterion('auto', classification),
            maxDepth: args.max_depth ?? Infinity,
            minSamplesSplit: 2,
            minSamplesLeaf: args.min_samples_leaf,
            mtry: resolveMaxFeatures(args.max_features, mat.p, classification),
            minImpurityDecrease: 0,
          },
          bootstrap: true,
          rowWeight,
          oob: false,
          permRepeats: 0,
          thresholds: false,
        },
        {
          ...ctx,
          rng: new Rng(itRng.fork(1).seed),
          progress: f => ctx.progress(base + f / (args.max_iter - 1), `iteration ${iter}`),
        },
      );
      const imp = fit.mdi;
      const smax = percentile(imp.subarray(m), args.perc);
      shadowMax.push(smax);
      const full = new Float64Array(p).fill(NaN);
      for (let a = 0; a < m; a++) {
        const j = cur[a]!;
        full[j] = imp[a]!;
        impSum[j] += imp[a]!;
        impCount[j]++;
        if (imp[a]! > smax) hits[j]++;
      }
      impHistory.push(full);
      // BorutaPy _do_tests over the active (not rejected) features
      const accP = Float64Array.from(cur, j => binomSfHalf(hits[j]!, iter));
      const rejP = Float64Array.from(cur, j => binomCdfHalf(hits[j]!, iter));
      let acc: Uint8Array;
      let rej: Uint8Array;
      if (args.two_step) {
        acc = bhReject(accP, args.alpha);
        rej = bhReject(rejP, args.alpha);
        for (let a = 0; a < m; a++) {
          if (accP[a]! > args.alpha / iter) acc[a] = 0;
          if (rejP[a]! > args.alpha / iter) rej[a] = 0;
        }
      } else {
        acc = Uint8Array.from(accP, q => (q <= args.alpha / p ? 1 : 0));
        rej = Uint8Array.from(rejP, q => (q <= args.alpha / p ? 1 : 0));
      }
      for (let a = 0; a < m; a++) {
        const j = cur[a]!;
        if (dec[j] !== 0) continue;
        if (acc[a]) dec[j] = 1;
        else if (rej[a]) dec[j] = -1;
      }
      iter++;
    }
    ctx.progress(1, 'done');
    const meanImp = Float64Array.from(impSum, (s, j) => (impCount[j]! > 0 ? s / impCount[j]! : 0));
    // ordering: confirmed, tentative, rejected; within a tier by mean importance (MDI ≤ 1)
    const tier = Float64Array.from(
      meanImp,
      (v, j) => (dec[j] === 1 ? 4 : dec[j] === 0 ? 2 : 0) + v,
    );
    const ranked = rankAndSelect(ds, tier, k, j => dec[j] === 1);
    const names = ds.featureNames;
    const confirmed = names.filter((_, j) => dec[j] === 1);
    const tentativeIdx = Array.from(dec.keys()).filter(j => dec[j] === 0);
    const medShadow = median(shadowMax);
    const roughFix = tentativeIdx.filter(j => {
      const vals = impHistory.map(h => h[j]!).filter(v => !Number.isNaN(v));
      return median(vals) > medShadow;
    });
    const scores: Record<string, number> = {};
    names.forEach((f, j) => (scores[f] = meanImp[j]!));
    return {
      selected: ranked.selected,
      scores,
      params: { ...args },
      diagnostics: {
        iterations: iter - 1,
        confirmed,
        tentative: tentativeIdx.map(j => names[j]!),
        tentative_rough_fix: roughFix.map(j => names[j]!),
        rejected_count: p - confirmed.length - tentativeIdx.length,
        hits: Object.fromEntries(names.map((f, j) => [f, hits[j]!]).filter(([, h]) => h !== 0)),
        shadow_max_history: shadowMax,
        trees_per_iteration: forestSizes,
      },
      backend: 'float64',
    };
  },
};
