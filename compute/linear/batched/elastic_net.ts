/**
 * Batched elastic net on the tensor backend: many subsamples of one dataset solved as ONE
 * computation (stability selection's workload). Float32, TensorFlow.js (native / wasm / cpu).
 *
 * STABLE API (called by compute/stability): keep this signature.
 *
 *   batchedElasticNet({ ds, subsamples, alpha, l1_ratio, family?, standardize?, maxIter?, tol?,
 *                       backend?, signal? }) → Promise<BatchedElasticNetResult>
 *
 * - ds: complete data (no NaN), outcome continuous (family 'gaussian') or binary ('binomial').
 * - subsamples: B arrays of row indices; a row listed twice counts twice (bootstrap weights).
 * - alpha, l1_ratio: the glmnet / scikit-learn penalty λ·(l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖²)
 *   on the MEAN loss over the subsample, features standardised per subsample (population sd)
 *   when `standardize` (default true): the same problem as `fitElnet` on that subsample.
 * - result.coef: B × p row-major coefficients on the standardised scale (float32 precision);
 *   coefOriginal / intercept on the original scale; backend: which tfjs backend ran.
 *
 * Algorithm: FISTA (proximal gradient with Nesterov momentum and per-subsample adaptive restart,
 * O'Donoghue & Candès 2015) on a [w × B] coefficient matrix, where every subsample has its own
 * standardisation (means / sds as [w × B] matrices from one masked GEMM) and its own step size
 * 1/L_b (power iteration on the subsample's weighted Gram, 1.02 margin). The data tensor is shared:
 * each iteration is two GEMMs, X_W·Θ (n × B) and X_Wᵀ·R (w × B), with subsample membership as
 * weights in R. Working set W: the features passing the sequential strong rule from λ_max per
 * subsample, capped per subsample; after convergence a full KKT check (one p × n · n × B GEMM)
 * adds violators, until none remain. All per-iteration work runs in tf.tidy.
 */
import { type Dataset } from '../../core/dataset';
import { checkAbort } from '../../core/method';
import {
  type BackendPreference,
  initTensorBackend,
  type TensorBackendName,
  tf,
} from '../../core/tensor';

export interface BatchedElasticNetInput {
  ds: Dataset;
  subsamples: Int32Array[];
  /** Penalty on the mean loss (glmnet lambda, scikit-learn alpha). */
  alpha: number;
  /** 1 = lasso, 0 = ridge. */
  l1_ratio: number;
  /** Default from the outcome: continuous → gaussian, binary → binomial. */
  family?: 'gaussian' | 'binomial';
  standardize?: boolean;
  /** Maximum FISTA iterations in total (default 5000). */
  maxIter?: number;
  /** Stop when max|Δβ| ≤ tol × scale per subsample (scale = sd(y) Gaussian, 1 binomial); default 1e-5. */
  tol?: number;
  backend?: BackendPreference;
  signal?: AbortSignal;
}

export interface BatchedElasticNetResult {
  backend: TensorBackendName;
  nSubsamples: number;
  nFeatures: number;
  /** B × p, standardised scale. */
  coef: Float64Array;
  /** B × p, original feature scale. */
  coefOriginal: Float64Array;
  /** B intercepts, original scale. */
  intercept: Float64Array;
  iterations: number;
  converged: boolean;
  /** Size of the final working set (features the batched iterations touched). */
  workingSet: number;
}

/** Strong-rule candidates (and KKT violators) added per subsample when growing the working set. */
const PER_SUBSAMPLE_CAP = 64;
/** Relative slack on the KKT check (float32 gradients are not exact). */
const KKT_SLACK = 1e-3;
/** Iterations between convergence checks (each check is a device → host sync). */
const CHECK_EVERY = 10;
const POWER_ITERS = 30;

type Family = 'gaussian' | 'binomial';

export async function batchedElasticNet(
  input: BatchedElasticNetInput,
): Promise<BatchedElasticNetResult> {
  const { ds, subsamples } = input;
  const o = ds.outcome;
  const family: Family | null =
    input.family ??
    (o.kind === 'continuous' ? 'gaussian' : o.kind === 'binary' ? 'binomial' : null);
  const y = o.kind === 'continuous' ? o.values : o.kind === 'binary' ? o.labels : null;
  if (!family || !y) throw new Error('batched elastic net needs a continuous or binary outcome');
  if (!(input.alpha >= 0)) throw new Error('alpha must be ≥ 0');
  const backend = await initTensorBackend(input.backend ?? 'auto');
  const solver = new BatchedSolver(ds, y, subsamples, input, family);
  try {
    return { backend, ...(await solver.solve()) };
  } finally {
    solver.dispose();
  }
}

/** Owns every long-lived tensor of one batched solve; `dispose` releases them all. */
class BatchedSolver {
  private readonly p: number;
  private readonly B: number;
  private readonly a1: number;
  private readonly a2: number;
  private readonly owned: tf.Tensor[] = [];
  /** Xᵀ (p × n): the column-major dataset is already this layout. */
  private readonly XT: tf.Tensor2D;
  /** n × B weights: count of row i in subsample b / subsample size. */
  private readonly W: tf.Tensor2D;
  private readonly y: tf.Tensor2D;
  /** Per-subsample means / scales / usable masks, p × B. */
  private readonly M: tf.Tensor2D;
  private readonly S: tf.Tensor2D;
  private readonly U: tf.Tensor2D;
  /** Per-subsample mean of y, 1 × B. */
  private readonly ybar: tf.Tensor2D;
  private readonly tolB: tf.Tensor2D;

  constructor(
    ds: Dataset,
    yRaw: ArrayLike<number>,
    subsamples: Int32Array[],
    private readonly input: BatchedElasticNetInput,
    private readonly family: Family,
  ) {
    const n = ds.nSamples;
    const p = (this.p = ds.nFeatures);
    const B = (this.B = subsamples.length);
    this.a1 = input.alpha * input.l1_ratio;
    this.a2 = input.alpha * (1 - input.l1_ratio);
    const xt32 = new Float32Array(n * p);
    for (let i = 0; i < ds.data.length; i++) {
      const v = ds.data[i]!;
      if (Number.isNaN(v))
        throw new Error('batched elastic net needs complete data (impute first)');
      xt32[i] = v;
    }
    const wHost = new Float32Array(n * B);
    subsamples.forEach((idx, b) => {
      for (let t = 0; t < idx.length; t++) wHost[idx[t]! * B + b] += 1 / idx.length;
    });
    const standardize = input.standardize ?? true;
    const tol = input.tol ?? 1e-5;
    this.XT = this.own(tf.tensor2d(xt32, [p, n]));
    this.W = this.own(tf.tensor2d(wHost, [n, B]));
    this.y = this.own(tf.tensor2d(Float32Array.from(yRaw), [n, 1]));
    this.M = this.own(tf.matMul(this.XT, this.W) as tf.Tensor2D);
    this.S = this.own(
      standardize
        ? tf.tidy(() => {
            const sq = tf.matMul(tf.square(this.XT), this.W);
            return tf.sqrt(tf.relu(tf.sub(sq, tf.square(this.M)))) as tf.Tensor2D;
          })
        : tf.ones([p, B]),
    );
    // Columns constant within a subsample are left out (glmnet drops constant columns).
    this.U = this.own(tf.tidy(() => tf.cast(tf.greater(this.S, 1e-6), 'float32') as tf.Tensor2D));
    this.ybar = this.own(tf.tidy(() => tf.matMul(tf.transpose(this.y), this.W) as tf.Tensor2D));
    this.tolB = this.own(
      tf.tidy(() => {
        if (family === 'binomial') return tf.fill([1, B], tol);
        const ey2 = tf.matMul(tf.transpose(tf.square(this.y)), this.W);
        return tf.mul(tf.sqrt(tf.relu(tf.sub(ey2, tf.square(this.ybar)))), tol);
      }),
    );
  }

  private own<T extends tf.Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  dispose(): void {
    this.owned.forEach(t => t.dispose());
    this.owned.length = 0;
  }

  /** Working residual Σ-weighted: W ∘ (y − ȳ − η) (Gaussian) or W ∘ (y − σ(η)) (binomial). */
  private residual(eta: tf.Tensor): tf.Tensor {
    return this.family === 'gaussian'
      ? tf.mul(this.W, tf.sub(tf.sub(this.y, this.ybar), eta))
      : tf.mul(this.W, tf.sub(this.y, tf.sigmoid(eta)));
  }

  async solve(): Promise<Omit<BatchedElasticNetResult, 'backend'>> {
    const { p, B, input } = this;
    const maxIter = input.maxIter ?? 5000;
    const l1 = input.l1_ratio;
    // Gradient at β = 0 (intercept at its null value): λ_max and strong-rule candidates.
    const g0Host = await this.download(() => {
      const b0 = this.family === 'binomial' ? logit(this.ybar) : tf.zeros([1, B]);
      const r =
        this.family === 'gaussian'
          ? tf.mul(this.W, tf.sub(this.y, this.ybar))
          : tf.mul(this.W, tf.sub(this.y, tf.sigmoid(b0)));
      return tf.abs(grad(this.XT, this.M, this.S, this.U, r));
    });
    const inW = new Uint8Array(p);
    const wList: number[] = [];
    const addTop = (score: Float32Array, threshold: (b: number) => number): number => {
      let added = 0;
      const cand: number[] = [];
      for (let b = 0; b < B; b++) {
        cand.length = 0;
        const thr = threshold(b);
        for (let j = 0; j < p; j++) if (!inW[j] && score[j * B + b]! > thr) cand.push(j);
        cand.sort((u, v) => score[v * B + b]! - score[u * B + b]! || u - v);
        for (let q = 0; q < Math.min(PER_SUBSAMPLE_CAP, cand.length); q++) {
          const j = cand[q]!;
          if (!inW[j]) {
            inW[j] = 1;
            wList.push(j);
            added++;
          }
        }
      }
      return added;
    };
    const lmax = new Float64Array(B);
    for (let j = 0; j < p; j++) {
      for (let b = 0; b < B; b++) lmax[b] = Math.max(lmax[b]!, g0Host[j * B + b]!);
    }
    // Sequential strong rule from λ_max: |g_j| > l1·(2λ − λ_max).
    addTop(g0Host, b => Math.max(0, l1 * (2 * input.alpha - lmax[b]! / Math.max(l1, 1e-3))));
    if (wList.length === 0) {
      inW[0] = 1;
      wList.push(0);
    }

    let index: number[] = [];
    let beta: tf.Tensor2D | null = null;
    let b0: tf.Tensor2D =
      this.family === 'binomial' ? tf.tidy(() => logit(this.ybar)) : tf.zeros([1, B]);
    let iterations = 0;
    let converged = false;
    try {
      for (;;) {
        checkAbort(input.signal);
        const order = wList.slice().sort((u, v) => u - v);
        beta = await this.reseat(beta, index, order);
        index = order;
        const round = this.roundTensors(index);
        try {
          const res = await this.fista(round, beta, b0, maxIter - iterations);
          beta = res.beta;
          b0 = res.b0;
          iterations += res.iterations;
          // KKT check on every feature outside the working set.
          const vHost = await this.download(() => {
            const eta = predictor(round.X, round.M, round.S, beta!, b0, this.family === 'binomial');
            const g = tf.abs(grad(this.XT, this.M, this.S, this.U, this.residual(eta)));
            return tf.sub(g, this.a1 * (1 + KKT_SLACK) + 1e-7);
          });
          const added = addTop(vHost, () => 0);
          if (added === 0) {
            converged = res.converged;
            break;
          }
          if (iterations >= maxIter) break;
        } finally {
          round.dispose();
        }
      }
      return await this.collect(beta!, b0, index, iterations, converged);
    } finally {
      beta?.dispose();
      b0.dispose();
    }
  }

  /** Gathered working-set tensors and per-subsample step sizes for one round. */
  private roundTensors(index: number[]) {
    const idx = tf.tensor1d(Int32Array.from(index), 'int32');
    const XT = tf.gather(this.XT, idx) as tf.Tensor2D;
    const X = tf.transpose(XT) as tf.Tensor2D; // materialised: transposed matMul operands are slow on wasm
    const M = tf.gather(this.M, idx) as tf.Tensor2D;
    const S = tf.gather(this.S, idx) as tf.Tensor2D;
    const U = tf.gather(this.U, idx) as tf.Tensor2D;
    idx.dispose();
    const L = tf.tidy(() => {
      // Largest eigenvalue of each subsample's standardised weighted Gram (power iteration).
      let v: tf.Tensor = U;
      let ev: tf.Tensor = tf.ones([1, this.B]);
      for (let it = 0; it < POWER_ITERS; it++) {
        const vn = tf.div(v, tf.maximum(tf.norm(v, 'euclidean', 0, true), 1e-30));
        const z = gramTimes(X, XT, M, S, U, this.W, vn);
        ev = tf.norm(z, 'euclidean', 0, true);
        v = z;
      }
      // Logistic curvature ≤ 1/4; the intercept direction has curvature 1/4 too.
      const curv = this.family === 'binomial' ? tf.mul(tf.maximum(ev, 1), 0.25) : ev;
      return tf.add(tf.mul(curv, 1.02), this.a2);
    }) as tf.Tensor2D;
    const all = [XT, X, M, S, U, L];
    return { XT, X, M, S, U, L, dispose: () => all.forEach(t => t.dispose()) };
  }

  /** Move the previous solution onto a (grown) working set, zeros for the new features. */
  private async reseat(
    beta: tf.Tensor2D | null,
    from: number[],
    to: number[],
  ): Promise<tf.Tensor2D> {
    const B = this.B;
    const host = new Float32Array(to.length * B);
    if (beta) {
      const old = (await beta.data()) as Float32Array;
      beta.dispose();
      const row = new Map(from.map((j, r) => [j, r]));
      to.forEach((j, r) => {
        const o = row.get(j);
        if (o !== undefined) host.set(old.subarray(o * B, (o + 1) * B), r * B);
      });
    }
    return tf.tensor2d(host, [to.length, B]);
  }

  private async fista(
    round: ReturnType<BatchedSolver['roundTensors']>,
    beta0: tf.Tensor2D,
    b00: tf.Tensor2D,
    budget: number,
  ): Promise<{ beta: tf.Tensor2D; b0: tf.Tensor2D; iterations: number; converged: boolean }> {
    const binomial = this.family === 'binomial';
    const { a1, a2 } = this;
    let beta = beta0;
    let b0 = b00;
    let yk = tf.clone(beta);
    let yb0 = tf.clone(b0);
    let t: tf.Tensor2D = tf.ones([1, this.B]);
    let iterations = 0;
    let converged = false;
    try {
      while (iterations < budget) {
        iterations++;
        const next = tf.tidy(() => {
          const eta = predictor(round.X, round.M, round.S, yk, yb0, binomial);
          const r = this.residual(eta);
          const step = tf.reciprocal(round.L);
          // r is the weighted residual, so Xᵀr is the negative gradient.
          const z = tf.add(yk, tf.mul(grad(round.XT, round.M, round.S, round.U, r), step));
          const shrunk = tf.mul(tf.sign(z), tf.relu(tf.sub(tf.abs(z), tf.mul(step, a1))));
          const nb = tf.mul(tf.div(shrunk, tf.add(1, tf.mul(step, a2))), round.U) as tf.Tensor2D;
          const nb0 = (
            binomial ? tf.add(yb0, tf.mul(tf.sum(r, 0, true), step)) : tf.zerosLike(yb0)
          ) as tf.Tensor2D;
          const diff = tf.sub(nb, beta);
          // Restart momentum of a subsample when it points uphill (gradient scheme).
          const uphill = tf.greater(tf.sum(tf.mul(tf.sub(yk, nb), diff), 0, true), 0);
          const tNext = tf.div(tf.add(1, tf.sqrt(tf.add(1, tf.mul(4, tf.square(t))))), 2);
          const mom = tf.where(uphill, tf.zerosLike(t), tf.div(tf.sub(t, 1), tNext));
          const tNew = tf.where(uphill, tf.onesLike(t), tNext) as tf.Tensor2D;
          const ny = tf.add(nb, tf.mul(diff, mom)) as tf.Tensor2D;
          const ny0 = tf.add(nb0, tf.mul(tf.sub(nb0, b0), mom)) as tf.Tensor2D;
          const done = tf.all(tf.lessEqual(tf.max(tf.abs(diff), 0, true), this.tolB));
          return { nb, nb0, ny, ny0, tNew, done };
        });
        beta.dispose();
        b0.dispose();
        yk.dispose();
        yb0.dispose();
        t.dispose();
        beta = next.nb;
        b0 = next.nb0;
        yk = next.ny;
        yb0 = next.ny0;
        t = next.tNew;
        const check = iterations % CHECK_EVERY === 0;
        const done = check ? (await next.done.data())[0] : 0;
        next.done.dispose();
        if (check) checkAbort(this.input.signal);
        if (done) {
          converged = true;
          break;
        }
      }
    } finally {
      yk.dispose();
      yb0.dispose();
      t.dispose();
    }
    return { beta, b0, iterations, converged };
  }

  /** B × p coefficients (both scales) and original-scale intercepts on the host. */
  private async collect(
    beta: tf.Tensor2D,
    b0: tf.Tensor2D,
    index: number[],
    iterations: number,
    converged: boolean,
  ): Promise<Omit<BatchedElasticNetResult, 'backend'>> {
    const { p, B } = this;
    const idx = tf.tensor1d(Int32Array.from(index), 'int32');
    const [bH, b0H, mH, sH, ybH] = await Promise.all(
      [beta, b0, tf.gather(this.M, idx), tf.gather(this.S, idx), this.ybar].map(async (t, k) => {
        const d = (await t.data()) as Float32Array;
        if (k === 2 || k === 3) t.dispose();
        return d;
      }),
    );
    idx.dispose();
    const coef = new Float64Array(B * p);
    const coefOriginal = new Float64Array(B * p);
    const intercept = new Float64Array(B);
    for (let b = 0; b < B; b++) intercept[b] = this.family === 'gaussian' ? ybH![b]! : b0H![b]!;
    index.forEach((j, r) => {
      for (let b = 0; b < B; b++) {
        const v = bH![r * B + b]!;
        if (v === 0) continue;
        const orig = v / sH![r * B + b]!;
        coef[b * p + j] = v;
        coefOriginal[b * p + j] = orig;
        intercept[b] = intercept[b]! - orig * mH![r * B + b]!;
      }
    });
    return {
      nSubsamples: B,
      nFeatures: p,
      coef,
      coefOriginal,
      intercept,
      iterations,
      converged,
      workingSet: index.length,
    };
  }

  /** Run a tidy computation and bring its single result to the host. */
  private async download(fn: () => tf.Tensor): Promise<Float32Array> {
    const t = tf.tidy(fn);
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  }
}

/**
 * Linear predictors η (n × B) of standardised coefficients β (w × B): with θ = β / S,
 * η = Xθ − Σ_j M∘θ (+ b0 for the binomial; the Gaussian works on centred y).
 */
function predictor(
  X: tf.Tensor2D,
  M: tf.Tensor2D,
  S: tf.Tensor2D,
  beta: tf.Tensor,
  b0: tf.Tensor,
  withIntercept: boolean,
): tf.Tensor {
  const theta = tf.divNoNan(beta, S);
  const eta = tf.sub(tf.matMul(X, theta), tf.sum(tf.mul(M, theta), 0, true));
  return withIntercept ? tf.add(eta, b0) : eta;
}

/** x̃ᵀr per subsample: (Xᵀr − M∘Σr) / S, masked by U (w × B). */
function grad(
  XT: tf.Tensor2D,
  M: tf.Tensor2D,
  S: tf.Tensor2D,
  U: tf.Tensor2D,
  r: tf.Tensor,
): tf.Tensor {
  const g = tf.sub(tf.matMul(XT, r), tf.mul(M, tf.sum(r, 0, true)));
  return tf.mul(tf.divNoNan(g, S), U);
}

/** A_b v_b for A_b = X̃_bᵀ diag(w_b) X̃_b, all subsamples at once. */
function gramTimes(
  X: tf.Tensor2D,
  XT: tf.Tensor2D,
  M: tf.Tensor2D,
  S: tf.Tensor2D,
  U: tf.Tensor2D,
  W: tf.Tensor2D,
  v: tf.Tensor,
): tf.Tensor {
  const u = tf.mul(W, predictor(X, M, S, tf.mul(v, U), v, false));
  return grad(XT, M, S, U, u);
}

function logit(p: tf.Tensor): tf.Tensor2D {
  const q = tf.clipByValue(p, 1e-6, 1 - 1e-6);
  return tf.log(tf.div(q, tf.sub(1, q))) as tf.Tensor2D;
}
