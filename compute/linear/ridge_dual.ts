/**
 * The ridge dual solve (XcXcᵀ + αI) z = yc for p > n by mixed-precision preconditioned conjugate
 * gradients: the preconditioner is the Cholesky factor of the float32-screened Gram (simd-gemm.ts
 * centredScreen: float32 products summed in chunks, about twice the float64 kernel's speed), and
 * every residual uses the float64 operator Xc(Xcᵀv) (one pass over the data, centred-ops.ts).
 * This is iterative refinement in the sense of Higham (Accuracy and Stability of Numerical
 * Algorithms, §12; also Carson & Higham 2018): the answer is the float64 system's, to a residual
 * at the float64 Cholesky's own backward error, not the float32 system's.
 *
 * The screened Gram's entries are within ~1e-7 of the exact ones relative to ‖x_a‖‖x_b‖, so when
 * α is not tiny against that error the preconditioned system is the identity up to ~1e-3 and CG
 * converges in two to four passes. When it is not (α ≪ 1e-7·λ_max, or nearly collinear samples),
 * the contraction shows after a few iterations and the function returns null: the caller then
 * forms the float64 Gram (the exact path, only slower by the screen and the passes spent).
 */
import { checkAbort } from '../core/method';
import { centredGramUpper, SCREEN_THREAD_WORK, type SquaresOut } from '../kernels/simd-gemm';
import { CentredColumns } from '../kernels/centred-ops';
import { choleskySolverUpper, type CholeskySolver } from './dense';

/** At most this many float64 passes before giving up on the preconditioner. */
const MAX_ITER = 20;

export interface RidgeDualResult {
  /** Dual coefficients z: w = Xcᵀz. */
  z: Float64Array;
  /** w = Xcᵀz. */
  coef: Float64Array;
  iterations: number;
}

export async function ridgeDualMixed(
  x: Float64Array,
  n: number,
  p: number,
  center: Float64Array,
  yc: Float64Array,
  alpha: number,
  opts: {
    threads?: number;
    signal?: AbortSignal;
    /** x already copied by the caller (who releases it); its centre is set here. */
    columns?: CentredColumns;
    /** Filled by the screen's packing when it can: Σ (x_j − center_j)² (simd-gemm.ts pack). */
    squares?: SquaresOut;
  } = {},
): Promise<RidgeDualResult | null> {
  if (!(alpha > 0)) return null;
  // The screened Gram stays in the screen's memory: its upper triangle goes straight into the
  // factor's (no mirrored n × n copy).
  const gram = await centredGramUpper(x, n, p, center, {
    ...opts,
    minThreadWork: SCREEN_THREAD_WORK,
  });
  if (!gram) return null;
  let factor: CholeskySolver | null;
  let trace = 0;
  try {
    for (let a = 0; a < n; a++) trace += gram.c[a * gram.ld + a]! + alpha;
    // A pivot at rounding level of the screened entries: not a usable preconditioner.
    factor = choleskySolverUpper(gram.c, gram.ld, n, alpha, 1e-9 * (trace / n));
  } finally {
    gram.release();
  }
  if (!factor) return null;
  const ops = opts.columns ?? CentredColumns.create(x, n, p);
  try {
    if (!ops) return null;
    ops.setCenter(center);
    return await pcg(ops, factor, n, yc, alpha, trace, opts);
  } finally {
    factor.release();
    if (!opts.columns) ops?.release();
  }
}

async function pcg(
  ops: CentredColumns,
  factor: CholeskySolver,
  n: number,
  b: Float64Array,
  alpha: number,
  /** trace(A) ≥ λ_max(A): the scale of the stopping rule. */
  trace: number,
  opts: { threads?: number; signal?: AbortSignal },
): Promise<RidgeDualResult | null> {
  const z = new Float64Array(n);
  // w = Xcᵀz, accumulated from the Xcᵀd every K·d pass computes anyway (w += γ·Xcᵀd as z += γ·d):
  // no pass of its own at the end.
  const w = new Float64Array(ops.p);
  const r = Float64Array.from(b);
  const bNorm = norm(b);
  if (bNorm === 0) return { z, coef: w, iterations: 0 };
  let u = factor.solve(r);
  const d = Float64Array.from(u);
  let rho = dot(r, u);
  let prev = bNorm;
  for (let it = 1; it <= MAX_ITER; it++) {
    checkAbort(opts.signal);
    const { kv, xtv } = await ops.times(d, true, opts);
    const q = kv!;
    for (let i = 0; i < n; i++) q[i] = q[i]! + alpha * d[i]!;
    const gamma = rho / dot(d, q);
    for (let i = 0; i < n; i++) {
      z[i] = z[i]! + gamma * d[i]!;
      r[i] = r[i]! - gamma * q[i]!;
    }
    for (let j = 0; j < w.length; j++) w[j] = w[j]! + gamma * xtv[j]!;
    const rNorm = norm(r);
    // Converged: a residual of ε·‖A‖‖z‖ (trace(A) ≥ ‖A‖), what a float64 Cholesky solve attains
    // in practice, or 1e-14 of the right-hand side.
    const scale = Number.EPSILON * trace * norm(z);
    if (rNorm <= Math.max(1e-14 * bNorm, scale)) return { z, coef: w, iterations: it };
    // Contracting less than 10× per pass from the third on: at the rounding floor, accepted
    // within the Cholesky's worst-case backward error (n·ε·‖A‖‖z‖); otherwise the preconditioner
    // is not close to A and the caller takes the float64 Gram rather than spend MAX_ITER passes.
    if (it >= 3 && rNorm > 0.1 * prev) {
      return rNorm <= n * scale ? { z, coef: w, iterations: it } : null;
    }
    prev = rNorm;
    u = factor.solve(r);
    const rhoNext = dot(r, u);
    const beta = rhoNext / rho;
    rho = rhoNext;
    for (let i = 0; i < n; i++) d[i] = u[i]! + beta * d[i]!;
  }
  return null;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const norm = (a: Float64Array): number => Math.sqrt(dot(a, a));
