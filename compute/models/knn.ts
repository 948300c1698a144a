/**
 * k-nearest neighbours (scikit-learn KNeighborsClassifier / KNeighborsRegressor, Euclidean
 * metric, brute force).
 *
 * `weights = 'uniform'`: each of the k neighbours votes 1; `'distance'`: weight 1/d, and when some
 * neighbours are at distance 0 only those count (weight 1 each), as scikit-learn.
 * predict_proba = per-class weight sums / total; the predicted class is the first class with the
 * largest probability (scikit-learn's mode / weighted_mode tie rule). Regression: (weighted) mean.
 * Neighbour order: squared distance Σ (a_j − b_j)² in float64, then training row index. The GEMM
 * form ‖a‖² + ‖b‖² − 2a·b (compute/kernels/cross-dot.ts; float64, or a float32 tensor GEMM for
 * large inputs) only screens: with a rigorous bound on its error, every row that can still be
 * among the k nearest is re-ranked on exact differences (see `neighbours`).
 */
import { type ArgSpecs } from '../core/args';
import { selectFeaturesByName, type Dataset } from '../core/dataset';
import {
  assertModelState,
  checkAbort,
  type FittedModel,
  type ModelDef,
  type ModelState,
  type Prediction,
} from '../core/method';
import { crossDot, crossDotBlock, dotErrorFactor, sampleSquaredNorms } from '../kernels/cross-dot';
import { centredScreen, panelDotErrorFactor } from '../kernels/simd-gemm';
import { assertComplete } from '../selectors/mrmr';
import { decodeF64, encodeF64 } from '../kernels/base64';
import { scaledColumnSums } from '../stats/simd_colsums';

const knnArgs = {
  n_neighbors: { type: 'integer', default: 5, min: 1, doc: 'Number of neighbours k.' },
  weights: {
    type: 'enum',
    values: ['uniform', 'distance'],
    default: 'uniform',
    doc: 'uniform: equal votes; distance: weight 1/distance.',
  },
} satisfies ArgSpecs;

export interface KnnArgs {
  n_neighbors: number;
  weights: 'uniform' | 'distance';
}

interface KnnTarget {
  labels?: Int32Array;
  classes?: string[];
  values?: Float64Array;
}

/** Multiply-adds from which predictAsync screens neighbours with the float32 SIMD product. */
const F32_SCREEN_WORK = 1e6;
/** Candidate pairs from which an exact re-ranking sweep runs (bounds the pair buffers). */
const MAX_PAIRS = 1 << 16;

/** Screened cross products and the norms / error factor that bound them. */
interface Screen {
  /** x·y per (query, training row), row-major: query a's row at a · ld. */
  dots: Float64Array;
  ld: number;
  qNorms: Float64Array;
  xNorms: Float64Array;
  /** |dots − exact| ≤ factor · √(qNorm · xNorm). */
  factor: number;
}

/** The query's values in the model's feature order: zero-copy when the columns already match. */
export function alignedData(ds: Dataset, names: readonly string[]): Float64Array {
  const own = ds.featureNames;
  if (own === names || (own.length === names.length && own.every((f, j) => f === names[j]))) {
    return ds.data;
  }
  return selectFeaturesByName(ds, names).data;
}

export class KnnModel implements FittedModel {
  readonly code = 'knn';
  private norms: Float64Array | undefined;

  /**
   * `x` is the training matrix (column-major n × p) by reference, like every Dataset view; `mean`
   * its feature means (the float32 screen's centre), computed on demand when not given.
   */
  constructor(
    readonly featureNames: string[],
    private readonly x: Float64Array,
    private readonly n: number,
    private readonly target: KnnTarget,
    private readonly args: KnnArgs,
    private mean?: Float64Array,
  ) {}

  /**
   * Indices and distances of the k nearest training rows for each query row, from screened
   * products. Every screened squared distance d̃ = ‖q‖² + ‖x‖² − 2q·x carries a rigorous error
   * bound e (the product's bound from `screen.factor`, plus float64 rounding of norms and of the
   * exact differences); a training row can be among the k nearest only if d̃ − e ≤ U_k, the k-th
   * smallest d̃ + e. Exactly those rows are re-ranked on Σ (q_j − x_j)² computed in float64 (the
   * same sum, in the same order, whatever the screen), ordered by (distance, row). So the answer
   * does not depend on the screen's precision — float32 only costs a few more candidates. For
   * uniform class votes a window of exactly k rows needs no re-ranking (the set decides; its
   * `dist` entries are then NaN, unused).
   */
  neighbours(
    q: Float64Array,
    m: number,
    screen: Screen,
  ): { idx: Int32Array; dist: Float64Array; k: number } {
    const p = this.featureNames.length;
    const n = this.n;
    const k = Math.min(this.args.n_neighbors, n);
    const { dots, ld, qNorms, xNorms } = screen;
    // Uniform votes over classes need the neighbour set only (its order and distances do not
    // change the integer vote counts): a query whose window holds exactly k rows is decided.
    const setOnly = this.args.weights === 'uniform' && !this.target.values;
    const F = 2 * screen.factor;
    const G = 4 * (p + 4) * 2 ** -53 + 1e-15;
    const idx = new Int32Array(m * k);
    const dist = new Float64Array(m * k);
    const lo = new Float64Array(n);
    const topHi = new Float64Array(k);
    let pa = new Int32Array(1024);
    let pi = new Int32Array(1024);
    let np = 0;
    // Queries waiting for the exact sweep and where their candidates start in pa / pi.
    const waiting: number[] = [];
    const starts: number[] = [];
    const sweep = (): void => {
      if (np === 0) return;
      const acc = exactSquaredDistances(q, m, this.x, n, p, pa, pi, np);
      starts.push(np);
      waiting.forEach((a, w) => {
        const s = starts[w]!;
        const order = Array.from({ length: starts[w + 1]! - s }, (_, t) => s + t);
        order.sort((u, v) => acc[u]! - acc[v]! || pi[u]! - pi[v]!);
        for (let t = 0; t < k; t++) {
          idx[a * k + t] = pi[order[t]!]!;
          dist[a * k + t] = Math.sqrt(acc[order[t]!]!);
        }
      });
      np = 0;
      waiting.length = 0;
      starts.length = 0;
    };
    for (let a = 0; a < m; a++) {
      const qa = qNorms[a]!;
      const row = a * ld;
      let filled = 0;
      for (let i = 0; i < n; i++) {
        const xi = xNorms[i]!;
        const d = qa + xi - 2 * dots[row + i]!;
        const e = F * Math.sqrt(qa * xi) + G * (qa + xi);
        lo[i] = d - e;
        const hi = d + e;
        // The k smallest upper bounds, ascending (k is small: insertion).
        if (filled < k) filled++;
        else if (!(hi < topHi[k - 1]!)) continue;
        let t = filled - 1;
        while (t > 0 && topHi[t - 1]! > hi) {
          topHi[t] = topHi[t - 1]!;
          t--;
        }
        topHi[t] = hi;
      }
      const Uk = topHi[k - 1]!;
      const first = np;
      for (let i = 0; i < n; i++) {
        if (!(lo[i]! <= Uk)) continue;
        if (np === pa.length) {
          pa = grow(pa);
          pi = grow(pi);
        }
        pa[np] = a;
        pi[np++] = i;
      }
      if (setOnly && np - first === k) {
        // Decided: every other row's lower bound exceeds these rows' upper bounds.
        for (let t = 0; t < k; t++) {
          idx[a * k + t] = pi[first + t]!;
          dist[a * k + t] = NaN;
        }
        np = first;
        continue;
      }
      waiting.push(a);
      starts.push(first);
      // One sweep over all features serves every waiting pair: sweep when the buffer is large.
      if (np >= MAX_PAIRS) sweep();
    }
    sweep();
    return { idx, dist, k };
  }

  private screen64(q: Float64Array, m: number, dots: Float64Array): Screen {
    const p = this.featureNames.length;
    return {
      dots,
      ld: this.n,
      qNorms: sampleSquaredNorms(q, m, p),
      xNorms: (this.norms ??= sampleSquaredNorms(this.x, this.n, p)),
      factor: dotErrorFactor(p, 'f64'),
    };
  }

  predict(ds: Dataset): Prediction {
    const q = alignedData(ds, this.featureNames);
    const m = ds.nSamples;
    const p = this.featureNames.length;
    const dots = crossDotBlock({ x: q, nx: m, y: this.x, ny: this.n, p, a0: 0, a1: m });
    return this.fromNeighbours(ds, this.neighbours(q, m, this.screen64(q, m, dots)));
  }

  /**
   * Same answer as predict: from `F32_SCREEN_WORK` multiply-adds (or when `screen` is forced)
   * the products come from the float32 SIMD panel kernel (compute/kernels/simd-gemm.ts) on data
   * centred at the training means — the error bound then scales with the centred norms — and
   * the training set itself as the queries (the same matrix) costs one half of a symmetric
   * product; else (or without WebAssembly SIMD) from the float64 kernel. Either way the exact
   * re-ranking decides.
   */
  async predictAsync(
    ds: Dataset,
    threads?: number,
    screen?: boolean,
    /** Tests: multiply-adds from which the float32 product is split over threads. */
    splitWork?: number,
  ): Promise<Prediction> {
    const q = alignedData(ds, this.featureNames);
    const m = ds.nSamples;
    const p = this.featureNames.length;
    const work = m * this.n * p;
    let sc: Screen | null = null;
    if (screen ?? work >= F32_SCREEN_WORK) {
      const r = await centredScreen(q, m, this.x, this.n, p, this.featureMeans(), {
        threads,
        minThreadWork: splitWork,
      });
      if (r)
        sc = {
          dots: r.dots,
          ld: r.ld,
          qNorms: r.xNorms,
          xNorms: r.yNorms,
          factor: panelDotErrorFactor(p),
        };
    }
    sc ??= this.screen64(q, m, await crossDot(q, m, this.x, this.n, p, { threads }));
    return this.fromNeighbours(ds, this.neighbours(q, m, sc));
  }

  private featureMeans(): Float64Array {
    return (this.mean ??= columnMeans(this.x, this.n, this.featureNames.length));
  }

  private fromNeighbours(
    ds: Dataset,
    { idx, dist, k }: { idx: Int32Array; dist: Float64Array; k: number },
  ): Prediction {
    const m = ds.nSamples;
    const w = new Float64Array(k);
    const weightsFor = (a: number): void => {
      if (this.args.weights === 'uniform') {
        w.fill(1);
        return;
      }
      let zero = false;
      for (let t = 0; t < k; t++) if (dist[a * k + t] === 0) zero = true;
      for (let t = 0; t < k; t++) {
        const d = dist[a * k + t]!;
        w[t] = zero ? (d === 0 ? 1 : 0) : 1 / d;
      }
    };
    if (this.target.values) {
      const values = new Float64Array(m);
      for (let a = 0; a < m; a++) {
        weightsFor(a);
        let s = 0;
        let ws = 0;
        for (let t = 0; t < k; t++) {
          s += w[t]! * this.target.values[idx[a * k + t]!]!;
          ws += w[t]!;
        }
        values[a] = s / ws;
      }
      return { kind: 'value', values };
    }
    const classes = this.target.classes!;
    const C = classes.length;
    const proba = new Float64Array(m * C);
    const labels = new Int32Array(m);
    for (let a = 0; a < m; a++) {
      weightsFor(a);
      let ws = 0;
      for (let t = 0; t < k; t++) {
        proba[a * C + this.target.labels![idx[a * k + t]!]!] += w[t]!;
        ws += w[t]!;
      }
      let best = 0;
      for (let c = 0; c < C; c++) {
        proba[a * C + c]! /= ws;
        if (proba[a * C + c]! > proba[a * C + best]!) best = c;
      }
      labels[a] = best;
    }
    return { kind: 'class', labels, proba, classes };
  }

  save(): ModelState {
    return {
      code: 'knn',
      version: 1,
      featureNames: this.featureNames,
      params: { ...this.args },
      state: {
        n: this.n,
        x: encodeF64(this.x),
        labels: this.target.labels ? Array.from(this.target.labels) : null,
        classes: this.target.classes ?? null,
        values: this.target.values ? encodeF64(this.target.values) : null,
      },
    };
  }

  static load(state: ModelState): KnnModel {
    assertModelState(state, 'knn', 1);
    const s = state.state as {
      n: number;
      x: string;
      labels: number[] | null;
      classes: string[] | null;
      values: string | null;
    };
    const target: KnnTarget = s.values
      ? { values: decodeF64(s.values) }
      : { labels: Int32Array.from(s.labels!), classes: s.classes! };
    return new KnnModel(
      state.featureNames,
      decodeF64(s.x),
      s.n,
      target,
      state.params as unknown as KnnArgs,
    );
  }
}

export const knn: ModelDef<KnnArgs> = {
  kind: 'model',
  code: 'knn',
  label: 'k-nearest neighbours',
  description:
    'Euclidean k-nearest-neighbour classifier (vote or inverse-distance weights, class ' +
    'probabilities as scikit-learn) and regressor (mean of the neighbours).',
  reference: 'Cover & Hart (1967) IEEE Trans Inf Theory 13:21; scikit-learn KNeighborsClassifier',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: knnArgs,
  async fit(ds, args, ctx) {
    checkAbort(ctx.signal);
    // The feature means (the screen's centre) come from the same pass as the missing-value check:
    // a NaN anywhere makes its column's mean NaN.
    const mean = columnMeans(ds.data, ds.nSamples, ds.nFeatures);
    if (mean.some(Number.isNaN)) assertComplete(ds, 'knn');
    const o = ds.outcome;
    let target: KnnTarget;
    if (o.kind === 'binary' || o.kind === 'multiclass')
      target = { labels: o.labels, classes: o.classes };
    else if (o.kind === 'continuous') target = { values: o.values };
    else throw new Error(`knn needs a class or continuous outcome, the dataset has ${o.kind}`);
    ctx.progress(1, 'stored training samples');
    // The training matrix by reference (a Dataset's data is shared and never written in place).
    return new KnnModel(ds.featureNames, ds.data, ds.nSamples, target, { ...args }, mean);
  },
  load: state => KnnModel.load(state),
};

/**
 * Σ_j (q_ja − x_ji)² in float64, in feature order, for the pairs (pa[t], pi[t]), t < np: one
 * sweep over the features, both matrices column-major (each feature's values contiguous).
 */
function exactSquaredDistances(
  q: Float64Array,
  m: number,
  x: Float64Array,
  n: number,
  p: number,
  pa: Int32Array,
  pi: Int32Array,
  np: number,
): Float64Array {
  const acc = new Float64Array(np);
  for (let j = 0; j < p; j++) {
    const qo = j * m;
    const xo = j * n;
    for (let t = 0; t < np; t++) {
      const d = q[qo + pa[t]!]! - x[xo + pi[t]!]!;
      acc[t] += d * d;
    }
  }
  return acc;
}

/**
 * Per-feature means of a column-major matrix (NaN where a column has a NaN). Column sums on the
 * wasm SIMD kernel where available (stats/simd_colsums.ts; four partial sums per column, ~2× the
 * one-accumulator loop, whose add chain is latency-bound): the means only centre the float32
 * screen, whose error bound holds for any centre, so the neighbours do not depend on their bits.
 */
function columnMeans(x: Float64Array, n: number, p: number): Float64Array {
  const mean = new Float64Array(p);
  if (scaledColumnSums(x, n, 0, p, mean, n) >= 0) return mean;
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = j * n; i < (j + 1) * n; i++) s += x[i]!;
    mean[j] = s / n;
  }
  return mean;
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
