/**
 * The FISTA rounds of the batched elastic net on the host (wasm / pure-JS tfjs backends): the same
 * float32 iteration as the tensor path in elastic_net.ts — step 1/L_b from a power iteration with
 * a 1.02 margin, soft-threshold and ridge shrink, per-subsample gradient-scheme restart, stop when
 * max|Δβ| ≤ tol at a check every CHECK_EVERY iterations — run one subsample at a time, so that
 * subsample's [n_b × w] block stays in cache for all of its iterations and its two products per
 * iteration run on the SIMD kernels of compute/kernels/f32-rows.ts.
 *
 * Each subsample stops on its own test (the tensor path freezes finished subsamples the same way),
 * so a subsample's result does not depend on the others, on the chunking or on the thread count.
 * `fistaChunk` is a thread-pool task (compute/core/parallel.ts): plain typed arrays in and out.
 */
import { checkAbort } from '../../core/method';
import { F32RowBlock } from '../../kernels/f32-rows';

/** This module, for compute/core/parallel.ts. */
export const FISTA_CHUNK_MODULE = __filename;

/** Iterations between convergence checks (the tensor path's device → host sync interval). */
export const CHECK_EVERY = 10;
/** Power iterations for the largest eigenvalue of X̃ᵀdiag(w)X̃. */
export const POWER_ITERS = 20;

/** Subsamples [start, start + count) of one round, gathered and standardised (float32). */
export interface FistaChunk {
  count: number;
  /** Padded block shape: rows a multiple of 4, width a multiple of 16 (zeros in the padding). */
  rows: number;
  width: number;
  /** [count, rows, width] standardised, masked design. */
  X: Float32Array;
  /** [count, rows] response (Gaussian: centred per subsample) and row weights (1/n_b, 0 = pad). */
  y: Float32Array;
  w: Float32Array;
  /** [count, width] 1 for real, usable working-set columns. */
  colMask: Float32Array;
  /** [count, width] warm start, [count] intercepts (binomial; Gaussian: unused). */
  beta: Float32Array;
  b0: Float64Array;
  /** [count] per-subsample stopping tolerance on max|Δβ|. */
  tol: Float64Array;
  a1: number;
  a2: number;
  binomial: boolean;
  /** Iterations allowed per subsample in this round. */
  budget: number;
}

export interface FistaChunkResult {
  beta: Float32Array;
  b0: Float64Array;
  iterations: Int32Array;
  converged: Uint8Array;
}

/** The working arrays of one subsample's iterations, reused across the chunk. */
class SubsampleState {
  readonly beta: Float32Array;
  readonly yk: Float32Array;
  readonly next: Float32Array;

  constructor(width: number) {
    this.beta = new Float32Array(width);
    this.yk = new Float32Array(width);
    this.next = new Float32Array(width);
  }
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function norm(v: Float32Array): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k]! * v[k]!;
  return Math.sqrt(s);
}

/** 1/L_b for the block in `blk`: the tensor path's power iteration, on the row kernels. */
function stepSize(blk: F32RowBlock, w: Float32Array, mask: Float32Array, c: FistaChunk): number {
  blk.g.set(mask);
  let ev = 1;
  for (let it = 0; it < POWER_ITERS; it++) {
    const inv = 1 / Math.max(norm(blk.g), 1e-30);
    for (let k = 0; k < blk.width; k++) blk.v[k] = blk.g[k]! * inv;
    blk.dots();
    for (let t = 0; t < blk.rows; t++) blk.r[t] = w[t]! * blk.out[t]!;
    blk.rowsT();
    ev = norm(blk.g);
  }
  // Logistic curvature ≤ 1/4, the intercept direction's too.
  const curv = c.binomial ? 0.25 * Math.max(ev, 1) : ev;
  return 1 / (curv * 1.02 + c.a2);
}

/** FISTA on every subsample of the chunk, one after another (see the module comment). */
export function fistaChunk(c: FistaChunk, signal?: AbortSignal): FistaChunkResult {
  const { count, rows, width, binomial, a1 } = c;
  const blk = new F32RowBlock(rows, width);
  const st = new SubsampleState(width);
  const beta = new Float32Array(count * width);
  const b0Out = new Float64Array(count);
  const iterations = new Int32Array(count);
  const converged = new Uint8Array(count);
  for (let b = 0; b < count; b++) {
    blk.x.set(c.X.subarray(b * rows * width, (b + 1) * rows * width));
    const y = c.y.subarray(b * rows, (b + 1) * rows);
    const w = c.w.subarray(b * rows, (b + 1) * rows);
    const mask = c.colMask.subarray(b * width, (b + 1) * width);
    const step = stepSize(blk, w, mask, c);
    const tau = step * a1;
    const shrink = 1 / (1 + step * c.a2);
    st.beta.set(c.beta.subarray(b * width, (b + 1) * width));
    st.yk.set(st.beta);
    let b0 = c.b0[b]!;
    let yb0 = b0;
    let t = 1;
    let it = 0;
    while (it < c.budget) {
      it++;
      // r = w ⊙ (y − η) at the extrapolated point: the negative gradient of the mean loss is X̃ᵀr.
      blk.v.set(st.yk);
      blk.dots();
      let rSum = 0;
      for (let i = 0; i < rows; i++) {
        const eta = binomial ? sigmoid(blk.out[i]! + yb0) : blk.out[i]!;
        const r = Math.fround(w[i]! * (y[i]! - eta));
        blk.r[i] = r;
        rSum += r;
      }
      blk.rowsT();
      // soft-threshold, ridge shrink, and the restart test Σ(y_k − β_new)·(β_new − β) > 0
      let uphill = 0;
      let maxDiff = 0;
      for (let k = 0; k < width; k++) {
        const z = st.yk[k]! + step * blk.g[k]!;
        const soft = z > tau ? z - tau : z < -tau ? z + tau : 0;
        const nb = Math.fround(soft * shrink * mask[k]!);
        const diff = nb - st.beta[k]!;
        uphill += (st.yk[k]! - nb) * diff;
        maxDiff = Math.max(maxDiff, Math.abs(diff));
        st.next[k] = nb;
      }
      const nb0 = binomial ? yb0 + rSum * step : yb0;
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const mom = uphill > 0 ? 0 : (t - 1) / tNext;
      t = uphill > 0 ? 1 : tNext;
      for (let k = 0; k < width; k++) {
        const nb = st.next[k]!;
        st.yk[k] = nb + (nb - st.beta[k]!) * mom;
        st.beta[k] = nb;
      }
      yb0 = binomial ? nb0 + (nb0 - b0) * mom : nb0;
      b0 = nb0;
      if (it % CHECK_EVERY === 0) {
        checkAbort(signal);
        if (maxDiff <= c.tol[b]!) {
          converged[b] = 1;
          break;
        }
      }
    }
    beta.set(st.beta, b * width);
    b0Out[b] = b0;
    iterations[b] = it;
  }
  return { beta, b0: b0Out, iterations, converged };
}
