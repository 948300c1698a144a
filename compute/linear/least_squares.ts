/**
 * Closed-form least squares for the `linear_regression` and `ridge` models (scikit-learn
 * LinearRegression / Ridge objectives on the summed loss, intercept unpenalised via centring):
 *
 *     minimise ‖y − b0 − Xw‖² + alpha·‖w‖²
 *
 * p ≤ n: (XᵀX + αI) w = Xᵀy by Cholesky. p > n: the dual form w = Xᵀ(XXᵀ + αI)⁻¹y, an n × n
 * solve. OLS (α = 0) on a rank-deficient or p > n design returns the minimum-norm solution (as
 * scikit-learn's lstsq), via the eigendecomposition of the smaller Gram matrix with eigenvalues
 * below ε·max(n, p)·λ_max treated as zero.
 */
import { centreColumns, choleskySolve, gramColumns, gramRows, pinvSolve, xtv } from './dense';

export function leastSquares(
  data: Float64Array,
  n: number,
  p: number,
  y: ArrayLike<number>,
  alpha: number,
  intercept: boolean,
): { coef: Float64Array; intercept: number; rankDeficient: boolean } {
  const x = Float64Array.from(data);
  const mean = centreColumns(x, n, p, intercept);
  let ym = 0;
  if (intercept) {
    for (let i = 0; i < n; i++) ym += y[i]!;
    ym /= n;
  }
  const yc = Float64Array.from({ length: n }, (_, i) => y[i]! - ym);
  const rcond = Number.EPSILON * Math.max(n, p);
  let coef: Float64Array;
  let rankDeficient = false;
  if (p <= n) {
    const g = gramColumns(x, n, p);
    for (let j = 0; j < p; j++) g[j * p + j] = g[j * p + j]! + alpha;
    const rhs = xtv(x, n, p, yc);
    const z = choleskySolve(g, p, rhs);
    if (z) coef = z;
    else {
      rankDeficient = true;
      coef = pinvSolve(g, p, rhs, rcond);
    }
  } else {
    const g = gramRows(x, n, p);
    for (let i = 0; i < n; i++) g[i * n + i] = g[i * n + i]! + alpha;
    // OLS with more features than samples: XᵀX is singular, the minimum-norm solution is taken.
    rankDeficient = alpha === 0;
    let z = alpha > 0 ? choleskySolve(g, n, yc) : minNormDual(g, n, yc, intercept);
    z ??= pinvSolve(g, n, yc, rcond);
    coef = xtv(x, n, p, z);
  }
  let b0 = ym;
  for (let j = 0; j < p; j++) b0 -= coef[j]! * mean[j]!;
  return { coef, intercept: b0, rankDeficient };
}

/**
 * OLS with p > n: z = G⁺ yc for the sample Gram G = XcXcᵀ, without an eigendecomposition when
 * G has the generic rank. Centred columns make 1 a null vector of G (rank ≤ n − 1) and yc ⊥ 1,
 * so adding c·11ᵀ (c·n = G's mean eigenvalue) leaves G⁺yc unchanged on the range and makes the
 * matrix invertible: one Cholesky solve instead of Jacobi sweeps. Any further rank deficiency
 * (duplicate samples, p < n − 1 effective columns) shows as a small pivot → null, and the caller
 * takes the pseudo-inverse. The pivot floor (1e-10 of the largest diagonal) is far above
 * rounding, so a "success" here is a well-conditioned solve. `g` is not modified.
 */
function minNormDual(
  g: Float64Array,
  n: number,
  yc: Float64Array,
  intercept: boolean,
): Float64Array | null {
  let a = g;
  if (intercept) {
    let trace = 0;
    for (let i = 0; i < n; i++) trace += g[i * n + i]!;
    const c = trace / (n * n);
    a = Float64Array.from(g);
    for (let i = 0; i < n * n; i++) a[i] = a[i]! + c;
  }
  return choleskySolve(a, n, yc, 1e-10);
}
