/**
 * The FISTA rounds of the batched elastic net on the host (wasm / pure-JS tfjs backends): the same
 * float32 iteration as the tensor path in elastic_net.ts — step 1/L_b from a power iteration with
 * a 1.02 margin, soft-threshold and ridge shrink, per-subsample gradient-scheme restart, stop when
 * max|Δβ| ≤ tol at a check every CHECK_EVERY iterations — run one subsample at a time, so that
 * subsample's block (working-set features × samples) stays in cache for all of its iterations and
 * its two products per iteration run on the SIMD kernels of compute/kernels/f32-rows.ts.
 *
 * Each subsample stops on its own test (the tensor path freezes finished subsamples the same way),
 * so a subsample's result does not depend on the others, on the chunking or on the thread count.
 * `fistaChunk` is a thread-pool task (compute/core/parallel.ts): plain typed arrays in and out.
 */
import { checkAbort } from '../../core/method';
import { F32RowBlock, ROW_ALIGN } from '../../kernels/f32-rows';

/** This module, for compute/core/parallel.ts. */
export const FISTA_CHUNK_MODULE = __filename;

/** Iterations between convergence checks (the tensor path's device → host sync interval). */
export const CHECK_EVERY = 10;
/** Power iterations for the largest eigenvalue of X̃ᵀdiag(w)X̃. */
export const POWER_ITERS = 20;

/**
 * Subsamples of one round. Each subsample's block is its design transposed: one row per
 * working-set feature (standardised, float32), one column per sample slot — the layout in which
 * a round's new features are appended without moving the old ones (elastic_net.ts keeps the
 * blocks between rounds). Per-subsample vectors over features (mask, β) are concatenated, the
 * subsample's part starting at the sum of the earlier `features`.
 */
export interface FistaChunk {
  count: number;
  /** Sample slots per block row (a multiple of 16; zeros past the subsample's size). */
  samples: number;
  /** Per subsample: features_b × samples, row-major (at least that many entries). */
  X: Float32Array[];
  /** Per subsample: block rows (a multiple of 4; zero rows past the working set). */
  features: Int32Array;
  /** [count, samples] response (Gaussian: centred per subsample) and weights (1/n_b, 0 = pad). */
  y: Float32Array;
  w: Float32Array;
  /** Concatenated per-subsample: 1 for real, usable working-set features. */
  colMask: Float32Array;
  /** Concatenated per-subsample warm start; [count] intercepts (binomial; Gaussian: unused). */
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
  /** Concatenated as FistaChunk.beta. */
  beta: Float32Array;
  b0: Float64Array;
  iterations: Int32Array;
  converged: Uint8Array;
}

/** This thread's block, reused across chunks and rounds (each is a WebAssembly memory). */
let kept: F32RowBlock | null = null;
function rowBlock(rows: number, width: number): F32RowBlock {
  if (!kept || kept.width !== width || kept.rows < rows) kept = new F32RowBlock(rows, width);
  return kept;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function norm(v: Float32Array, len: number): number {
  let s = 0;
  for (let k = 0; k < len; k++) s += v[k]! * v[k]!;
  return Math.sqrt(s);
}

/**
 * 1/L_b for the block in `blk` (f feature rows): the tensor path's power iteration on
 * X̃ᵀdiag(w)X̃. X̃v = blkᵀv is rowsT (v in r, result in g); X̃ᵀu is dots (u in v, result in out).
 */
function stepSize(blk: F32RowBlock, f: number, w: Float32Array, mask: Float32Array, c: FistaChunk) {
  const S = c.samples;
  blk.out.set(mask.subarray(0, f));
  let ev = 1;
  for (let it = 0; it < POWER_ITERS; it++) {
    const inv = 1 / Math.max(norm(blk.out, f), 1e-30);
    for (let k = 0; k < f; k++) blk.r[k] = blk.out[k]! * inv;
    blk.rowsT(f);
    for (let t = 0; t < S; t++) blk.v[t] = w[t]! * blk.g[t]!;
    blk.dots(f);
    ev = norm(blk.out, f);
  }
  // Logistic curvature ≤ 1/4, the intercept direction's too.
  const curv = c.binomial ? 0.25 * Math.max(ev, 1) : ev;
  return 1 / (curv * 1.02 + c.a2);
}

/** FISTA on every subsample of the chunk, one after another (see the module comment). */
export function fistaChunk(c: FistaChunk, signal?: AbortSignal): FistaChunkResult {
  const { count, samples: S, binomial, a1 } = c;
  let maxF = ROW_ALIGN;
  for (const f of c.features) maxF = Math.max(maxF, f);
  const blk = rowBlock(maxF, S);
  const beta = new Float32Array(c.beta.length);
  const yk = new Float32Array(maxF);
  const next = new Float32Array(maxF);
  const b0Out = new Float64Array(count);
  const iterations = new Int32Array(count);
  const converged = new Uint8Array(count);
  let off = 0;
  for (let b = 0; b < count; b++) {
    const f = c.features[b]!;
    blk.x.set(c.X[b]!.subarray(0, f * S));
    const y = c.y.subarray(b * S, (b + 1) * S);
    const w = c.w.subarray(b * S, (b + 1) * S);
    const mask = c.colMask.subarray(off, off + f);
    const bt = beta.subarray(off, off + f);
    off += f;
    const step = stepSize(blk, f, w, mask, c);
    const tau = step * a1;
    const shrink = 1 / (1 + step * c.a2);
    bt.set(c.beta.subarray(off - f, off));
    yk.set(bt);
    let b0 = c.b0[b]!;
    let yb0 = b0;
    let t = 1;
    let it = 0;
    while (it < c.budget) {
      it++;
      // η = X̃y_k (rowsT: y_k in r, η in g); r = w ⊙ (y − μ(η)) into v; X̃ᵀr (dots) into out:
      // the negative gradient of the mean loss.
      blk.r.set(yk.subarray(0, f));
      blk.rowsT(f);
      let rSum = 0;
      for (let i = 0; i < S; i++) {
        const eta = binomial ? sigmoid(blk.g[i]! + yb0) : blk.g[i]!;
        const r = Math.fround(w[i]! * (y[i]! - eta));
        blk.v[i] = r;
        rSum += r;
      }
      blk.dots(f);
      // soft-threshold, ridge shrink, and the restart test Σ(y_k − β_new)·(β_new − β) > 0
      let uphill = 0;
      let maxDiff = 0;
      for (let k = 0; k < f; k++) {
        const z = yk[k]! + step * blk.out[k]!;
        const soft = z > tau ? z - tau : z < -tau ? z + tau : 0;
        const nb = Math.fround(soft * shrink * mask[k]!);
        const diff = nb - bt[k]!;
        uphill += (yk[k]! - nb) * diff;
        maxDiff = Math.max(maxDiff, Math.abs(diff));
        next[k] = nb;
      }
      const nb0 = binomial ? yb0 + rSum * step : yb0;
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const mom = uphill > 0 ? 0 : (t - 1) / tNext;
      t = uphill > 0 ? 1 : tNext;
      for (let k = 0; k < f; k++) {
        const nb = next[k]!;
        yk[k] = nb + (nb - bt[k]!) * mom;
        bt[k] = nb;
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
    b0Out[b] = b0;
    iterations[b] = it;
  }
  return { beta, b0: b0Out, iterations, converged };
}
