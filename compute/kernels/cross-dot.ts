/**
 * Cross products between the samples of two column-major matrices, C[a, b] = Σ_j x_ja · y_jb
 * (row-major na × nb), float64, the GEMM core of squared-Euclidean distances (kNN) and of linear /
 * RBF kernel matrices (SVM).
 *
 * Column-major input means a fixed feature j holds both operands' samples contiguously, so the
 * kernel is a sum of rank-1 updates computed in 4 × 4 register blocks (8 loads per 16
 * multiply-adds), over feature chunks small enough to stay in cache. Blocks of rows run on worker
 * threads for large products.
 */
import { defaultThreads, parallelMap } from '../core/parallel';
import { initTensorBackend, tf } from '../core/tensor';

const CHUNK = 128;
/**
 * Multiply-adds from which crossDot / gram use worker threads: below ~0.1 s of single-thread work
 * a cold pool (thread start-up plus loading the module in each thread) costs more than it saves.
 */
const THREAD_WORK = 2e8;

export interface CrossDotInput {
  x: Float64Array;
  nx: number;
  y: Float64Array;
  ny: number;
  p: number;
  /** Rows of x (samples) this block computes: [a0, a1). */
  a0: number;
  a1: number;
  /**
   * Upper block triangle of a symmetric product (x = y): each group of 4 rows (and the last,
   * shorter group) computes columns from its own first row on; the rest stays 0.
   */
  upper?: boolean;
}

/** C rows a0..a1 (row-major (a1 − a0) × ny). Exported for worker threads. */
export function crossDotBlock(input: CrossDotInput): Float64Array {
  const { x, nx, y, ny, p, a0, a1 } = input;
  const m = a1 - a0;
  const c = new Float64Array(m * ny);
  for (let j0 = 0; j0 < p; j0 += CHUNK) {
    const j1 = Math.min(p, j0 + CHUNK);
    let a = a0;
    for (; a + 3 < a1; a += 4) {
      const r0 = (a - a0) * ny;
      let b = input.upper ? a : 0;
      for (; b + 3 < ny; b += 4) {
        let c00 = 0,
          c01 = 0,
          c02 = 0,
          c03 = 0;
        let c10 = 0,
          c11 = 0,
          c12 = 0,
          c13 = 0;
        let c20 = 0,
          c21 = 0,
          c22 = 0,
          c23 = 0;
        let c30 = 0,
          c31 = 0,
          c32 = 0,
          c33 = 0;
        for (let j = j0; j < j1; j++) {
          const xo = j * nx + a;
          const yo = j * ny + b;
          const x0 = x[xo]!;
          const x1 = x[xo + 1]!;
          const x2 = x[xo + 2]!;
          const x3 = x[xo + 3]!;
          const y0 = y[yo]!;
          const y1 = y[yo + 1]!;
          const y2 = y[yo + 2]!;
          const y3 = y[yo + 3]!;
          c00 += x0 * y0;
          c01 += x0 * y1;
          c02 += x0 * y2;
          c03 += x0 * y3;
          c10 += x1 * y0;
          c11 += x1 * y1;
          c12 += x1 * y2;
          c13 += x1 * y3;
          c20 += x2 * y0;
          c21 += x2 * y1;
          c22 += x2 * y2;
          c23 += x2 * y3;
          c30 += x3 * y0;
          c31 += x3 * y1;
          c32 += x3 * y2;
          c33 += x3 * y3;
        }
        c[r0 + b] += c00;
        c[r0 + b + 1] += c01;
        c[r0 + b + 2] += c02;
        c[r0 + b + 3] += c03;
        const r1 = r0 + ny;
        c[r1 + b] += c10;
        c[r1 + b + 1] += c11;
        c[r1 + b + 2] += c12;
        c[r1 + b + 3] += c13;
        const r2 = r1 + ny;
        c[r2 + b] += c20;
        c[r2 + b + 1] += c21;
        c[r2 + b + 2] += c22;
        c[r2 + b + 3] += c23;
        const r3 = r2 + ny;
        c[r3 + b] += c30;
        c[r3 + b + 1] += c31;
        c[r3 + b + 2] += c32;
        c[r3 + b + 3] += c33;
      }
      for (; b < ny; b++) {
        for (let t = 0; t < 4; t++) {
          let s = 0;
          for (let j = j0; j < j1; j++) s += x[j * nx + a + t]! * y[j * ny + b]!;
          c[r0 + t * ny + b] += s;
        }
      }
    }
    const restStart = a;
    for (; a < a1; a++) {
      const r = (a - a0) * ny;
      for (let b = input.upper ? restStart : 0; b < ny; b++) {
        let s = 0;
        for (let j = j0; j < j1; j++) s += x[j * nx + a]! * y[j * ny + b]!;
        c[r + b] += s;
      }
    }
  }
  return c;
}

function shared(a: Float64Array): Float64Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float64Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/** C = Xᵀ-samples · Y-samples (row-major nx × ny) for column-major x (nx × p) and y (ny × p). */
export async function crossDot(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  opts: { threads?: number; signal?: AbortSignal; minThreadWork?: number } = {},
): Promise<Float64Array> {
  const work = nx * ny * p;
  const threads =
    work < (opts.minThreadWork ?? THREAD_WORK) ? 1 : Math.max(1, opts.threads ?? defaultThreads());
  if (threads === 1) return crossDotBlock({ x, nx, y, ny, p, a0: 0, a1: nx });
  const xs = shared(x);
  const ys = x === y ? xs : shared(y);
  const nBlocks = Math.min(Math.ceil(nx / 4), threads * 2);
  const per = Math.ceil(nx / nBlocks / 4) * 4;
  const inputs: CrossDotInput[] = [];
  for (let a0 = 0; a0 < nx; a0 += per) {
    inputs.push({ x: xs, nx, y: ys, ny, p, a0, a1: Math.min(nx, a0 + per) });
  }
  const parts = await parallelMap<CrossDotInput, Float64Array>(
    __filename,
    'crossDotBlock',
    inputs,
    {
      threads,
      signal: opts.signal,
    },
  );
  const out = new Float64Array(nx * ny);
  let off = 0;
  for (const part of parts) {
    out.set(part, off);
    off += part.length;
  }
  return out;
}

/**
 * Gram matrix G = X-samples · X-samples (row-major n × n) computing only the upper block
 * triangle (row blocks of 4 from the diagonal block on) and mirroring it: half the multiply-adds.
 * Each entry is the same sum in the same order as crossDot's, and G[b][a] = G[a][b] exactly.
 */
export async function gram(
  x: Float64Array,
  n: number,
  p: number,
  opts: { threads?: number; signal?: AbortSignal; minThreadWork?: number } = {},
): Promise<Float64Array> {
  const work = (n * n * p) / 2;
  const threads =
    work < (opts.minThreadWork ?? THREAD_WORK) ? 1 : Math.max(1, opts.threads ?? defaultThreads());
  const out = new Float64Array(n * n);
  if (threads === 1) {
    out.set(crossDotBlock({ x, nx: n, y: x, ny: n, p, a0: 0, a1: n, upper: true }));
  } else {
    const xs = shared(x);
    // Row blocks of decreasing height so that each carries about the same triangle area.
    const nBlocks = Math.min(Math.ceil(n / 4), threads * 4);
    const inputs: CrossDotInput[] = [];
    let a0 = 0;
    for (let t = 0; t < nBlocks && a0 < n; t++) {
      const target = n - n * Math.sqrt(1 - (t + 1) / nBlocks);
      const a1 = t === nBlocks - 1 ? n : Math.min(n, Math.max(a0 + 4, Math.ceil(target / 4) * 4));
      inputs.push({ x: xs, nx: n, y: xs, ny: n, p, a0, a1, upper: true });
      a0 = a1;
    }
    const parts = await parallelMap<CrossDotInput, Float64Array>(
      __filename,
      'crossDotBlock',
      inputs,
      { threads, signal: opts.signal },
    );
    parts.forEach((part, t) => out.set(part, inputs[t]!.a0 * n));
  }
  // Mirror: a row block computed columns from its own first row on, so for b < a the entry
  // G[a][b] is either computed (same block) or zero and taken from G[b][a].
  for (let a = 0; a < n; a++) {
    const blockStart = a - (a % 4);
    for (let b = 0; b < blockStart; b++) out[a * n + b] = out[b * n + a]!;
  }
  return out;
}

/** Squared norms of the samples of a column-major matrix. */
export function sampleSquaredNorms(x: Float64Array, n: number, p: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    const off = j * n;
    for (let i = 0; i < n; i++) out[i] += x[off + i]! * x[off + i]!;
  }
  return out;
}

/**
 * Float32 cross products on the active TensorFlow.js backend (native TensorFlow, else WASM SIMD)
 * for *screening* only: callers bound the float32 error (see `F32_DOT_ERROR`) and recompute in
 * float64 whatever the bound cannot decide.
 *
 * The operands are centred by `center` (per-feature values, e.g. training means; distances do not
 * change, norms — and with them the error bound — shrink) and rounded to float32 here. `x` is
 * laid out row-major nx × p while being converted (tfjs matMul with a transposed operand is
 * several times slower on wasm), `y` is column-major already, i.e. row-major p × ny.
 * Returns C (row-major nx × ny, float32) and the squared norms of the centred float64 rows.
 */
export async function centredCrossDotF32(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  center: Float64Array,
  yCache?: { y32: Float32Array; norms: Float64Array },
  opts: { threads?: number; signal?: AbortSignal; minSplitWork?: number } = {},
): Promise<{ c: Float32Array; xNorms: Float64Array; yNorms: Float64Array; backend: string }> {
  const backend = await initTensorBackend();
  // The wasm backend runs on one core: large products are split by row blocks over worker
  // threads, each with its own wasm backend, the matrices shared (SharedArrayBuffer, no copies).
  const threads = Math.max(1, Math.min(opts.threads ?? defaultThreads(), nx));
  const split =
    backend === 'wasm' && threads > 1 && nx * ny * p >= (opts.minSplitWork ?? SPLIT_F32_WORK);
  const x32 = split
    ? new Float32Array(new SharedArrayBuffer(4 * nx * p))
    : new Float32Array(nx * p);
  const xNorms = new Float64Array(nx);
  // Blocks of 16 features: 16 contiguous read streams, contiguous 16-value runs written.
  for (let j0 = 0; j0 < p; j0 += 16) {
    const j1 = Math.min(p, j0 + 16);
    for (let a = 0; a < nx; a++) {
      let ss = 0;
      const o = a * p;
      for (let j = j0; j < j1; j++) {
        const v = x[j * nx + a]! - center[j]!;
        x32[o + j] = v;
        ss += v * v;
      }
      xNorms[a] += ss;
    }
  }
  const { y32, norms: yNorms } = yCache ?? centredF32Columns(y, ny, p, center, split);
  if (!split)
    return { c: await f32GemmBlock({ a: x32, rows: nx, b: y32, p, ny }), xNorms, yNorms, backend };
  const b = y32.buffer instanceof SharedArrayBuffer ? y32 : sharedF32(y32);
  const per = Math.ceil(nx / threads);
  const inputs: F32GemmInput[] = [];
  for (let a0 = 0; a0 < nx; a0 += per) {
    const a1 = Math.min(nx, a0 + per);
    inputs.push({ a: x32.subarray(a0 * p, a1 * p), rows: a1 - a0, b, p, ny });
  }
  const parts = await parallelMap<F32GemmInput, Float32Array>(__filename, 'f32GemmBlock', inputs, {
    threads,
    signal: opts.signal,
  });
  const c = new Float32Array(nx * ny);
  let off = 0;
  for (const part of parts) {
    c.set(part, off);
    off += part.length;
  }
  return { c, xNorms, yNorms, backend };
}

/** Multiply-adds from which centredCrossDotF32 splits the wasm product over worker threads. */
const SPLIT_F32_WORK = 1e9;

export interface F32GemmInput {
  /** Row-major rows × p. */
  a: Float32Array;
  rows: number;
  /** Row-major p × ny. */
  b: Float32Array;
  p: number;
  ny: number;
}

/** A · B on this thread's tensor backend (exported for worker threads). */
export async function f32GemmBlock(input: F32GemmInput): Promise<Float32Array> {
  await initTensorBackend();
  const { a, rows, b, p, ny } = input;
  const out = tf.tidy(() => tf.matMul(tf.tensor2d(a, [rows, p]), tf.tensor2d(b, [p, ny])));
  const c = (await out.data()) as Float32Array;
  out.dispose();
  return c;
}

function sharedF32(a: Float32Array): Float32Array {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/** y − center as float32 (same column-major layout) and the centred float64 squared norms. */
export function centredF32Columns(
  y: Float64Array,
  ny: number,
  p: number,
  center: Float64Array,
  shared = false,
): { y32: Float32Array; norms: Float64Array } {
  const y32 = shared
    ? new Float32Array(new SharedArrayBuffer(4 * ny * p))
    : new Float32Array(ny * p);
  const norms = new Float64Array(ny);
  for (let j = 0; j < p; j++) {
    const off = j * ny;
    const cj = center[j]!;
    for (let b = 0; b < ny; b++) {
      const v = y[off + b]! - cj;
      y32[off + b] = v;
      norms[b] += v * v;
    }
  }
  return { y32, norms };
}

/**
 * |computed x·y − x·y| ≤ factor · ‖x‖‖y‖ for a length-p dot product: float32 inputs rounded from
 * float64 (2u) plus any float32 summation order, with or without FMA (γ_p ≤ 1.01·p·u while
 * p·u < 0.01) — the standard bound with Σ|x_j y_j| ≤ ‖x‖‖y‖ (Cauchy–Schwarz).
 */
export function dotErrorFactor(p: number, precision: 'f32' | 'f64'): number {
  const u = precision === 'f32' ? 2 ** -24 : 2 ** -53;
  return (p + 3) * u * 1.02;
}
