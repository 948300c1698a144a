/**
 * The design matrix a coordinate-descent solver works on: a private, column-major Float64Array
 * copy of the training rows, centred (with an intercept) and scaled by the population standard
 * deviation (with `standardize`), exactly as glmnet's `standard1` / `lstandard1` do with unit
 * observation weights.
 *
 * Why a copy: every CD update reads one column and the residual; a centred, scaled, contiguous
 * column makes that inner product a plain dot product (no per-element `(x - m) / s`), which is
 * where all the time goes. The copy is n·p doubles, the same as the input (or a view of a
 * caller's reusable buffer).
 */
import { checkAbort } from '../core/method';
import { absDotAllWasm, type CdWork, wasmDesignBuffer } from './simd';

export interface Design {
  n: number;
  p: number;
  /** Column-major n × p working copy: (x − mean) / scale. */
  x: Float64Array;
  /** Column means removed (0 without an intercept). */
  mean: Float64Array;
  /** Divisor applied (population sd with `standardize`, else 1). */
  scale: Float64Array;
  /** Population sd of each raw column (for standardised scores whatever `standardize` is). */
  sd: Float64Array;
  /** mean(x̃²) per column: 1 when standardised, the column variance otherwise (glmnet `xv`). */
  xv: Float64Array;
  /** 0 for columns the solver must skip (constant columns, as glmnet `chkvars`). */
  usable: Uint8Array;
  standardize: boolean;
  intercept: boolean;
}

/**
 * Build the working design from column-major `data` (nAll rows) restricted to `rows` (all rows
 * when null). Missing values are not allowed: linear models need imputed data.
 */
export function makeDesign(
  data: Float64Array,
  nAll: number,
  p: number,
  rows: ArrayLike<number> | null,
  opts: { standardize: boolean; intercept: boolean },
  signal?: AbortSignal,
  buffer?: Float64Array,
): Design {
  const n = rows ? rows.length : nAll;
  // A caller fitting many row subsets (stability selection) passes one buffer for all of them:
  // allocating (and page-faulting) a fresh n·p copy per fit cost as much as building it.
  // Otherwise the copy lives in WebAssembly memory when possible, for the SIMD KKT product.
  const x =
    buffer && buffer.length >= n * p
      ? buffer.subarray(0, n * p)
      : (wasmDesignBuffer(n * p, n + p) ?? new Float64Array(n * p));
  const mean = new Float64Array(p);
  const scale = new Float64Array(p);
  const sd = new Float64Array(p);
  const xv = new Float64Array(p);
  const usable = new Uint8Array(p);
  // Every pass sums with four accumulators: a single running sum is a chain of dependent
  // additions (latency-bound, ≈ 3× slower); building the design was ~30 % of a stability-selection
  // fit on 250 × 20,000 before. The copy pass also accumulates the sum and the sum of squares of
  // the deviations from the column's first value (the shifted-data formula; its relative error
  // is ≈ ε·(1 + n·(first − mean)²/ss), negligible unless that value lies thousands of sds from
  // the mean; a column with a rounding-level spread goes to the exact constancy test below), so
  // the centred sum of squares needs no second pass (≈ 25 % of the design's cost).
  // The per-column passes are functions of their own (called p times per design): V8 then
  // optimises them from complete type feedback, instead of compiling this whole function on
  // stack (OSR) in its first loop and throwing it away at each branch it had not yet seen
  // (six compilations in a cold 10-fold CV).
  const acc = new Float64Array(2);
  for (let j = 0; j < p; j++) {
    if ((j & 1023) === 0) checkAbort(signal);
    const src = j * nAll;
    const dst = j * n;
    const shift = n > 0 ? data[src + (rows ? rows[0] : 0)] : 0;
    if (rows) copyRows(data, src, rows, x, dst, n, shift, acc);
    else copyAll(data, src, x, dst, n, shift, acc);
    const s = acc[0];
    if (Number.isNaN(s)) {
      throw new Error(
        `column ${j} has missing values: impute before fitting a penalised linear model`,
      );
    }
    const m = shift + s / n;
    const ss = Math.max(0, acc[1] - (s * s) / n);
    // Exact constancy test only where the spread is at rounding level (a constant column's
    // deviations from its computed mean are a few ulps of |m| at most).
    let constant = false;
    if (ss <= n * (4 * n * Number.EPSILON * m) ** 2) {
      const first = x[dst];
      constant = true;
      for (let i = 1; i < n; i++) {
        if (x[dst + i] !== first) {
          constant = false;
          break;
        }
      }
    }
    const sdj = Math.sqrt(ss / n);
    sd[j] = sdj;
    const centre = opts.intercept ? m : 0;
    let sc = 1;
    if (opts.standardize) {
      // Without an intercept glmnet scales by the sd too (not the root mean square).
      sc = sdj;
    }
    mean[j] = centre;
    scale[j] = sc;
    usable[j] = constant && (opts.intercept || opts.standardize) ? 0 : 1;
    if (!usable[j]) {
      scale[j] = 1;
      x.fill(0, dst, dst + n);
      continue;
    }
    xv[j] = scaleColumn(x, dst, n, centre, 1 / sc) / n;
  }
  return {
    n,
    p,
    x,
    mean,
    scale,
    sd,
    xv,
    usable,
    standardize: opts.standardize,
    intercept: opts.intercept,
  };
}

/**
 * x[dst..dst+n) = data[src + rows[i]]; acc = [Σ d, Σ d²] of the deviations d from `shift`
 * (four accumulators each, summed s0 + s1 + s2 + s3).
 */
function copyRows(
  data: Float64Array,
  src: number,
  rows: ArrayLike<number>,
  x: Float64Array,
  dst: number,
  n: number,
  shift: number,
  acc: Float64Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let q0 = 0;
  let q1 = 0;
  let q2 = 0;
  let q3 = 0;
  const n4 = n - (n & 3);
  let i = 0;
  for (; i < n4; i += 4) {
    const v0 = data[src + rows[i]];
    const v1 = data[src + rows[i + 1]];
    const v2 = data[src + rows[i + 2]];
    const v3 = data[src + rows[i + 3]];
    x[dst + i] = v0;
    x[dst + i + 1] = v1;
    x[dst + i + 2] = v2;
    x[dst + i + 3] = v3;
    const d0 = v0 - shift;
    const d1 = v1 - shift;
    const d2 = v2 - shift;
    const d3 = v3 - shift;
    s0 += d0;
    s1 += d1;
    s2 += d2;
    s3 += d3;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
  }
  for (; i < n; i++) {
    const v = data[src + rows[i]];
    x[dst + i] = v;
    const d = v - shift;
    s0 += d;
    q0 += d * d;
  }
  acc[0] = s0 + s1 + s2 + s3;
  acc[1] = q0 + q1 + q2 + q3;
}

/** `copyRows` for all rows (the contiguous column). */
function copyAll(
  data: Float64Array,
  src: number,
  x: Float64Array,
  dst: number,
  n: number,
  shift: number,
  acc: Float64Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let q0 = 0;
  let q1 = 0;
  let q2 = 0;
  let q3 = 0;
  const n4 = n - (n & 3);
  let i = 0;
  for (; i < n4; i += 4) {
    const v0 = data[src + i];
    const v1 = data[src + i + 1];
    const v2 = data[src + i + 2];
    const v3 = data[src + i + 3];
    x[dst + i] = v0;
    x[dst + i + 1] = v1;
    x[dst + i + 2] = v2;
    x[dst + i + 3] = v3;
    const d0 = v0 - shift;
    const d1 = v1 - shift;
    const d2 = v2 - shift;
    const d3 = v3 - shift;
    s0 += d0;
    s1 += d1;
    s2 += d2;
    s3 += d3;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
  }
  for (; i < n; i++) {
    const v = data[src + i];
    x[dst + i] = v;
    const d = v - shift;
    s0 += d;
    q0 += d * d;
  }
  acc[0] = s0 + s1 + s2 + s3;
  acc[1] = q0 + q1 + q2 + q3;
}

/** x ← (x − centre)·inv on one column; returns Σ x² after (four accumulators). */
function scaleColumn(x: Float64Array, dst: number, n: number, centre: number, inv: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n4 = n - (n & 3);
  let i = 0;
  for (; i < n4; i += 4) {
    const v0 = (x[dst + i] - centre) * inv;
    const v1 = (x[dst + i + 1] - centre) * inv;
    const v2 = (x[dst + i + 2] - centre) * inv;
    const v3 = (x[dst + i + 3] - centre) * inv;
    x[dst + i] = v0;
    x[dst + i + 1] = v1;
    x[dst + i + 2] = v2;
    x[dst + i + 3] = v3;
    s0 += v0 * v0;
    s1 += v1 * v1;
    s2 += v2 * v2;
    s3 += v3 * v3;
  }
  for (; i < n; i++) {
    const v = (x[dst + i] - centre) * inv;
    x[dst + i] = v;
    s0 += v * v;
  }
  return s0 + s1 + s2 + s3;
}

/** Σ a[i]·x[off+i] for i < n, unrolled by four (the CD hot loop). */
export function dotCol(x: Float64Array, off: number, a: Float64Array, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const n4 = n - (n & 3);
  for (; i < n4; i += 4) {
    s0 += x[off + i] * a[i];
    s1 += x[off + i + 1] * a[i + 1];
    s2 += x[off + i + 2] * a[i + 2];
    s3 += x[off + i + 3] * a[i + 3];
  }
  for (; i < n; i++) s0 += x[off + i] * a[i];
  return s0 + s1 + s2 + s3;
}

/**
 * out[j] = |x_jᵀa|·scale for every column j (full matrix–vector product), four columns at a time
 * so each a[i] load serves four multiply-adds (≈ 25 % faster than column-by-column dots).
 */
export function absDotAll(
  x: Float64Array,
  n: number,
  p: number,
  a: Float64Array,
  scale: number,
  out: Float64Array,
): void {
  // Designs in WebAssembly memory take the SIMD kernel for all full blocks of four columns.
  let j = absDotAllWasm(x, n, p, a, scale, out);
  for (; j + 4 <= p; j += 4) {
    const o0 = j * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i++) {
      const ai = a[i];
      s0 += x[o0 + i] * ai;
      s1 += x[o1 + i] * ai;
      s2 += x[o2 + i] * ai;
      s3 += x[o3 + i] * ai;
    }
    out[j] = Math.abs(s0) * scale;
    out[j + 1] = Math.abs(s1) * scale;
    out[j + 2] = Math.abs(s2) * scale;
    out[j + 3] = Math.abs(s3) * scale;
  }
  for (; j < p; j++) out[j] = Math.abs(dotCol(x, j * n, a, n)) * scale;
}

/** a[i] −= d·x[off+i] for i < n. */
export function axpyCol(x: Float64Array, off: number, d: number, a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) a[i] -= d * x[off + i];
}

/** Σ w[i]·x[off+i]² (weighted column sum of squares), four accumulators as dotCol. */
export function wssCol(x: Float64Array, off: number, w: Float64Array, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const n4 = n - (n & 3);
  for (; i < n4; i += 4) {
    const v0 = x[off + i];
    const v1 = x[off + i + 1];
    const v2 = x[off + i + 2];
    const v3 = x[off + i + 3];
    s0 += w[i] * v0 * v0;
    s1 += w[i + 1] * v1 * v1;
    s2 += w[i + 2] * v2 * v2;
    s3 += w[i + 3] * v3 * v3;
  }
  for (; i < n; i++) {
    const v = x[off + i];
    s0 += w[i] * v * v;
  }
  return s0 + s1 + s2 + s3;
}

/** Features that have entered the model, in order of entry (glmnet's `ia` / `mm`). */
export interface ActiveSet {
  order: Int32Array;
  /** 1 + position in `order`, 0 when never active. */
  pos: Int32Array;
  nin: number;
}

export function newActiveSet(p: number): ActiveSet {
  return { order: new Int32Array(p), pos: new Int32Array(p), nin: 0 };
}

/**
 * One weighted coordinate-descent pass for a GLM's quadratic approximation: for each feature in
 * the strong set (or only the active list when `activeOnly`) solve the one-dimensional problem
 * with gradient x_kᵀr, curvature xv_k, l1 penalty al1 and l2 penalty al2, and update the working
 * residual r −= Δ·v∘x_k. Coefficients live at b[bOff + k], curvatures at xv[bOff + k].
 * Returns max_k xv_k·Δ_k². Kept free of closures so V8 keeps every scalar unboxed.
 */
export function weightedSweep(
  x: Float64Array,
  n: number,
  p: number,
  r: Float64Array,
  v: Float64Array,
  b: Float64Array,
  xv: Float64Array,
  bOff: number,
  strong: Uint8Array,
  active: ActiveSet,
  activeOnly: boolean,
  al1: number,
  al2: number,
): number {
  let dlx = 0;
  const order = active.order;
  const total = activeOnly ? active.nin : p;
  for (let t = 0; t < total; t++) {
    const k = activeOnly ? order[t] : t;
    if (!activeOnly && strong[k] === 0) continue;
    const off = k * n;
    const bk = b[bOff + k];
    const gk = dotCol(x, off, r, n);
    const xk = xv[bOff + k];
    const u = gk + xk * bk;
    const au = Math.abs(u) - al1;
    const bn = au > 0 ? (u > 0 ? au : -au) / (xk + al2) : 0;
    const dd = bn - bk;
    if (dd === 0) continue;
    b[bOff + k] = bn;
    const dl = xk * dd * dd;
    if (dl > dlx) dlx = dl;
    for (let i = 0; i < n; i++) r[i] -= dd * v[i] * x[off + i];
    if (!activeOnly && active.pos[k] === 0) {
      order[active.nin] = k;
      active.pos[k] = ++active.nin;
    }
  }
  return dlx;
}

/** Unpenalised intercept step of the quadratic approximation; applies r −= d·v, returns d. */
export function interceptStep(r: Float64Array, v: Float64Array, n: number, xmz: number): number {
  let sr = 0;
  for (let i = 0; i < n; i++) sr += r[i];
  const d = sr / xmz;
  if (d !== 0) for (let i = 0; i < n; i++) r[i] -= d * v[i];
  return d;
}

/**
 * A full GLM inner pass: `weightedSweep`, then (with an intercept) the intercept step for class
 * `cls` (b0[cls] += d). Returns max(xv·Δ², xmz·d²).
 */
export function glmSweep(
  x: Float64Array,
  n: number,
  p: number,
  r: Float64Array,
  v: Float64Array,
  b: Float64Array,
  xv: Float64Array,
  bOff: number,
  strong: Uint8Array,
  active: ActiveSet,
  activeOnly: boolean,
  al1: number,
  al2: number,
  b0: Float64Array,
  cls: number,
  xmz: number,
  intercept: boolean,
): number {
  let dlx = weightedSweep(x, n, p, r, v, b, xv, bOff, strong, active, activeOnly, al1, al2);
  if (intercept) {
    const d = interceptStep(r, v, n, xmz);
    b0[cls] += d;
    const dl = xmz * d * d;
    if (dl > dlx) dlx = dl;
  }
  return dlx;
}

/**
 * `glmSweep` with the weighted sweep in WebAssembly (cd-kernel.ts): r and v must be `work.r` /
 * `work.v`. Same visiting order, same arithmetic, same entry order into the active list (a
 * never-active feature is non-zero after the pass exactly when the pass moved it), so the
 * results are bit-identical to `glmSweep`.
 */
export function glmSweepWasm(
  work: CdWork,
  n: number,
  p: number,
  b: Float64Array,
  xv: Float64Array,
  bOff: number,
  strong: Uint8Array,
  active: ActiveSet,
  activeOnly: boolean,
  al1: number,
  al2: number,
  b0: Float64Array,
  cls: number,
  xmz: number,
  intercept: boolean,
): number {
  const { list, bc, xvc } = work;
  const order = active.order;
  let cnt = 0;
  if (activeOnly) {
    const nin = active.nin;
    for (let l = 0; l < nin; l++) {
      const k = order[l];
      list[cnt] = k;
      bc[cnt] = b[bOff + k];
      xvc[cnt] = xv[bOff + k];
      cnt++;
    }
  } else {
    for (let k = 0; k < p; k++) {
      if (strong[k] === 0) continue;
      list[cnt] = k;
      bc[cnt] = b[bOff + k];
      xvc[cnt] = xv[bOff + k];
      cnt++;
    }
  }
  let dlx = work.sweep(true, cnt, al1, al2, 1);
  const pos = active.pos;
  for (let t = 0; t < cnt; t++) {
    const k = list[t];
    const bn = bc[t];
    b[bOff + k] = bn;
    if (!activeOnly && bn !== 0 && pos[k] === 0) {
      order[active.nin] = k;
      pos[k] = ++active.nin;
    }
  }
  if (intercept) {
    const d = interceptStep(work.r, work.v, n, xmz);
    b0[cls] += d;
    const dl = xmz * d * d;
    if (dl > dlx) dlx = dl;
  }
  return dlx;
}
