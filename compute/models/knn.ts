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
import {
  centredCrossDotF32,
  centredF32Columns,
  crossDot,
  crossDotBlock,
  dotErrorFactor,
  sampleSquaredNorms,
} from '../kernels/cross-dot';
import { initTensorBackend } from '../core/tensor';
import { assertComplete } from '../selectors/mrmr';
import { decodeF64, encodeF64 } from '../kernels/base64';

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

/** Multiply-adds above which predictAsync screens neighbours with a float32 tensor GEMM. */
const F32_SCREEN_WORK = 1e7;
/** Queries per exact re-ranking sweep (bounds the candidate-pair buffers). */
const QUERY_BLOCK = 256;

/** Screened cross products and the norms / error factor that bound them. */
interface Screen {
  /** x·y per (query, training row), row-major m × n, float32 or float64. */
  dots: Float32Array | Float64Array;
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
  private readonly norms: Float64Array;
  private f32: { mean: Float64Array; y32: Float32Array; norms: Float64Array } | undefined;

  constructor(
    readonly featureNames: string[],
    private readonly x: Float64Array,
    private readonly n: number,
    private readonly target: KnnTarget,
    private readonly args: KnnArgs,
  ) {
    this.norms = sampleSquaredNorms(x, n, featureNames.length);
  }

  /**
   * Indices and distances of the k nearest training rows for each query row, from screened
   * products. Every screened squared distance d̃ = ‖q‖² + ‖x‖² − 2q·x carries a rigorous error
   * bound e (the product's bound from `screen.factor`, plus float64 rounding of norms and of the
   * exact differences); a training row can be among the k nearest only if d̃ − e ≤ U_k, the k-th
   * smallest d̃ + e. Exactly those rows are re-ranked on Σ (q_j − x_j)² computed in float64 (the
   * same sum, in the same order, whatever the screen), ordered by (distance, row). So the answer
   * does not depend on the screen's precision — float32 only costs a few more candidates.
   */
  neighbours(
    q: Float64Array,
    m: number,
    screen: Screen,
  ): { idx: Int32Array; dist: Float64Array; k: number } {
    const p = this.featureNames.length;
    const n = this.n;
    const k = Math.min(this.args.n_neighbors, n);
    const { dots, qNorms, xNorms } = screen;
    const F = 2 * screen.factor;
    const G = 4 * (p + 4) * 2 ** -53 + 1e-15;
    const idx = new Int32Array(m * k);
    const dist = new Float64Array(m * k);
    const lo = new Float64Array(n);
    const topHi = new Float64Array(k);
    let pa = new Int32Array(1024);
    let pi = new Int32Array(1024);
    const start = new Int32Array(QUERY_BLOCK + 1);
    for (let a0 = 0; a0 < m; a0 += QUERY_BLOCK) {
      const a1 = Math.min(m, a0 + QUERY_BLOCK);
      let np = 0;
      for (let a = a0; a < a1; a++) {
        start[a - a0] = np;
        const qa = qNorms[a]!;
        const row = a * n;
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
        for (let i = 0; i < n; i++) {
          if (!(lo[i]! <= Uk)) continue;
          if (np === pa.length) {
            pa = grow(pa);
            pi = grow(pi);
          }
          pa[np] = a;
          pi[np++] = i;
        }
      }
      start[a1 - a0] = np;
      // Exact squared distances of the candidate pairs in one sweep over the features (both
      // matrices are column-major, so each feature's values are contiguous).
      const acc = new Float64Array(np);
      const x = this.x;
      for (let j = 0; j < p; j++) {
        const qo = j * m;
        const xo = j * n;
        for (let t = 0; t < np; t++) {
          const d = q[qo + pa[t]!]! - x[xo + pi[t]!]!;
          acc[t] += d * d;
        }
      }
      for (let a = a0; a < a1; a++) {
        const s = start[a - a0]!;
        const e = start[a - a0 + 1]!;
        const order = Array.from({ length: e - s }, (_, t) => s + t);
        order.sort((u, v) => acc[u]! - acc[v]! || pi[u]! - pi[v]!);
        for (let t = 0; t < k; t++) {
          idx[a * k + t] = pi[order[t]!]!;
          dist[a * k + t] = Math.sqrt(acc[order[t]!]!);
        }
      }
    }
    return { idx, dist, k };
  }

  private screen64(q: Float64Array, m: number, dots: Float64Array): Screen {
    const p = this.featureNames.length;
    return {
      dots,
      qNorms: sampleSquaredNorms(q, m, p),
      xNorms: this.norms,
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
   * Same answer as predict: above `F32_SCREEN_WORK` multiply-adds (or when `screen` is forced)
   * the products come from a float32 tensor GEMM on data centred at the training means (the
   * error bound then scales with the centred norms), else from the float64 kernel (on worker
   * threads for large products). Either way the exact re-ranking decides.
   */
  async predictAsync(
    ds: Dataset,
    threads?: number,
    screen?: boolean,
    /** Tests: the float32 product's multiply-adds from which it is split over threads. */
    splitWork?: number,
  ): Promise<Prediction> {
    const q = alignedData(ds, this.featureNames);
    const m = ds.nSamples;
    const p = this.featureNames.length;
    const work = m * this.n * p;
    let sc: Screen;
    if (screen ?? (work >= F32_SCREEN_WORK && (await initTensorBackend()) !== 'cpu')) {
      this.f32 ??= this.centredTraining();
      const { c, xNorms } = await centredCrossDotF32(
        q,
        m,
        this.x,
        this.n,
        p,
        this.f32.mean,
        { y32: this.f32.y32, norms: this.f32.norms },
        { threads, minSplitWork: splitWork },
      );
      sc = { dots: c, qNorms: xNorms, xNorms: this.f32.norms, factor: dotErrorFactor(p, 'f32') };
    } else sc = this.screen64(q, m, await crossDot(q, m, this.x, this.n, p, { threads }));
    return this.fromNeighbours(ds, this.neighbours(q, m, sc));
  }

  private centredTraining(): { mean: Float64Array; y32: Float32Array; norms: Float64Array } {
    const p = this.featureNames.length;
    const n = this.n;
    const mean = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let i = j * n; i < (j + 1) * n; i++) s += this.x[i]!;
      mean[j] = s / n;
    }
    // Shared memory, so that worker threads can read it when a large product is split.
    return { mean, ...centredF32Columns(this.x, n, p, mean, true) };
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
    assertComplete(ds, 'knn');
    checkAbort(ctx.signal);
    const o = ds.outcome;
    let target: KnnTarget;
    if (o.kind === 'binary' || o.kind === 'multiclass')
      target = { labels: o.labels, classes: o.classes };
    else if (o.kind === 'continuous') target = { values: o.values };
    else throw new Error(`knn needs a class or continuous outcome, the dataset has ${o.kind}`);
    ctx.progress(1, 'stored training samples');
    return new KnnModel(ds.featureNames, ds.data.slice(), ds.nSamples, target, { ...args });
  },
  load: state => KnnModel.load(state),
};

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
