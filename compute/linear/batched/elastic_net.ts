/**
 * Batched elastic net on the tensor backend: many subsamples of one dataset solved as ONE
 * computation (stability selection's workload). Float32, TensorFlow.js (native / wasm / cpu).
 *
 * STABLE API (called by compute/stability/batched.ts): keep this signature.
 *
 *   batchedElasticNet({ ds, subsamples, alpha, l1_ratio, family?, standardize?, maxIter?, tol?,
 *                       backend?, fista?, threads?, signal? }) → Promise<BatchedElasticNetResult>
 *
 * - ds: complete data (no NaN), outcome continuous (family 'gaussian') or binary ('binomial').
 * - subsamples: B arrays of row indices; a row listed twice counts twice (bootstrap weights).
 * - alpha, l1_ratio: the glmnet / scikit-learn penalty λ·(l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖²)
 *   on the MEAN loss over the subsample, features standardised per subsample (population sd)
 *   when `standardize` (default true): the same problem as `fitElnet` on that subsample.
 * - result.coef: B × p row-major coefficients on the standardised scale (float32 precision);
 *   coefOriginal / intercept on the original scale; backend: which tfjs backend ran; fista:
 *   where the iterations ran.
 *
 * Algorithm. Per-subsample moments (means, sds: p × B) and the KKT gradients of all features come
 * from GEMMs against the shared Xᵀ tensor (p × n) with an n × B weight matrix. The iterations run
 * on per-subsample working sets: each subsample's rows and its own working-set columns are
 * gathered into a [B × n_b × w] block (padded, masked), standardised on the device, and solved by
 * FISTA (Nesterov momentum, per-subsample adaptive restart, O'Donoghue & Candès 2015) with batched
 * matmuls — 2·B·n_b·w flops per iteration instead of 2·n·p·B. Step sizes 1/L_b from a batched power
 * iteration (1.02 margin). Working sets start from the sequential strong rule from λ_max
 * (at most n_b features per subsample) and grow with KKT violators (one p × n · n × B GEMM per
 * check) until none remain. Everything per iteration runs in tf.tidy. Each subsample stops on its
 * own test (max|Δβ| ≤ tol at a check) and is frozen from then on, so its result does not depend
 * on the other subsamples.
 *
 * Two engines for the FISTA iterations (`fista`). `tensor`: the batched tfjs ops above, for
 * native TensorFlow (CPU or GPU), where they are one fused device computation. `host`: the same
 * iteration one subsample at a time on float32 WebAssembly SIMD row kernels (host_fista.ts), the
 * blocks kept between rounds (a round appends only its new features), chunks of subsamples on
 * worker threads — the default on the wasm and pure-JS backends, where tfjs's batched
 * matrix-vector products ran at ~0.6 G multiply-adds/s: 100 subsamples of 100 × 2,000 took 15.6 s
 * with the tensor engine on wasm and 0.7–0.9 s with the host engine (500 × 20,000: 57 s → 5.1 s).
 * The KKT GEMMs run on the tfjs backend either way.
 */
import { type Dataset } from '../../core/dataset';
import { checkAbort } from '../../core/method';
import { topOrder } from '../../stats/selection';
import { defaultThreads, parallelMap } from '../../core/parallel';
import { alignUp, COL_ALIGN, ROW_ALIGN } from '../../kernels/f32-rows';
import {
  CHECK_EVERY,
  FISTA_CHUNK_MODULE,
  fistaChunk,
  type FistaChunk,
  type FistaChunkResult,
  POWER_ITERS,
} from './host_fista';
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
  /**
   * Where the FISTA iterations run: `tensor` (batched tfjs ops on the backend), `host` (one
   * subsample at a time on the float32 SIMD row kernels, host_fista.ts), `auto` (default):
   * tensor on native TensorFlow, host on the wasm and pure-JS backends, where tfjs's batched
   * matrix-vector products ran at ~0.6 G multiply-adds/s (see the module comment).
   */
  fista?: 'auto' | 'tensor' | 'host';
  /** Worker threads for the host iterations (default: all cores from HOST_THREAD_ENTRIES, else 1). */
  threads?: number;
  signal?: AbortSignal;
}

export interface BatchedElasticNetResult {
  backend: TensorBackendName;
  /** Where the FISTA iterations ran (the KKT products always run on `backend`). */
  fista: 'tensor' | 'host';
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
  /** Largest per-subsample working set (features the batched iterations touched). */
  workingSet: number;
}

/** KKT violators added per subsample and check. */
const ADD_PER_ROUND = 32;
/** Relative slack on the KKT check (float32 gradients are not exact). */
const KKT_SLACK = 1e-3;
/**
 * Block entries (subsamples × rows × width) from which the host FISTA round runs on worker
 * threads (each thread copies its chunks, ~1 ms per 4 MB, and pays its own JIT warm-up).
 */
const HOST_THREAD_ENTRIES = 2e5;

type Family = 'gaussian' | 'binomial';

export async function batchedElasticNet(
  input: BatchedElasticNetInput,
): Promise<BatchedElasticNetResult> {
  const { ds } = input;
  const o = ds.outcome;
  const family: Family | null =
    input.family ??
    (o.kind === 'continuous' ? 'gaussian' : o.kind === 'binary' ? 'binomial' : null);
  const y = o.kind === 'continuous' ? o.values : o.kind === 'binary' ? o.labels : null;
  if (!family || !y) throw new Error('batched elastic net needs a continuous or binary outcome');
  if (!(input.alpha >= 0)) throw new Error('alpha must be ≥ 0');
  if (input.subsamples.length === 0) throw new Error('batched elastic net needs subsamples');
  for (let i = 0; i < ds.data.length; i++) {
    if (Number.isNaN(ds.data[i]!)) {
      throw new Error('batched elastic net needs complete data (impute first)');
    }
  }
  checkAbort(input.signal);
  const backend = await initTensorBackend(input.backend ?? 'auto');
  const want = input.fista ?? 'auto';
  const fista = want === 'auto' ? (backend === 'tensorflow' ? 'tensor' : 'host') : want;
  const solver = new BatchedSolver(ds, Float64Array.from(y), input, family);
  try {
    return { backend, fista, ...(await solver.solve(fista)) };
  } finally {
    solver.dispose();
  }
}

/** The gathered per-subsample problem of one working-set round. */
interface Block {
  /** [B, nb, w] standardised, masked design and its transpose [B, w, nb]. */
  X: tf.Tensor3D;
  XT: tf.Tensor3D;
  /** [B, nb, 1] response (Gaussian: centred per subsample) and row weights (1/n_b, 0 = pad). */
  y: tf.Tensor3D;
  w: tf.Tensor3D;
  /** [B, w, 1] 1 for real, usable working-set columns. */
  U: tf.Tensor3D;
  /** [B, 1, 1] step sizes 1/L_b. */
  step: tf.Tensor3D;
  width: number;
  dispose(): void;
}

/**
 * For each subsample b, the features j with g[j·B + b] > bound[b] and not `blocked`, largest
 * first (ties by index), at most `cap`: one pass over the p × B gradients in memory order, then
 * a partial sort per subsample (topOrder) — a comparator sort of all p per subsample and round
 * cost more than the FISTA iterations at 200 × 2,000.
 */
function topViolators(
  g: Float32Array,
  p: number,
  B: number,
  bound: Float64Array,
  blocked: Uint8Array,
  cap: number,
): Int32Array[] {
  const scores = new Float64Array(B * p).fill(NaN);
  const count = new Int32Array(B);
  for (let j = 0; j < p; j++) {
    const row = j * B;
    for (let b = 0; b < B; b++) {
      const v = g[row + b]!;
      if (v > bound[b]! && !blocked[row + b]) {
        scores[b * p + j] = v;
        count[b]++;
      }
    }
  }
  return Array.from({ length: B }, (_, b) =>
    count[b]
      ? topOrder(scores.subarray(b * p, (b + 1) * p), Math.min(count[b]!, cap))
      : new Int32Array(0),
  );
}

/** The host path's per-subsample blocks, kept between rounds (see extendHostBlocks). */
interface HostBlocks {
  samples: number;
  X: Float32Array[];
  /** Working-set features already in each block. */
  done: Int32Array;
  y: Float32Array;
  w: Float32Array;
}

/** One round's working-set blocks on the host (see BatchedSolver.gather). */
interface Gathered {
  raw: Float32Array;
  mean: Float32Array;
  inv: Float32Array;
  colMask: Float32Array;
  yb: Float32Array;
  wb: Float32Array;
  width: number;
}

/** Owns every long-lived tensor of one batched solve; `dispose` releases them all. */
class BatchedSolver {
  private readonly n: number;
  private readonly p: number;
  private readonly B: number;
  private readonly nb: number;
  private readonly a1: number;
  private readonly a2: number;
  private readonly owned: tf.Tensor[] = [];
  /** Xᵀ (p × n): the column-major dataset is already this layout. */
  private readonly XT: tf.Tensor2D;
  private readonly x32: Float32Array;
  private hostBlocks: HostBlocks | null = null;
  /** Per-subsample means / sds (p × B) and their host copies. */
  private readonly M: tf.Tensor2D;
  private readonly S: tf.Tensor2D;
  private mHost!: Float32Array;
  private sHost!: Float32Array;
  /** Rows of each subsample (padded to nb with −1) and the subsample means of y. */
  private readonly rows: Int32Array;
  private readonly ybar: Float64Array;
  private readonly tolB: Float64Array;

  constructor(
    ds: Dataset,
    private readonly yv: Float64Array,
    private readonly input: BatchedElasticNetInput,
    private readonly family: Family,
  ) {
    const n = (this.n = ds.nSamples);
    const p = (this.p = ds.nFeatures);
    const subsamples = input.subsamples;
    const B = (this.B = subsamples.length);
    this.a1 = input.alpha * input.l1_ratio;
    this.a2 = input.alpha * (1 - input.l1_ratio);
    this.x32 = Float32Array.from(ds.data);
    let nb = 0;
    for (const s of subsamples) nb = Math.max(nb, s.length);
    this.nb = nb;
    this.rows = new Int32Array(B * nb).fill(-1);
    this.ybar = new Float64Array(B);
    this.tolB = new Float64Array(B);
    const tol = input.tol ?? 1e-5;
    const wHost = new Float32Array(n * B);
    subsamples.forEach((idx, b) => {
      let s = 0;
      let s2 = 0;
      for (let t = 0; t < idx.length; t++) {
        const i = idx[t]!;
        this.rows[b * nb + t] = i;
        wHost[i * B + b] += 1 / idx.length;
        s += yv[i]!;
        s2 += yv[i]! * yv[i]!;
      }
      const m = s / idx.length;
      this.ybar[b] = m;
      const sd = Math.sqrt(Math.max(0, s2 / idx.length - m * m));
      this.tolB[b] = tol * (family === 'gaussian' ? sd || 1 : 1);
    });
    const standardize = input.standardize ?? true;
    this.XT = this.own(tf.tensor2d(this.x32, [p, n]));
    const W = tf.tensor2d(wHost, [n, B]);
    this.M = this.own(tf.matMul(this.XT, W) as tf.Tensor2D);
    this.S = this.own(
      tf.tidy(() => {
        if (!standardize) return tf.ones([p, B]) as tf.Tensor2D;
        const sq = tf.matMul(tf.square(this.XT), W);
        return tf.sqrt(tf.relu(tf.sub(sq, tf.square(this.M)))) as tf.Tensor2D;
      }),
    );
    W.dispose();
  }

  private own<T extends tf.Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  dispose(): void {
    this.owned.forEach(t => t.dispose());
    this.owned.length = 0;
  }

  async solve(
    fista: 'tensor' | 'host',
  ): Promise<Omit<BatchedElasticNetResult, 'backend' | 'fista'>> {
    const { p, B, nb, input } = this;
    const maxIter = input.maxIter ?? 5000;
    this.mHost = (await this.M.data()) as Float32Array;
    this.sHost = (await this.S.data()) as Float32Array;
    // blocked[j·B + b]: feature j is in subsample b's working set, or constant there.
    const blocked = new Uint8Array(p * B);
    for (let i = 0; i < p * B; i++) blocked[i] = this.sHost[i]! > 1e-6 ? 0 : 1;
    // β per subsample as sparse maps (feature → value), the state between rounds.
    const beta: Map<number, number>[] = Array.from({ length: B }, () => new Map());
    const b0 = new Float64Array(B);
    if (this.family === 'binomial') {
      for (let b = 0; b < B; b++) {
        const q = Math.min(Math.max(this.ybar[b]!, 1e-6), 1 - 1e-6);
        b0[b] = Math.log(q / (1 - q));
      }
    }
    // Gradient at β = 0 for every feature: λ_max per subsample and the strong rule from it.
    const g0 = await this.kktGradient(beta, b0);
    const l1 = input.l1_ratio;
    const lmax = new Float64Array(B);
    for (let i = 0; i < p * B; i++) lmax[i % B] = Math.max(lmax[i % B]!, g0[i]!);
    const strong = lmax.map(m => Math.max(0, l1 * (2 * input.alpha - m / Math.max(l1, 1e-3))));
    const sets: number[][] = Array.from({ length: B }, () => []);
    const join = (b: number, top: Int32Array): void => {
      for (const j of top) {
        sets[b]!.push(j);
        blocked[j * B + b] = 1;
      }
    };
    topViolators(g0, p, B, strong, blocked, nb).forEach((top, b) => join(b, top));
    let iterations = 0;
    let converged = false;
    for (;;) {
      checkAbort(input.signal);
      let res: { iterations: number; converged: boolean };
      if (fista === 'host') res = await this.fistaHost(sets, beta, b0, maxIter - iterations);
      else {
        const block = this.block(sets);
        try {
          res = await this.fista(block, sets, beta, b0, maxIter - iterations);
        } finally {
          block.dispose();
        }
      }
      iterations += res.iterations;
      // KKT over all features: violators join their subsample's working set.
      const g = await this.kktGradient(beta, b0);
      const bound = new Float64Array(B).fill(this.a1 * (1 + KKT_SLACK) + 1e-7);
      let added = 0;
      topViolators(g, p, B, bound, blocked, ADD_PER_ROUND).forEach((top, b) => {
        join(b, top);
        added += top.length;
      });
      if (added === 0) {
        converged = res.converged;
        break;
      }
      if (iterations >= maxIter) break;
    }
    return this.collect(beta, b0, sets, iterations, converged);
  }

  /**
   * |x̃_jᵀ r_b| for every feature and subsample (p × B, host) at the current coefficients: the
   * residuals are formed on the host (sparse β) and the products are one GEMM against Xᵀ.
   */
  private async kktGradient(beta: Map<number, number>[], b0: Float64Array): Promise<Float32Array> {
    const { n, p, B, nb } = this;
    const R = new Float32Array(n * B);
    const eta = new Float64Array(nb);
    for (let b = 0; b < B; b++) {
      eta.fill(this.family === 'binomial' ? b0[b]! : 0);
      for (const [j, v] of beta[b]!) {
        if (v === 0) continue;
        const theta = v / this.sHost[j * B + b]!;
        const shift = theta * this.mHost[j * B + b]!;
        for (let t = 0; t < nb; t++) {
          const i = this.rows[b * nb + t]!;
          if (i >= 0) eta[t] = eta[t]! + theta * this.x32[j * n + i]! - shift;
        }
      }
      const size = this.input.subsamples[b]!.length;
      for (let t = 0; t < size; t++) {
        const i = this.rows[b * nb + t]!;
        const r =
          this.family === 'gaussian'
            ? this.yv[i]! - this.ybar[b]! - eta[t]!
            : this.yv[i]! - 1 / (1 + Math.exp(-eta[t]!));
        R[i * B + b] += r / size;
      }
    }
    const g = tf.tidy(() => {
      const Rt = tf.tensor2d(R, [n, B]);
      const raw = tf.sub(tf.matMul(this.XT, Rt), tf.mul(this.M, tf.sum(Rt, 0, true)));
      return tf.abs(tf.divNoNan(raw, this.S));
    });
    try {
      const out = (await g.data()) as Float32Array;
      return out.length === p * B ? out : Float32Array.from(out);
    } finally {
      g.dispose();
    }
  }

  /**
   * Each subsample's rows × working-set columns on the host, raw (float32), with the per-column
   * mean / inverse sd / mask and per-row response / weight; padded to n_b × the widest set
   * (zeros in the padding).
   */
  private gather(sets: number[][]): Gathered {
    const { n, B, nb } = this;
    let width = 1;
    for (const s of sets) width = Math.max(width, s.length);
    const raw = new Float32Array(B * nb * width);
    const mean = new Float32Array(B * width);
    const inv = new Float32Array(B * width);
    const colMask = new Float32Array(B * width);
    const yb = new Float32Array(B * nb);
    const wb = new Float32Array(B * nb);
    for (let b = 0; b < B; b++) {
      const set = sets[b]!;
      const size = this.input.subsamples[b]!.length;
      for (let k = 0; k < set.length; k++) {
        const j = set[k]!;
        const sd = this.sHost[j * B + b]!;
        if (!(sd > 1e-6)) continue;
        mean[b * width + k] = this.mHost[j * B + b]!;
        inv[b * width + k] = 1 / sd;
        colMask[b * width + k] = 1;
        const col = j * n;
        for (let t = 0; t < size; t++) {
          raw[(b * nb + t) * width + k] = this.x32[col + this.rows[b * nb + t]!]!;
        }
      }
      for (let t = 0; t < size; t++) {
        const i = this.rows[b * nb + t]!;
        yb[b * nb + t] = this.family === 'gaussian' ? this.yv[i]! - this.ybar[b]! : this.yv[i]!;
        wb[b * nb + t] = 1 / size;
      }
    }
    return { raw, mean, inv, colMask, yb, wb, width };
  }

  /** The gathered block standardised and masked on the device, with its step sizes. */
  private block(sets: number[][]): Block {
    const { B, nb } = this;
    const { raw, mean, inv, colMask, yb, wb, width } = this.gather(sets);
    const binomial = this.family === 'binomial';
    const t = tf.tidy(() => {
      const rowMask = tf.cast(tf.greater(tf.tensor3d(wb, [B, nb, 1]), 0), 'float32');
      const cm = tf.tensor3d(colMask, [B, 1, width]);
      const X = tf.mul(
        tf.mul(
          tf.sub(tf.tensor3d(raw, [B, nb, width]), tf.tensor3d(mean, [B, 1, width])),
          tf.tensor3d(inv, [B, 1, width]),
        ),
        tf.mul(rowMask, cm),
      ) as tf.Tensor3D;
      const XT = tf.transpose(X, [0, 2, 1]) as tf.Tensor3D; // materialised (see compute-notes)
      const w = tf.tensor3d(wb, [B, nb, 1]);
      // Largest eigenvalue of each subsample's X̃ᵀdiag(w)X̃ by power iteration.
      let v: tf.Tensor = tf.reshape(cm, [B, width, 1]);
      let ev: tf.Tensor = tf.ones([B, 1, 1]);
      for (let it = 0; it < POWER_ITERS; it++) {
        const vn = tf.div(v, tf.maximum(tf.norm(v, 'euclidean', 1, true), 1e-30));
        const z = tf.matMul(XT, tf.mul(w, tf.matMul(X, vn)));
        ev = tf.norm(z, 'euclidean', 1, true);
        v = z;
      }
      // Logistic curvature ≤ 1/4, the intercept direction's is 1/4 too.
      const curv = binomial ? tf.mul(tf.maximum(ev, 1), 0.25) : ev;
      const step = tf.reciprocal(tf.add(tf.mul(curv, 1.02), this.a2)) as tf.Tensor3D;
      return {
        X,
        XT,
        y: tf.tensor3d(yb, [B, nb, 1]),
        w,
        U: tf.reshape(cm, [B, width, 1]) as tf.Tensor3D,
        step,
      };
    });
    const all = [t.X, t.XT, t.y, t.w, t.U, t.step];
    return { ...t, width, dispose: () => all.forEach(x => x.dispose()) };
  }

  /**
   * Appends each subsample's new working-set features to its host block (host_fista.ts layout:
   * one row per feature, standardised in float32 with the tensor path's two roundings, (x − m)
   * then · (1/sd)). Rows of earlier rounds stay where they are: a round gathers only its new
   * features (a full re-gather per round cost more than the rounds' iterations at 200 × 2,000).
   */
  private extendHostBlocks(sets: number[][]): HostBlocks {
    const { n, B, nb } = this;
    const S = alignUp(nb, COL_ALIGN);
    const hb = (this.hostBlocks ??= {
      samples: S,
      X: Array.from({ length: B }, () => new Float32Array(0)),
      done: new Int32Array(B),
      y: new Float32Array(B * S),
      w: new Float32Array(B * S),
    });
    for (let b = 0; b < B; b++) {
      const set = sets[b]!;
      const size = this.input.subsamples[b]!.length;
      if (hb.done[b] === 0) {
        for (let t = 0; t < size; t++) {
          const i = this.rows[b * nb + t]!;
          hb.y[b * S + t] = this.family === 'gaussian' ? this.yv[i]! - this.ybar[b]! : this.yv[i]!;
          hb.w[b * S + t] = 1 / size;
        }
      }
      const need = alignUp(Math.max(set.length, 1), ROW_ALIGN) * S;
      if (hb.X[b]!.length < need) {
        // room for this round's features and about as many more
        const grown = new Float32Array(Math.max(need, 2 * hb.X[b]!.length));
        grown.set(hb.X[b]!);
        hb.X[b] = grown;
      }
      const X = hb.X[b]!;
      for (let k = hb.done[b]!; k < set.length; k++) {
        const j = set[k]!;
        const sd = this.sHost[j * B + b]!;
        if (!(sd > 1e-6)) continue; // never joins a set (blocked); a zero row if it did
        const m = this.mHost[j * B + b]!;
        const inv = Math.fround(1 / sd);
        const col = j * n;
        const row = k * S;
        for (let t = 0; t < size; t++) {
          X[row + t] = Math.fround(this.x32[col + this.rows[b * nb + t]!]! - m) * inv;
        }
      }
      hb.done[b] = set.length;
    }
    return hb;
  }

  /**
   * One round's FISTA on the host (host_fista.ts) on the blocks of extendHostBlocks: chunks of
   * subsamples, on worker threads when large.
   */
  private async fistaHost(
    sets: number[][],
    betaMaps: Map<number, number>[],
    b0Host: Float64Array,
    budget: number,
  ): Promise<{ iterations: number; converged: boolean }> {
    const { B } = this;
    const hb = this.extendHostBlocks(sets);
    const S = hb.samples;
    const features = Int32Array.from(sets, set => alignUp(Math.max(set.length, 1), ROW_ALIGN));
    const offset = new Int32Array(B + 1);
    for (let b = 0; b < B; b++) offset[b + 1] = offset[b]! + features[b]!;
    const start = new Float32Array(offset[B]!);
    const colMask = new Float32Array(offset[B]!);
    sets.forEach((set, b) =>
      set.forEach((j, k) => {
        start[offset[b]! + k] = betaMaps[b]!.get(j) ?? 0;
        colMask[offset[b]! + k] = this.sHost[j * B + b]! > 1e-6 ? 1 : 0;
      }),
    );
    let entries = 0;
    for (const f of features) entries += f * S;
    const threads = this.input.threads ?? (entries >= HOST_THREAD_ENTRIES ? defaultThreads() : 1);
    // Worker threads get copies (a structured clone of a view copies its whole buffer).
    const copy = threads > 1;
    const cut = <T extends Float32Array | Float64Array>(a: T, lo: number, hi: number): T =>
      (copy ? a.slice(lo, hi) : a.subarray(lo, hi)) as T;
    const chunk = (lo: number, hi: number): FistaChunk => ({
      count: hi - lo,
      samples: S,
      X: hb.X.slice(lo, hi).map((x, q) => cut(x, 0, features[lo + q]! * S)),
      features: features.slice(lo, hi),
      y: cut(hb.y, lo * S, hi * S),
      w: cut(hb.w, lo * S, hi * S),
      colMask: cut(colMask, offset[lo]!, offset[hi]!),
      beta: cut(start, offset[lo]!, offset[hi]!),
      b0: b0Host.slice(lo, hi),
      tol: this.tolB.slice(lo, hi),
      a1: this.a1,
      a2: this.a2,
      binomial: this.family === 'binomial',
      budget,
    });
    let parts: FistaChunkResult[];
    if (threads <= 1) parts = [fistaChunk(chunk(0, B), this.input.signal)];
    else {
      // Four chunks per thread: the subsamples' iteration counts differ, and the pool checks the
      // abort signal between chunks.
      const size = Math.ceil(B / (threads * 4));
      const chunks: FistaChunk[] = [];
      for (let lo = 0; lo < B; lo += size) chunks.push(chunk(lo, Math.min(B, lo + size)));
      parts = await parallelMap<FistaChunk, FistaChunkResult>(
        FISTA_CHUNK_MODULE,
        'fistaChunk',
        chunks,
        { threads, signal: this.input.signal },
      );
    }
    let iterations = 0;
    let converged = true;
    let b = 0;
    for (const part of parts) {
      let off = 0;
      for (let q = 0; q < part.b0.length; q++, b++) {
        const m = betaMaps[b]!;
        sets[b]!.forEach((j, k) => {
          const v = part.beta[off + k]!;
          if (v === 0) m.delete(j);
          else m.set(j, v);
        });
        off += features[b]!;
        b0Host[b] = part.b0[q]!;
        iterations = Math.max(iterations, part.iterations[q]!);
        converged &&= part.converged[q] === 1;
      }
    }
    return { iterations, converged };
  }

  /** FISTA on the gathered block, warm-started from (and writing back to) the sparse β maps. */
  private async fista(
    blk: Block,
    sets: number[][],
    betaMaps: Map<number, number>[],
    b0Host: Float64Array,
    budget: number,
  ): Promise<{ iterations: number; converged: boolean }> {
    const { B } = this;
    const width = blk.width;
    const binomial = this.family === 'binomial';
    const { a1, a2 } = this;
    const start = new Float32Array(B * width);
    sets.forEach((set, b) =>
      set.forEach((j, k) => (start[b * width + k] = betaMaps[b]!.get(j) ?? 0)),
    );
    let beta = tf.tensor3d(start, [B, width, 1]);
    let b0 = tf.tensor3d(Float32Array.from(b0Host), [B, 1, 1]);
    let yk = tf.clone(beta);
    let yb0 = tf.clone(b0);
    let t = tf.ones([B, 1, 1]) as tf.Tensor3D;
    // Subsamples still iterating: each stops on its own test and is then frozen, as on the host
    // path (host_fista.ts), so its result does not depend on the other subsamples.
    let active = tf.ones([B, 1, 1], 'bool') as tf.Tensor3D;
    // Per-block constants of the proximal step: threshold τ = step·λ·l1_ratio and the ridge
    // shrink U / (1 + step·λ·(1 − l1_ratio)) (zero on padded columns).
    const consts = tf.tidy(() => ({
      tol: tf.tensor3d(Float32Array.from(this.tolB), [B, 1, 1]),
      tau: tf.mul(blk.step, a1),
      negTau: tf.mul(blk.step, -a1),
      shrink: tf.div(blk.U, tf.add(1, tf.mul(blk.step, a2))),
    }));
    let iterations = 0;
    let converged = false;
    try {
      while (iterations < budget) {
        iterations++;
        const check = iterations % CHECK_EVERY === 0;
        const next = tf.tidy(() => {
          let eta: tf.Tensor = tf.matMul(blk.X, yk);
          if (binomial) eta = tf.sigmoid(tf.add(eta, yb0));
          const r = tf.mul(blk.w, tf.sub(blk.y, eta));
          // r is the weighted residual, so X̃ᵀr is the negative gradient of the mean loss.
          const z = tf.add(yk, tf.mul(tf.matMul(blk.XT, r), blk.step));
          // soft-threshold: z − clip(z, −τ, τ), then the ridge shrink.
          const clipped = tf.minimum(tf.maximum(z, consts.negTau), consts.tau);
          const nb = tf.mul(tf.sub(z, clipped), consts.shrink) as tf.Tensor3D;
          const nb0 = (
            binomial ? tf.add(yb0, tf.mul(tf.sum(r, 1, true), blk.step)) : tf.clone(yb0)
          ) as tf.Tensor3D;
          const diff = tf.sub(nb, beta);
          // Restart a subsample's momentum when it points uphill (gradient scheme).
          const uphill = tf.greater(tf.sum(tf.mul(tf.sub(yk, nb), diff), 1, true), 0);
          const tNext = tf.div(tf.add(1, tf.sqrt(tf.add(1, tf.mul(4, tf.square(t))))), 2);
          const mom = tf.where(uphill, tf.zerosLike(t), tf.div(tf.sub(t, 1), tNext));
          const tNew = tf.where(uphill, tf.onesLike(t), tNext);
          const ny = tf.add(nb, tf.mul(diff, mom));
          const ny0 = binomial ? tf.add(nb0, tf.mul(tf.sub(nb0, b0), mom)) : tf.clone(nb0);
          const keep = <T extends tf.Tensor>(u: T, old: T): T =>
            tf.where(tf.broadcastTo(active, u.shape), u, old) as T;
          // A subsample that passes its test at a check keeps this iteration's β, then stops.
          const stillActive = check
            ? tf.logicalAnd(active, tf.greater(tf.max(tf.abs(diff), 1, true), consts.tol))
            : tf.clone(active);
          return {
            nb: keep(nb, beta),
            nb0: keep(nb0, b0),
            ny: keep(ny as tf.Tensor3D, yk),
            ny0: keep(ny0 as tf.Tensor3D, yb0),
            tNew: keep(tNew as tf.Tensor3D, t),
            active: stillActive as tf.Tensor3D,
            // 0 = not checked this iteration (a tensor only when checking).
            done: check ? tf.logicalNot(tf.any(stillActive)) : 0,
          };
        });
        [beta, b0, yk, yb0, t, active].forEach(x => x.dispose());
        beta = next.nb;
        b0 = next.nb0;
        yk = next.ny;
        yb0 = next.ny0;
        t = next.tNew;
        active = next.active;
        if (typeof next.done !== 'number') {
          const done = (await next.done.data())[0];
          next.done.dispose();
          checkAbort(this.input.signal);
          if (done) {
            converged = true;
            break;
          }
        }
      }
      const bh = (await beta.data()) as Float32Array;
      const b0h = (await b0.data()) as Float32Array;
      sets.forEach((set, b) => {
        const m = betaMaps[b]!;
        set.forEach((j, k) => {
          const v = bh[b * width + k]!;
          if (v === 0) m.delete(j);
          else m.set(j, v);
        });
        b0Host[b] = b0h[b]!;
      });
    } finally {
      [beta, b0, yk, yb0, t, active, consts.tol, consts.tau, consts.negTau, consts.shrink].forEach(
        x => x.dispose(),
      );
    }
    return { iterations, converged };
  }

  /** B × p coefficients (both scales) and original-scale intercepts on the host. */
  private collect(
    beta: Map<number, number>[],
    b0: Float64Array,
    sets: number[][],
    iterations: number,
    converged: boolean,
  ): Omit<BatchedElasticNetResult, 'backend' | 'fista'> {
    const { p, B } = this;
    const coef = new Float64Array(B * p);
    const coefOriginal = new Float64Array(B * p);
    const intercept = new Float64Array(B);
    let workingSet = 0;
    for (let b = 0; b < B; b++) {
      workingSet = Math.max(workingSet, sets[b]!.length);
      intercept[b] = this.family === 'gaussian' ? this.ybar[b]! : b0[b]!;
      for (const [j, v] of beta[b]!) {
        const orig = v / this.sHost[j * B + b]!;
        coef[b * p + j] = v;
        coefOriginal[b * p + j] = orig;
        intercept[b] = intercept[b]! - orig * this.mHost[j * B + b]!;
      }
    }
    return {
      nSubsamples: B,
      nFeatures: p,
      coef,
      coefOriginal,
      intercept,
      iterations,
      converged,
      workingSet,
    };
  }
}
