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
    let z = alpha > 0 ? choleskySolve(g, n, yc) : null;
    if (!z) {
      rankDeficient = alpha === 0;
      z = pinvSolve(g, n, yc, rcond);
    }
    coef = xtv(x, n, p, z);
  }
  let b0 = ym;
  for (let j = 0; j < p; j++) b0 -= coef[j]! * mean[j]!;
  return { coef, intercept: b0, rankDeficient };
}
