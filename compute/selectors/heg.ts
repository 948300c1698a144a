/**
 * HEG — high-expression genes (OmicSelector2 `HEGSelector`), unsupervised, for single-cell data.
 * Expression level per gene: `mean`, `median` or `sum` (missing values skipped). Exactly one of k
 * (top k genes) or `percentile` (every gene whose level is ≥ that percentile of all levels, numpy
 * linear interpolation) must be given. The outcome is ignored.
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { checkAbort, type SelectorDef } from '../core/method';
import { numberArray, Scratch } from '../core/scratch';
import { recordOf, withLazy } from '../stats/lazy';
import { scaledColumnSums, sum8 } from '../stats/simd_colsums';
import { selectTop } from '../stats/selection';
import { selectKth, sortRange } from '../stats/sort';

const ALL_TASKS = ['unsupervised', 'binary', 'multiclass', 'continuous', 'survival'] as const;

/** Genes per block between abort checks / progress reports. */
const CHUNK = 4096;

const levelScratch = Scratch.f64();
const medianScratch = Scratch.f64();

const hegArgs = {
  metric: {
    type: 'enum',
    values: ['mean', 'median', 'sum'],
    default: 'mean',
    doc: 'Expression level per gene.',
  },
  percentile: {
    type: 'number',
    default: null,
    nullable: true,
    min: 0,
    max: 100,
    doc: 'Keep genes with level ≥ this percentile of levels (use instead of k).',
  },
} satisfies ArgSpecs;

export interface HegArgs {
  metric: 'mean' | 'median' | 'sum';
  percentile: number | null;
}

/** numpy.percentile with linear interpolation. */
export function percentileLinear(values: Float64Array, q: number): number {
  const v = values.filter(x => x === x);
  sortRange(v, 0, v.length);
  if (v.length === 0) return NaN;
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

function maxOf(a: Float64Array, lo: number, hi: number): number {
  let m = -Infinity;
  for (let i = lo; i < hi; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/**
 * level[j] = median of column j for j0 ≤ j < j1 (missing values skipped). A plain function, not
 * part of the async `run`: V8 optimises an async function only after ~35 calls and cannot
 * replace it on the stack mid-loop, so a p-long loop there ran unoptimised for the first calls
 * (measured: 0.7–0.9 CPU-ms per 200 × 2,000 call until call ~35, ~0.5 after).
 */
function medianLevels(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  level: Float64Array,
  buf: Float64Array,
): void {
  for (let j = j0; j < j1; j++) {
    const off = j * n;
    const end = off + n;
    // Observed values into a reused buffer; the middle order statistic(s) by quickselect
    // (O(n) per column, as numpy's introselect), not a full sort.
    let m = 0;
    for (let i = off; i < end; i++) {
      const x = data[i]!;
      if (x === x) buf[m++] = x;
    }
    if (m === 0) level[j] = NaN;
    else {
      const h = m >> 1;
      const upper = selectKth(buf, 0, m, h);
      level[j] = m % 2 ? upper : (maxOf(buf, 0, h) + upper) / 2;
    }
  }
}

/**
 * level[j] = mean (or sum) of column j for j0 ≤ j < j1. `simd`: level already holds the wasm
 * kernel's results (sum8 / n or sum8, the same bits), and only the NaN ones (missing values)
 * are redone here, skipping the missing values. A plain function for the reason given at
 * medianLevels.
 */
function sumLevels(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  mean: boolean,
  simd: boolean,
  level: Float64Array,
): void {
  for (let j = j0; j < j1; j++) {
    const off = j * n;
    if (simd) {
      if (level[j] === level[j]) continue;
    } else {
      // Eight independent sums (one add chain is latency-bound); the same additions, in the
      // same order, as the wasm kernel's lanes.
      const s = sum8(data, off, off + n);
      if (s === s) {
        level[j] = mean ? s / n : s;
        continue;
      }
    }
    let s = 0;
    let m = 0;
    for (let q = off; q < off + n; q++) {
      const x = data[q]!;
      if (x === x) {
        s += x;
        m++;
      }
    }
    level[j] = !mean ? s : m ? s / m : NaN;
  }
}

export const heg: SelectorDef<HegArgs> = {
  kind: 'selector',
  code: 'heg',
  label: 'High-expression genes (single-cell)',
  description:
    'Unsupervised: ranks genes by mean, median or total expression; top k or percentile.',
  reference: 'OmicSelector2 HEGSelector',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: hegArgs,
  async run(ds, args, ctx, k) {
    const hasK = k !== undefined && k > 0;
    if (hasK === (args.percentile !== null)) {
      throw new ArgumentError('percentile', 'give exactly one of k or percentile for heg');
    }
    const n = ds.nSamples;
    const p = ds.nFeatures;
    // The levels are computed in kept scratch (the loop below and the ranking never await), and
    // the result keeps a number[] copy: a fresh 16 KB typed array per call came from untouched
    // heap pages (see core/scratch.ts), four page faults and ~6 µs of a ~58 µs call at
    // 200 × 2,000 on the CI VM (AMD EPYC, 23 Nov 2026); the copy costs ~1.5 µs.
    const level = levelScratch.take(p);
    const data = ds.data;
    const median = args.metric === 'median';
    const buf = median ? medianScratch.take(n) : level;
    for (let j0 = 0; j0 < p; j0 += CHUNK) {
      checkAbort(ctx.signal);
      ctx.progress(j0 / p, 'expression levels');
      const j1 = Math.min(p, j0 + CHUNK);
      if (median) medianLevels(data, n, j0, j1, level, buf);
      else {
        // The wasm SIMD kernel (bit-identical to sum8, then / n for the mean) writes the levels;
        // the loop runs for the columns it left NaN (missing values), or all without the kernel.
        const mean = args.metric === 'mean';
        const nan = scaledColumnSums(data, n, j0, j1, level.subarray(j0, j1), mean ? n : 1);
        if (nan !== 0) sumLevels(data, n, j0, j1, mean, nan > 0, level);
      }
    }
    const cut = args.percentile !== null ? percentileLinear(level, args.percentile) : -Infinity;
    const selected = selectTop(ds, level, hasK ? k : undefined, j => level[j]! >= cut);
    const kept = numberArray(level);
    ctx.progress(1, 'done');
    // `scores` and `expression_levels` are one name-keyed record, built on first read (see
    // stats/lazy.ts): at 20,000 genes it cost more than numpy's whole mean + argsort.
    const names = ds.featureNames;
    let levels: Record<string, number> | undefined;
    const levelRecord = (): Record<string, number> => (levels ??= recordOf(names, kept));
    return withLazy(
      {
        selected,
        params: { metric: args.metric, percentile: args.percentile, k: hasK ? k : null },
        diagnostics: withLazy({ threshold: hasK ? null : cut }, { expression_levels: levelRecord }),
        backend: 'float64',
      },
      { scores: levelRecord },
    );
  },
};
