/**
 * k-nearest neighbours (scikit-learn KNeighborsClassifier / KNeighborsRegressor, Euclidean
 * metric, brute force).
 *
 * `weights = 'uniform'`: each of the k neighbours votes 1; `'distance'`: weight 1/d, and when some
 * neighbours are at distance 0 only those count (weight 1 each), as scikit-learn.
 * predict_proba = per-class weight sums / total; the predicted class is the first class with the
 * largest probability (scikit-learn's mode / weighted_mode tie rule). Regression: (weighted) mean.
 * Neighbour order: squared distance, then training row index. Distances come from the GEMM form
 * ‖a‖² + ‖b‖² − 2a·b (compute/kernels/cross-dot.ts); the candidates near the k-th are re-ranked on
 * exactly computed differences so cancellation cannot reorder close neighbours.
 */
import { type ArgSpecs } from '../core/args';
import { selectFeaturesByName, type Dataset } from '../core/dataset';
import {
  checkAbort,
  type FittedModel,
  type ModelDef,
  type ModelState,
  type Prediction,
} from '../core/method';
import { crossDot, crossDotBlock, crossDotF32, sampleSquaredNorms } from '../kernels/cross-dot';
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

const EXTRA = 8;
/** Multiply-adds above which predictAsync screens neighbours with a float32 tensor GEMM. */
const F32_SCREEN_WORK = 5e8;

function toRowMajor(x: Float64Array, n: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const off = j * n;
    for (let i = 0; i < n; i++) out[i * p + j] = x[off + i]!;
  }
  return out;
}

export class KnnModel implements FittedModel {
  readonly code = 'knn';
  private readonly norms: Float64Array;
  private rows: Float64Array | undefined;

  constructor(
    readonly featureNames: string[],
    private readonly x: Float64Array,
    private readonly n: number,
    private readonly target: KnnTarget,
    private readonly args: KnnArgs,
  ) {
    this.norms = sampleSquaredNorms(x, n, featureNames.length);
  }

  /** Indices and distances of the k nearest training rows for each row of `ds`. */
  neighbours(ds: Dataset, dots: Float64Array): { idx: Int32Array; dist: Float64Array; k: number } {
    const q = selectFeaturesByName(ds, this.featureNames);
    const m = q.nSamples;
    const p = this.featureNames.length;
    const n = this.n;
    const k = Math.min(this.args.n_neighbors, n);
    const qn = sampleSquaredNorms(q.data, m, p);
    const idx = new Int32Array(m * k);
    const dist = new Float64Array(m * k);
    const cand = Int32Array.from({ length: n }, (_, i) => i);
    const d2 = new Float64Array(n);
    const exact = new Float64Array(n);
    // Row-major copies so the exact re-ranking reads contiguous rows, not stride-n columns.
    const qRows = toRowMajor(q.data, m, p);
    const xRows = (this.rows ??= toRowMajor(this.x, n, p));
    for (let a = 0; a < m; a++) {
      for (let i = 0; i < n; i++)
        d2[i] = Math.max(0, qn[a]! + this.norms[i]! - 2 * dots[a * n + i]!);
      cand.sort((u, v) => d2[u]! - d2[v]! || u - v);
      // Re-rank the leading candidates on exact squared differences.
      const c = Math.min(n, k + EXTRA);
      const lead = Array.from(cand.subarray(0, c));
      const qa = a * p;
      for (const i of lead) {
        const xi = i * p;
        let s = 0;
        for (let j = 0; j < p; j++) {
          const d = qRows[qa + j]! - xRows[xi + j]!;
          s += d * d;
        }
        exact[i] = s;
      }
      lead.sort((u, v) => exact[u]! - exact[v]! || u - v);
      for (let t = 0; t < k; t++) {
        idx[a * k + t] = lead[t]!;
        dist[a * k + t] = Math.sqrt(exact[lead[t]!]!);
      }
      cand.sort((u, v) => u - v);
    }
    return { idx, dist, k };
  }

  predict(ds: Dataset): Prediction {
    const q = selectFeaturesByName(ds, this.featureNames);
    const dots = crossDotBlock({
      x: q.data,
      nx: q.nSamples,
      y: this.x,
      ny: this.n,
      p: this.featureNames.length,
      a0: 0,
      a1: q.nSamples,
    });
    return this.fromDots(ds, dots);
  }

  /**
   * Same as predict for large inputs: the GEMM runs on worker threads in float64, or, above
   * `F32_SCREEN_WORK` multiply-adds (or when `screen` is forced), as a float32 tensor product whose
   * only use is to rank candidates — the k + 8 leading ones are re-ranked on exact float64
   * differences, so results match the float64 path unless float32 error (≈1e-7 · ‖x‖²) exceeds the
   * gap between the k-th and (k + 8)-th neighbour.
   */
  async predictAsync(ds: Dataset, threads?: number, screen?: boolean): Promise<Prediction> {
    const q = selectFeaturesByName(ds, this.featureNames);
    const p = this.featureNames.length;
    const work = q.nSamples * this.n * p;
    if (screen ?? work >= F32_SCREEN_WORK) {
      const { c } = await crossDotF32(q.data, q.nSamples, this.x, this.n, p);
      return this.fromDots(ds, c);
    }
    const dots = await crossDot(q.data, q.nSamples, this.x, this.n, p, { threads });
    return this.fromDots(ds, dots);
  }

  private fromDots(ds: Dataset, dots: Float64Array): Prediction {
    const { idx, dist, k } = this.neighbours(ds, dots);
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
