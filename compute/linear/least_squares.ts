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
import { type CentredColumns } from '../kernels/centred-ops';
import { type SquaresOut } from '../kernels/simd-gemm';
import { columnMeanSd } from './model';
import { ridgeDualMixed } from './ridge_dual';

export interface LeastSquaresOptions {
  /** Column means of `data` (columnMeanSd's), when the caller has them. */
  mean?: Float64Array;
  /**
   * p > n: the sample Gram of data − center (center null: of data itself); default gramRows on
   * the calling thread.
   */
  gramOf?: (
    x: Float64Array,
    n: number,
    p: number,
    center: Float64Array | undefined,
  ) => Float64Array | Promise<Float64Array>;
  /**
   * p > n, α > 0: try the mixed-precision dual solve (ridge_dual.ts) first when the Gram takes at
   * least this many multiply-adds (n²p/2); Infinity (the default) never.
   */
  mixedFromWork?: number;
  threads?: number;
  signal?: AbortSignal;
  /** The data already in WebAssembly memory (ridge_dual.ts), when the caller copied it. */
  columns?: CentredColumns;
  /**
   * Filled when the mixed-precision dual solve's packing takes the columns' Σ (x_j − mean_j)²
   * (the sds' second pass) on its way.
   */
  squares?: SquaresOut;
}

export async function leastSquares(
  data: Float64Array,
  n: number,
  p: number,
  y: ArrayLike<number>,
  alpha: number,
  intercept: boolean,
  opts: LeastSquaresOptions = {},
): Promise<{ coef: Float64Array; intercept: number; rankDeficient: boolean }> {
  let ym = 0;
  if (intercept) {
    for (let i = 0; i < n; i++) ym += y[i]!;
    ym /= n;
  }
  const yc = Float64Array.from({ length: n }, (_, i) => y[i]! - ym);
  const rcond = Number.EPSILON * Math.max(n, p);
  let coef: Float64Array;
  let mean: Float64Array;
  let rankDeficient = false;
  if (p <= n) {
    const x = data.slice(); // centred in place
    mean = centreColumns(x, n, p, intercept);
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
    // The dual form reads the data as it is: the Gram kernel centres while it packs, and
    // Xcᵀz = Xᵀz − mean·Σz. (Σz is 0 in exact arithmetic when yc ⊥ 1; the term keeps the
    // rounding of the two forms alike.) No n × p copy.
    mean = intercept ? (opts.mean ?? columnMeanSd(data, n, p).mean) : new Float64Array(p);
    const mixed =
      alpha > 0 && (n * n * p) / 2 >= (opts.mixedFromWork ?? Infinity)
        ? await ridgeDualMixed(data, n, p, mean, yc, alpha, opts)
        : null;
    if (mixed) return withIntercept(mixed.coef, ym, mean, p, false);
    const g = await (opts.gramOf ?? gramRows)(data, n, p, intercept ? mean : undefined);
    for (let i = 0; i < n; i++) g[i * n + i] = g[i * n + i]! + alpha;
    // OLS with more features than samples: XᵀX is singular, the minimum-norm solution is taken.
    rankDeficient = alpha === 0;
    let z = alpha > 0 ? choleskySolve(g, n, yc) : minNormDual(g, n, yc, intercept);
    z ??= pinvSolve(g, n, yc, rcond);
    coef = xtv(data, n, p, z);
    let sz = 0;
    for (let i = 0; i < n; i++) sz += z[i]!;
    if (intercept) for (let j = 0; j < p; j++) coef[j] = coef[j]! - mean[j]! * sz;
  }
  return withIntercept(coef, ym, mean, p, rankDeficient);
}

function withIntercept(
  coef: Float64Array,
  ym: number,
  mean: Float64Array,
  p: number,
  rankDeficient: boolean,
): { coef: Float64Array; intercept: number; rankDeficient: boolean } {
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
