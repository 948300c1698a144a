/**
 * HDG — high-deviation genes (OmicSelector2 `HDGSelector`), unsupervised, for single-cell matrices.
 * Dispersion per gene: `cv` = sd / (mean + 1e-10), `variance`, or `std` (sd with ddof = 1). Genes
 * whose mean is below `min_mean` are excluded (score NaN, never selected). Own rule: every eligible
 * gene with dispersion > 0; with k: the top k eligible genes. The outcome is ignored.
 * Integer (count) columns get their variance from exact integer moments, so genes with the same
 * counts tie exactly and are ordered by column; other columns use the two-pass sum (as numpy).
 */
import { type ArgSpecs } from '../core/args';
import { checkAbort, type SelectorDef } from '../core/method';
import { recordOf, withLazy } from '../stats/lazy';
import { residentOf } from '../kernels/resident';
import { residentMoments, sum4 } from '../stats/simd_moments';
import { selectTop, topOrder } from '../stats/selection';

const ALL_TASKS = ['unsupervised', 'binary', 'multiclass', 'continuous', 'survival'] as const;

/** Genes per block between abort checks / progress reports. */
const CHUNK = 4096;

const hdgArgs = {
  metric: {
    type: 'enum',
    values: ['cv', 'variance', 'std'],
    default: 'cv',
    doc: 'Dispersion: coefficient of variation sd/(mean + 1e-10), variance or sd (ddof = 1).',
  },
  min_mean: { type: 'number', default: 0, doc: 'Genes with a lower mean expression are excluded.' },
} satisfies ArgSpecs;

/** 2^53: integers up to here are exact in float64, and so are their sums below it. */
const EXACT_LIMIT = 9007199254740992;

/**
 * For a column of integers (counts), n·Σx² − (Σx)² exactly (both terms exact integers below 2^53,
 * whatever the summation order); −1 when the column is not all integers or a term would not be
 * exact. The variance is then this over n(n − 1), one correctly rounded division: genes with the
 * same multiset of counts (common in sparse single-cell data) get bit-identical dispersions and
 * stay exact ties, ordered by column, instead of being ordered by the rounding of a two-pass sum.
 * `sum` is Σx from the caller (exact for integers: every partial sum is an integer < 2^53).
 */
function exactIntegerMoments(data: Float64Array, off: number, end: number, sum: number): number {
  if (!Number.isInteger(sum) || Math.abs(sum) >= EXACT_LIMIT) return -1;
  let sq = 0;
  for (let i = off; i < end; i++) {
    const v = data[i]!;
    if (v !== Math.floor(v)) return -1;
    sq += v * v;
  }
  const n = end - off;
  if (!(sq * n < EXACT_LIMIT)) return -1;
  return n * sq - sum * sum;
}

/**
 * out[j] = the dispersion of column j for j0 ≤ j < j1 (NaN below min_mean or with < 2 values);
 * returns how many of them were below min_mean. A plain function, not part of the async `run`:
 * V8 optimises an async function only after ~35 calls and cannot replace it on the stack
 * mid-loop (see heg.ts), so the p-long loop ran unoptimised for a bench's first calls.
 */
function dispersions(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  minMean: number,
  metric: number,
  out: Float64Array,
  /** residentMoments' sums and centred sums of squares of these columns, or null. */
  moments: Float64Array | null,
): number {
  let excluded = 0;
  for (let j = j0; j < j1; j++) {
    const off = j * n;
    let mean: number;
    let variance: number;
    let m = n;
    // Complete column: mean by one four-accumulator pass (independent add chains, ~3× a
    // single chain), then the centred sum of squares the same way (two-pass, as numpy's var).
    const end = off + n;
    const s = moments ? moments[2 * (j - j0)]! : sum4(data, off, end);
    const exact = s === s ? exactIntegerMoments(data, off, end, s) : -1;
    if (exact >= 0) {
      mean = s / n;
      variance = exact / (n * (n - 1));
    } else if (s === s && moments) {
      mean = s / n;
      variance = moments[2 * (j - j0) + 1]! / (n - 1);
    } else if (s === s) {
      mean = s / n;
      let q0 = 0;
      let q1 = 0;
      let q2 = 0;
      let q3 = 0;
      let i = off;
      for (; i + 3 < end; i += 4) {
        const d0 = data[i]! - mean;
        const d1 = data[i + 1]! - mean;
        const d2 = data[i + 2]! - mean;
        const d3 = data[i + 3]! - mean;
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
      }
      for (; i < end; i++) {
        const d = data[i]! - mean;
        q0 += d * d;
      }
      variance = (q0 + q1 + q2 + q3) / (n - 1);
    } else {
      // Missing values (or an infinite one): skip NaNs, two passes.
      let sum = 0;
      m = 0;
      for (let q = off; q < end; q++) {
        const v = data[q]!;
        if (v === v) {
          sum += v;
          m++;
        }
      }
      mean = sum / m;
      let ss = 0;
      for (let q = off; q < end; q++) {
        const v = data[q]!;
        if (v === v) ss += (v - mean) * (v - mean);
      }
      variance = ss / (m - 1);
    }
    if (mean < minMean) excluded++;
    out[j] =
      mean < minMean || m < 2
        ? NaN
        : metric === 1
          ? variance
          : metric === 2
            ? Math.sqrt(variance)
            : Math.sqrt(variance) / (mean + 1e-10);
  }
  return excluded;
}

export interface HdgArgs {
  metric: 'cv' | 'variance' | 'std';
  min_mean: number;
}

export const hdg: SelectorDef<HdgArgs> = {
  kind: 'selector',
  code: 'hdg',
  label: 'High-deviation genes (single-cell)',
  description:
    'Unsupervised: ranks genes by dispersion (CV, variance or sd) among genes with mean ≥ min_mean.',
  reference: 'OmicSelector2 HDGSelector; dispersion-based highly-variable gene selection',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: hdgArgs,
  async run(ds, args, ctx, k) {
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const data = ds.data;
    const minMean = args.min_mean;
    const metric = args.metric === 'variance' ? 1 : args.metric === 'std' ? 2 : 0;
    const dispersion = new Float64Array(p);
    // On a resident matrix the two passes run in place on the wasm kernel (same bits).
    const moments = residentOf(data) ? new Float64Array(2 * Math.min(p, CHUNK)) : null;
    let excludedLowMean = 0;
    for (let j0 = 0; j0 < p; j0 += CHUNK) {
      checkAbort(ctx.signal);
      ctx.progress(j0 / p, 'dispersion');
      const j1 = Math.min(p, j0 + CHUNK);
      const inPlace = moments !== null && residentMoments(data, n, j0, j1, moments);
      excludedLowMean += dispersions(
        data,
        n,
        j0,
        j1,
        minMean,
        metric,
        dispersion,
        inPlace ? moments : null,
      );
    }
    // Top k among eligible genes only (excluded genes never fill up k): NaN ranks last in
    // topOrder, so the eligible genes are a prefix of it. Only what is returned gets sorted.
    const names = ds.featureNames;
    let selected: string[];
    if (k !== undefined && k > 0) {
      selected = [];
      for (const j of topOrder(dispersion, k)) {
        if (dispersion[j] === dispersion[j]) selected.push(names[j]!);
      }
    } else selected = selectTop(ds, dispersion, undefined, j => dispersion[j]! > 0);
    ctx.progress(1, 'done');
    // `scores` and `dispersions` are one name-keyed record, built on first read (stats/lazy.ts).
    let record: Record<string, number> | undefined;
    const dispersionRecord = (): Record<string, number> => (record ??= recordOf(names, dispersion));
    return withLazy(
      {
        selected,
        params: { metric: args.metric, min_mean: args.min_mean, k: k ?? null },
        diagnostics: withLazy(
          { excluded_low_mean: excludedLowMean },
          { dispersions: dispersionRecord },
        ),
        backend: 'float64',
      },
      { scores: dispersionRecord },
    );
  },
};
