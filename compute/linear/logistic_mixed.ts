/**
 * logistic_regression's row-space L-BFGS (logistic_lbfgs.ts) without the float64 Gram: the
 * iteration runs on the float32-screened centred Gram K̃ (simd-gemm.ts centredScreen, about twice
 * the float64 kernel's speed), and float64 passes over the data correct it to the exact optimum.
 *
 * Why it converges to the float64 answer: with η = Kα + b the exact linear predictor (one pass,
 * centred-ops.ts) and η̃ = K̃α + b the screened one, the exact gradient differs from the screened
 * one by the tilt t = (r(η) − r(η̃))/n (r = ∂loss/∂η). Each round adds the tilt measured at the
 * current point as a linear term to the screened objective and minimises it again from there
 * (a few cheap O(n²) iterations); at a fixed point the exact gradient is zero. This is the
 * nonlinear form of mixed-precision iterative refinement: the rounds contract by about the
 * screen's relative error (~1e-7) times the problem's conditioning, so one or two rounds reach
 * the float64 stopping rule. When they do not within MAX_ROUNDS, null: the caller runs the
 * float64 path.
 *
 * The data are centred (η = Xc·w + b'): the same minimiser, with the intercept reported on the
 * raw scale as b' − meanᵀw. The stopping rule is logistic_lbfgs.ts's, in these coordinates.
 */
import { checkAbort } from '../core/method';
import { type CentredColumns } from '../kernels/centred-ops';
import { centredScreen, SCREEN_THREAD_WORK } from '../kernels/simd-gemm';
import {
  finish,
  type LogisticLbfgsFit,
  type LogisticLbfgsInput,
  lossAndResiduals,
  meanFree,
  minimise,
  normInf,
  type RowTilt,
  rowSpaceProblem,
} from './logistic_lbfgs';

const MAX_ROUNDS = 6;
/** logistic_lbfgs.ts's: a gradient this far below its value at 0 is at the rounding floor. */
const FLOOR_TOL = 1e-11;

export async function logisticRowsMixed(
  inp: LogisticLbfgsInput,
  columns: CentredColumns,
  mean: Float64Array,
  opts: { threads?: number } = {},
): Promise<LogisticLbfgsFit | null> {
  const { x, n, p, y, signal } = inp;
  const K = inp.nClasses > 2 ? inp.nClasses : 1;
  const kn = K * n;
  // Without an intercept the model is η = Xw: no centring.
  const center = inp.intercept ? mean : new Float64Array(p);
  const screen = await centredScreen(x, n, x, n, p, center, {
    threads: opts.threads,
    signal,
    minThreadWork: SCREEN_THREAD_WORK,
    into: () => new Float64Array(n * n),
  });
  if (!screen) return null;
  const gram = screen.dots;
  if (inp.intercept) doubleCentre(gram, n);
  columns.setCenter(center);
  const pass = { threads: opts.threads, signal };
  // Xcᵀ1 = 0 exactly, so an α and its 1-component removed give the same w; in floating point
  // Xcᵀ1 is ~ε·n·|x| per column, and α's 1-component (free: no step controls it) would put a floor
  // under every product. Products with Xc take the projected vector.
  const projected = (v: Float64Array): Float64Array => (inp.intercept ? meanFree(v) : v);
  const tilt: RowTilt = {
    t: new Float64Array(kn),
    kt: new Float64Array(kn),
    tb: new Float64Array(K),
  };
  const prob = rowSpaceProblem(inp, K, gram, tilt);
  // The stopping scale ‖∇F(0)‖∞ in coefficient space (Xcᵀγ₀ per class, and the intercepts).
  const g0 = new Float64Array(prob.dim);
  prob.eval(new Float64Array(prob.dim), g0);
  let g0Inf = 0;
  let g0Sq = 0;
  for (let k = 0; k < K; k++) {
    const { xtv } = await columns.times(projected(g0.subarray(k * n, (k + 1) * n)), false, pass);
    g0Inf = Math.max(g0Inf, normInf(xtv), Math.abs(g0[2 * kn + k]!));
    for (let j = 0; j < p; j++) g0Sq += xtv[j]! * xtv[j]!;
    g0Sq += g0[2 * kn + k]! ** 2;
  }
  const stop = inp.gtol * Math.max(1, g0Inf);
  // The float64 solver's rounding floor (logistic_lbfgs.ts FLOOR_TOL), and the point from which
  // a stalled correction is the floor rather than the screen's blind spot (then null).
  const floor = Math.max(stop, FLOOR_TOL * Math.max(1, Math.sqrt(g0Sq)));
  let previous = Infinity;

  let theta: Float64Array | undefined;
  let iterations = 0;
  const etaExact = new Float64Array(kn);
  const etaScreen = new Float64Array(kn);
  const rExact = new Float64Array(kn);
  const rScreen = new Float64Array(kn);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    checkAbort(signal);
    const r = minimise(prob, stop, inp.maxIter - iterations, signal, theta);
    iterations += r.iterations;
    theta = r.theta;
    // The exact linear predictors at theta, and the gap to the screened ones.
    for (let k = 0; k < K; k++) {
      const a = theta.subarray(k * n, (k + 1) * n);
      const { kv } = await columns.times(projected(a), true, pass);
      const b = inp.intercept ? theta[2 * kn + k]! : 0;
      for (let i = 0; i < n; i++) {
        etaExact[k * n + i] = kv![i]! + b;
        etaScreen[k * n + i] = theta[kn + k * n + i]! + b;
      }
    }
    lossAndResiduals(y, n, K, etaExact, rExact);
    lossAndResiduals(y, n, K, etaScreen, rScreen);
    // The exact gradient: Xcᵀγ_k with γ = r/n + λα (a pass each, exact — the screened metric
    // γᵀK̃γ cannot resolve norms below its own error), and Σr/n for the intercepts.
    let g2 = 0;
    for (let k = 0; k < K; k++) {
      const gamma = new Float64Array(n);
      let gb = 0;
      for (let i = 0; i < n; i++) {
        const at = k * n + i;
        gamma[i] = rExact[at]! / n + inp.lambda * theta[at]!;
        gb += rExact[at]! / n;
      }
      const { xtv } = await columns.times(projected(gamma), false, pass);
      for (let j = 0; j < p; j++) g2 += xtv[j]! * xtv[j]!;
      if (inp.intercept) g2 += gb * gb;
    }
    const gradNorm = Math.sqrt(g2);
    // Converged; or stalled (less than halved by a round) at the float64 rounding floor.
    const stalled = gradNorm > 0.5 * previous;
    if (stalled && gradNorm > floor) return null;
    previous = gradNorm;
    if (gradNorm <= stop || stalled) {
      const coef = new Float64Array(K * p);
      const intercept = theta.slice(2 * kn);
      for (let k = 0; k < K; k++) {
        const a = projected(theta.subarray(k * n, (k + 1) * n));
        const { xtv } = await columns.times(a, false, pass);
        coef.set(xtv, k * p);
      }
      const converged = gradNorm <= floor;
      return finish(coef, intercept, K, { iterations, converged, gradNorm }, 'rows', center);
    }
    if (iterations >= inp.maxIter) return null;
    // Tilt for the next round: exact minus screened gradient at theta.
    for (let k = 0; k < K; k++) {
      let sb = 0;
      for (let i = 0; i < n; i++) {
        const at = k * n + i;
        const d = (rExact[at]! - rScreen[at]!) / n;
        tilt.t[at] = d;
        sb += d;
      }
      tilt.tb[k] = inp.intercept ? sb : 0;
      tilt.kt.set(prob.kTimes(tilt.t.subarray(k * n, (k + 1) * n)), k * n);
    }
  }
  return null;
}

/**
 * K̃ ← (I − 11ᵀ/n) K̃ (I − 11ᵀ/n): the exact centred Gram has 1 as a null vector, the screened one
 * (float32-rounded centred values do not sum to 0) only to ~1e-7 of its scale, with either sign.
 * Left so, the L-BFGS metric αᵀK̃α is indefinite along 1 and a gradient's norm in it can read as
 * zero while the exact one is not.
 */
function doubleCentre(g: Float64Array, n: number): void {
  const rowMean = new Float64Array(n);
  let all = 0;
  for (let a = 0; a < n; a++) {
    let s = 0;
    for (let b = 0; b < n; b++) s += g[a * n + b]!;
    rowMean[a] = s / n;
    all += s;
  }
  all /= n * n;
  // Symmetric: column means are the row means.
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) g[a * n + b] = g[a * n + b]! - rowMean[a]! - rowMean[b]! + all;
}
