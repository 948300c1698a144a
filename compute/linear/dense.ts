/**
 * Small dense linear algebra for the closed-form linear models (OLS, ridge): Gram matrices,
 * Cholesky solves and a symmetric eigendecomposition for minimum-norm least squares.
 * Matrices are row-major Float64Array (they are symmetric, so the layout rarely matters).
 */
import { choleskyWasm, WasmCholesky } from '../kernels/cholesky';
import { crossF64, crossF64Sync } from '../kernels/simd-gemm';
import { dotCol } from './design';

/** Centre columns of column-major x (n × p) in place; returns the means (zeros if !centre). */
export function centreColumns(
  x: Float64Array,
  n: number,
  p: number,
  centre: boolean,
): Float64Array {
  const mean = new Float64Array(p);
  if (!centre) return mean;
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[j * n + i]!;
    const m = s / n;
    mean[j] = m;
    for (let i = 0; i < n; i++) x[j * n + i] = x[j * n + i]! - m;
  }
  return mean;
}

/** XᵀX (p × p) of column-major x. */
export function gramColumns(x: Float64Array, n: number, p: number): Float64Array {
  const g = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      let s = 0;
      const oa = a * n;
      const ob = b * n;
      for (let i = 0; i < n; i++) s += x[oa + i]! * x[ob + i]!;
      g[a * p + b] = s;
      g[b * p + a] = s;
    }
  }
  return g;
}

/**
 * XXᵀ (n × n) of column-major x, or of x − center (each column minus its centre, without a
 * centred copy): the wasm SIMD float64 panel kernel where available (each entry a float64 dot
 * product with fused multiply-adds where the runtime has them, exactly symmetric), else the
 * JavaScript outer-product loop.
 */
export function gramRows(
  x: Float64Array,
  n: number,
  p: number,
  center?: Float64Array,
): Float64Array {
  return (
    crossF64Sync(x, n, x, n, p, { fused: true, center }) ??
    gramRowsJs(centred(x, n, p, center), n, p)
  );
}

/**
 * Multiply-adds from which gramRowsParallel splits over threads: at 200 × 2,000 (4e7) two threads
 * already pay (median 14.7 → 13.1 ms, 10th percentile 13.2 → 10.1 ms on the shared 2-core VM; a
 * warm pool hands a task over in well under a millisecond).
 */
const GRAM_THREAD_WORK = 2e7;

/**
 * gramRows on worker threads when the product is large (the same entries: each is summed by one
 * thread in the same order); `threads` 1 keeps it on the calling thread.
 */
export async function gramRowsParallel(
  x: Float64Array,
  n: number,
  p: number,
  opts: {
    threads?: number;
    signal?: AbortSignal;
    minThreadWork?: number;
    center?: Float64Array;
  } = {},
): Promise<Float64Array> {
  return (
    (await crossF64(x, n, x, n, p, { minThreadWork: GRAM_THREAD_WORK, ...opts, fused: true })) ??
    gramRowsJs(centred(x, n, p, opts.center), n, p)
  );
}

function centred(x: Float64Array, n: number, p: number, center?: Float64Array): Float64Array {
  if (!center) return x;
  const out = new Float64Array(n * p);
  for (let j = 0; j < p; j++)
    for (let i = 0; i < n; i++) out[j * n + i] = x[j * n + i]! - center[j]!;
  return out;
}

/** XXᵀ by rank-one updates, one column at a time (contiguous reads of column-major x). */
export function gramRowsJs(x: Float64Array, n: number, p: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let j = 0; j < p; j++) {
    const o = j * n;
    for (let a = 0; a < n; a++) {
      const xa = x[o + a]!;
      if (xa === 0) continue;
      for (let b = a; b < n; b++) g[a * n + b] = g[a * n + b]! + xa * x[o + b]!;
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) g[a * n + b] = g[b * n + a]!;
  return g;
}

/** Xᵀv (p) for column-major x. */
export function xtv(x: Float64Array, n: number, p: number, v: Float64Array): Float64Array {
  const out = new Float64Array(p);
  for (let j = 0; j < p; j++) out[j] = dotCol(x, j * n, v, n);
  return out;
}

/** Xu (n) for column-major x. */
export function xv(x: Float64Array, n: number, p: number, u: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    const uj = u[j]!;
    if (uj === 0) continue;
    for (let i = 0; i < n; i++) out[i] = out[i]! + uj * x[j * n + i]!;
  }
  return out;
}

/** Σ_{t<len} l[a + t]·l[b + t] with four partial sums. */
function dotRows(l: Float64Array, a: number, b: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (const end = len - (len & 3); t < end; t += 4) {
    s0 += l[a + t]! * l[b + t]!;
    s1 += l[a + t + 1]! * l[b + t + 1]!;
    s2 += l[a + t + 2]! * l[b + t + 2]!;
    s3 += l[a + t + 3]! * l[b + t + 3]!;
  }
  for (; t < len; t++) s0 += l[a + t]! * l[b + t]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Solve A z = b for symmetric positive-definite A (k × k) by Cholesky; null when A is not
 * numerically positive definite (a pivot ≤ k·ε·max diagonal).
 */
export function choleskySolve(
  a: Float64Array,
  k: number,
  b: Float64Array,
  /** Pivots at or below this share of the largest diagonal count as singular (default k·ε). */
  relFloor = k * Number.EPSILON,
): Float64Array | null {
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * k + i]!));
  const l = choleskyFactor(a, k, relFloor * maxDiag);
  return l && choleskySolveFactor(l, k, b);
}

/** Below this order the JavaScript loop is as fast as a call into WebAssembly. */
const WASM_CHOLESKY_MIN = 48;

/**
 * The Cholesky factor L (row-major, lower triangle) of symmetric A (k × k), or null at a pivot ≤
 * floor: the wasm SIMD kernel (kernels/cholesky.ts, ~4× faster at k = 500) from WASM_CHOLESKY_MIN on,
 * else choleskyFactorJs (the same formulas; sums grouped differently, so the last bits may differ).
 */
export function choleskyFactor(a: Float64Array, k: number, floor: number): Float64Array | null {
  if (k >= WASM_CHOLESKY_MIN) {
    const l = choleskyWasm(a, k, floor);
    if (l !== undefined) return l;
  }
  return choleskyFactorJs(a, k, floor);
}

/** Solves L Lᵀ z = b with a factor made once (see choleskySolver); release() when done. */
export interface CholeskySolver {
  solve(b: Float64Array): Float64Array;
  release(): void;
}

/**
 * choleskyFactor for repeated solves: from WASM_CHOLESKY_MIN on the factor stays in WebAssembly
 * memory and each solve runs there (kernels/cholesky.ts WasmCholesky: ~8 against ~40 µs at k = 200),
 * otherwise choleskySolveFactor on the JavaScript factor. Null at a pivot ≤ floor.
 */
export function choleskySolver(a: Float64Array, k: number, floor: number): CholeskySolver | null {
  if (k >= WASM_CHOLESKY_MIN) {
    const f = WasmCholesky.factor(a, k, floor);
    if (f !== undefined) return f;
  }
  const l = choleskyFactorJs(a, k, floor);
  return l && { solve: b => choleskySolveFactor(l, k, b), release: () => undefined };
}

/**
 * choleskySolver of C + alpha·I from the upper triangle of C (row i at i · ld, columns t ≥ i),
 * as simd-gemm.ts centredGramUpper leaves it: the same factor as of the mirrored matrix.
 */
export function choleskySolverUpper(
  c: Float64Array,
  ld: number,
  k: number,
  alpha: number,
  floor: number,
): CholeskySolver | null {
  if (k >= WASM_CHOLESKY_MIN) {
    const f = WasmCholesky.factorUpper(c, ld, k, alpha, floor);
    if (f !== undefined) return f;
  }
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let t = i; t < k; t++) a[i * k + t] = a[t * k + i] = c[i * ld + t]!;
    a[i * k + i] = a[i * k + i]! + alpha;
  }
  return choleskySolver(a, k, floor);
}

/** choleskyFactor's JavaScript loop (left-looking, row by row). */
export function choleskyFactorJs(a: Float64Array, k: number, floor: number): Float64Array | null {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      // Rows i and j of L, both contiguous: an unrolled dot product (the O(k³/3) part).
      const s = a[i * k + j]! - dotRows(l, i * k, j * k, j);
      if (i === j) {
        if (!(s > floor)) return null;
        l[i * k + i] = Math.sqrt(s);
      } else {
        l[i * k + j] = s / l[j * k + j]!;
      }
    }
  }
  return l;
}

/** Solve L Lᵀ z = b for the factor of choleskyFactor. */
export function choleskySolveFactor(l: Float64Array, k: number, b: Float64Array): Float64Array {
  const z = Float64Array.from(b);
  for (let i = 0; i < k; i++) {
    let s = z[i]!;
    for (let t = 0; t < i; t++) s -= l[i * k + t]! * z[t]!;
    z[i] = s / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let t = i + 1; t < k; t++) s -= l[t * k + i]! * z[t]!;
    z[i] = s / l[i * k + i]!;
  }
  return z;
}

/**
 * Eigendecomposition of a symmetric k × k matrix by cyclic Jacobi rotations:
 * values[i] with eigenvectors in the columns of `vectors` (row-major).
 */
export function symmetricEigen(
  a: Float64Array,
  k: number,
): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < k; i++) {
      diag += m[i * k + i]! * m[i * k + i]!;
      for (let j = i + 1; j < k; j++) off += m[i * k + j]! * m[i * k + j]!;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q]!;
        if (apq === 0) continue;
        const app = m[p * k + p]!;
        const aqq = m[q * k + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const mrp = m[r * k + p]!;
          const mrq = m[r * k + q]!;
          m[r * k + p] = c * mrp - s * mrq;
          m[r * k + q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p * k + r]!;
          const mqr = m[q * k + r]!;
          m[p * k + r] = c * mpr - s * mqr;
          m[q * k + r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p]!;
          const vrq = v[r * k + q]!;
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = m[i * k + i]!;
  return { values, vectors: v };
}

/**
 * Pseudo-inverse solve A⁺b for symmetric positive semi-definite A: eigenvalues below
 * rcond·max are treated as 0 (as LAPACK gelsd with rcond = ε·max(n, p) on the singular values
 * squared), which gives the minimum-norm solution.
 */
export function pinvSolve(
  a: Float64Array,
  k: number,
  b: Float64Array,
  rcond: number,
): Float64Array {
  const { values, vectors } = symmetricEigen(a, k);
  let max = 0;
  for (let i = 0; i < k; i++) max = Math.max(max, values[i]!);
  const cut = rcond * max;
  const z = new Float64Array(k);
  for (let e = 0; e < k; e++) {
    const lam = values[e]!;
    if (!(lam > cut)) continue;
    let proj = 0;
    for (let i = 0; i < k; i++) proj += vectors[i * k + e]! * b[i]!;
    const c = proj / lam;
    for (let i = 0; i < k; i++) z[i] = z[i]! + c * vectors[i * k + e]!;
  }
  return z;
}
