/**
 * ReliefF (classes; Kononenko 1994, with class priors) and RReliefF (continuous outcome;
 * Robnik-Šikonja & Kononenko 1997, 2003).
 *
 * Definitions used (and mirrored by the numpy reference in scripts/fixtures/misc.py):
 * - diff(A, r, h) = |x_rA − x_hA| / range_A (0 for a constant feature); the neighbour distance is the
 *   sum of diffs over features (range-scaled Manhattan), computed by `compute/kernels`.
 * - Instances: all n in order when `n_iterations` is null, else m sampled without replacement (ctx rng).
 * - Neighbours: ordered by (distance, row index), the instance itself excluded.
 * - ReliefF: for instance r of class c, the k nearest hits (class c) and, for every other class C,
 *   the k nearest misses of class C (k_C = min(k, members available)):
 *   W_A −= Σ_hits diff / (m k_c) and W_A += P(C) / (1 − P(c)) · Σ_misses(C) diff / (m k_C), with
 *   P = class frequencies in the data.
 * - RReliefF: the k nearest neighbours of any value, equal influence d = 1/k each:
 *   N_dC += d·diff_y, N_dA += d·diff_A, N_dCdA += d·diff_y·diff_A;
 *   W_A = N_dCdA / N_dC − (N_dA − N_dCdA) / (m − N_dC), diff_y = |y_r − y_h| / range_y.
 * Score = W (higher = more relevant); own rule keeps W > 0.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type SelectorDef } from '../core/method';
import { rankAndSelect } from '../core/select';
import { l1DistanceGpuJs } from '../kernels/gpu-l1-distance';
import { rangeScale, rangeScaledL1 } from '../kernels/l1-distance';
import { assertComplete } from './mrmr';

const relieffArgs = {
  n_neighbors: {
    type: 'integer',
    default: 10,
    min: 1,
    doc: 'Nearest hits / misses (ReliefF) or neighbours (RReliefF) per instance.',
  },
  n_iterations: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    doc: 'Instances to sample (seeded); null = every instance (deterministic).',
  },
} satisfies ArgSpecs;

export interface RelieffArgs {
  n_neighbors: number;
  n_iterations: number | null;
}

/** One weight-update term: W_A += coef · |x_rA − x_hA| / range_A. */
interface Terms {
  r: Int32Array;
  h: Int32Array;
  coef: Float64Array;
  /** RReliefF only: coef · diff_y for the N_dC&dA accumulator. */
  coefY?: Float64Array;
  count: number;
}

function newTerms(cap: number, withY: boolean): Terms {
  return {
    r: new Int32Array(cap),
    h: new Int32Array(cap),
    coef: new Float64Array(cap),
    coefY: withY ? new Float64Array(cap) : undefined,
    count: 0,
  };
}

/** Row indices ordered by (distance, index), self excluded. */
function neighbourOrder(d: Float64Array, off: number, n: number, self: number): Int32Array {
  const idx = new Int32Array(n - 1);
  for (let i = 0, t = 0; i < n; i++) if (i !== self) idx[t++] = i;
  idx.sort((a, b) => d[off + a]! - d[off + b]! || a - b);
  return idx;
}

/** Σ_t coef_t · |s_{r_t} − s_{h_t}| per feature on range-scaled columns. */
function accumulate(
  scaled: Float64Array,
  n: number,
  p: number,
  t: Terms,
  coef: Float64Array,
): Float64Array {
  const out = new Float64Array(p);
  const { r, h, count } = t;
  for (let j = 0; j < p; j++) {
    const off = j * n;
    let s = 0;
    for (let q = 0; q < count; q++)
      s += coef[q]! * Math.abs(scaled[off + r[q]!]! - scaled[off + h[q]!]!);
    out[j] = s;
  }
  return out;
}

async function distances(
  ds: Dataset,
  rows: Int32Array | undefined,
  threads: number | undefined,
  signal: AbortSignal | undefined,
): Promise<{ dist: Float64Array; scaled: Float64Array; backend: string }> {
  const n = ds.nSamples;
  const p = ds.nFeatures;
  if (process.env.OMICSELECTOR_DEVICE === 'gpu') {
    // GPU pool: the gpu.js twin in float32 (falls back to the float64 kernel if gpu.js cannot run).
    try {
      const { scaled } = rangeScale(ds.data, n, p);
      const all = rows ?? Int32Array.from({ length: n }, (_, i) => i);
      const { dist, mode } = l1DistanceGpuJs(scaled, n, p, all, 'gpu');
      return { dist, scaled, backend: `gpu.js-${mode}` };
    } catch {
      /* fall through to the CPU kernel */
    }
  }
  const { dist, scaled } = await rangeScaledL1(ds.data, n, p, { rows, threads, signal });
  return { dist, scaled, backend: 'float64' };
}

export const relieff: SelectorDef<RelieffArgs> = {
  kind: 'selector',
  code: 'relieff',
  label: 'ReliefF / RReliefF',
  description:
    'Nearest-neighbour feature weights: features that differ between an instance and its nearest ' +
    'misses (other classes) but not its nearest hits score high; RReliefF for continuous outcomes.',
  reference:
    'Kononenko (1994) ECML-94 LNCS 784:171; Robnik-Šikonja & Kononenko (2003) Machine Learning 53:23',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'both',
  gpuMinCells: 5_000_000,
  args: relieffArgs,
  async run(ds, args, ctx, k) {
    assertComplete(ds, 'relieff');
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const o = ds.outcome;
    if (o.kind !== 'binary' && o.kind !== 'multiclass' && o.kind !== 'continuous') {
      throw new Error(`relieff needs a class or continuous outcome, the dataset has ${o.kind}`);
    }
    if (n < 2) throw new Error('relieff needs at least 2 samples');
    const kNb = args.n_neighbors;
    let rows: Int32Array | undefined;
    if (args.n_iterations !== null && args.n_iterations < n) {
      rows = ctx.rng.sample(n, args.n_iterations);
    }
    const m = rows ? rows.length : n;
    ctx.progress(0, 'distances');
    const { dist, scaled, backend } = await distances(ds, rows, ctx.threads, ctx.signal);
    ctx.progress(0.6, 'neighbours');

    let weights: Float64Array;
    const diagnostics: Record<string, unknown> = { instances: m };
    if (o.kind === 'continuous') {
      const y = o.values;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, y[i]!);
        hi = Math.max(hi, y[i]!);
      }
      const invY = hi > lo ? 1 / (hi - lo) : 0;
      const kk = Math.min(kNb, n - 1);
      const terms = newTerms(m * kk, true);
      let nDC = 0;
      for (let a = 0; a < m; a++) {
        if (a % 64 === 0) checkAbort(ctx.signal);
        const r = rows ? rows[a]! : a;
        const order = neighbourOrder(dist, a * n, n, r);
        for (let q = 0; q < kk; q++) {
          const h = order[q]!;
          const dy = Math.abs(y[r]! - y[h]!) * invY;
          const t = terms.count++;
          terms.r[t] = r;
          terms.h[t] = h;
          terms.coef[t] = 1 / kk;
          terms.coefY![t] = dy / kk;
          nDC += dy / kk;
        }
      }
      ctx.progress(0.8, 'weights');
      const nDA = accumulate(scaled, n, p, terms, terms.coef);
      const nDCdA = accumulate(scaled, n, p, terms, terms.coefY!);
      weights = new Float64Array(p);
      for (let j = 0; j < p; j++) weights[j] = nDCdA[j]! / nDC - (nDA[j]! - nDCdA[j]!) / (m - nDC);
      diagnostics.variant = 'RReliefF';
      diagnostics.n_dc = nDC;
    } else {
      const labels = o.labels;
      const nClasses = o.classes.length;
      const counts = new Float64Array(nClasses);
      for (let i = 0; i < n; i++) counts[labels[i]!]!++;
      const prior = Float64Array.from(counts, c => c / n);
      const terms = newTerms(m * kNb * nClasses, false);
      const taken = new Int32Array(nClasses);
      for (let a = 0; a < m; a++) {
        if (a % 64 === 0) checkAbort(ctx.signal);
        const r = rows ? rows[a]! : a;
        const c = labels[r]!;
        const order = neighbourOrder(dist, a * n, n, r);
        taken.fill(0);
        const start = terms.count;
        for (let q = 0; q < order.length; q++) {
          const h = order[q]!;
          const ch = labels[h]!;
          if (taken[ch]! >= kNb) continue;
          taken[ch]!++;
          const t = terms.count++;
          terms.r[t] = r;
          terms.h[t] = h;
        }
        // Coefficients once the per-class neighbour counts k_C are known.
        for (let t = start; t < terms.count; t++) {
          const ch = labels[terms.h[t]!]!;
          terms.coef[t] =
            ch === c ? -1 / (m * taken[c]!) : prior[ch]! / (1 - prior[c]!) / (m * taken[ch]!);
        }
      }
      ctx.progress(0.8, 'weights');
      weights = accumulate(scaled, n, p, terms, terms.coef);
      diagnostics.variant = 'ReliefF';
      diagnostics.class_priors = Object.fromEntries(o.classes.map((cl, i) => [cl, prior[i]]));
    }
    checkAbort(ctx.signal);
    const ranked = rankAndSelect(ds, weights, k, j => weights[j]! > 0);
    ctx.progress(1, 'done');
    return {
      selected: ranked.selected,
      scores: ranked.scores,
      params: { n_neighbors: kNb, n_iterations: args.n_iterations, k: k ?? null },
      diagnostics,
      backend,
    };
  },
};
