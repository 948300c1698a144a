/**
 * The two products of one FISTA (or power-iteration) step on a small row-major float32 block X
 * (rows × width, rows a multiple of 4, width a multiple of 16), with WebAssembly SIMD f32x4:
 *
 *   dots:  out[t] = Σ_k X[t,k]·v[k]        (the linear predictor of each row)
 *   rowsT: g[k]   = Σ_t r[t]·X[t,k]        (the gradient Xᵀr)
 *
 * Why: the batched elastic net (compute/linear/batched/) iterates each subsample's working-set
 * block [n_b × w] hundreds of times. tfjs-wasm's batchMatMul ran those [B, n_b, w] × [B, w, 1]
 * products at ~0.6 G multiply-adds/s (12 ms per step at B = 100, n_b = 100, w = 186); here one
 * subsample's block stays in L2 across all its iterations and each product streams it once.
 *
 * Bit-identical to the JavaScript twins (no wasm SIMD, or OMICSELECTOR_NO_SIMD=1): every
 * operation rounds to float32 (a float64 product or sum of two float32 values, stored into a
 * Float32Array, is the correctly rounded float32 result), and the orders are fixed —
 * dots: 16 partial sums over k mod 16 (four f32x4 accumulators a0…a3), reduced lane-wise as
 * (a0 + a1) + (a2 + a3), then lanes (l0 + l1) + (l2 + l3); rowsT: per column, four rows at a time,
 * g = (((g + r₀x₀) + r₁x₁) + r₂x₂) + r₃x₃ from g = 0.
 */
import {
  ADD,
  BLOCK,
  body,
  br,
  brIf,
  END,
  GE_U,
  get,
  I32,
  i32,
  lazyModule,
  LOOP,
  LT_U,
  MAX_BYTES,
  moduleBytes,
  MUL,
  PAGE,
  set,
  simdDisabled,
  V128,
  V128_ZERO,
  wasm,
  type WasmMemory,
  emitter,
  F32_ADD,
  f32Store,
  f32x4Lane,
  F32X4_ADD,
  F32X4_MUL,
  load32Splat,
  v128LoadA16,
  v128StoreA16,
} from './wasm-asm';

/** Row padding (rowsT takes four rows per step) and column padding (dots: 16 lanes per step). */
export const ROW_ALIGN = 4;
export const COL_ALIGN = 16;

export const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/** dots(x, v, out, rows, width): byte pointers; the order of the file comment. */
function dotsBody(): number[] {
  const [X, VP, OUT, ROWS, W] = [0, 1, 2, 3, 4];
  const [T, PX, PV, END_] = [5, 6, 7, 8];
  const A = [9, 10, 11, 12];
  const { code: b, e } = emitter();
  e(i32(0), set(T), get(X), set(PX));
  e(BLOCK, LOOP);
  e(get(T), get(ROWS), GE_U, brIf(1));
  for (const a of A) e(V128_ZERO, set(a));
  e(get(VP), set(PV), get(PX), get(W), i32(4), MUL, ADD, set(END_));
  e(LOOP);
  for (let q = 0; q < 4; q++) {
    e(
      get(A[q]!),
      get(PX),
      v128LoadA16(16 * q),
      get(PV),
      v128LoadA16(16 * q),
      F32X4_MUL,
      F32X4_ADD,
      set(A[q]!),
    );
  }
  e(get(PX), i32(64), ADD, set(PX), get(PV), i32(64), ADD, set(PV));
  e(get(PX), get(END_), LT_U, brIf(0));
  e(END);
  // (a0 + a1) + (a2 + a3) lane-wise, then (l0 + l1) + (l2 + l3); PX is now the next row.
  e(get(A[0]!), get(A[1]!), F32X4_ADD, get(A[2]!), get(A[3]!), F32X4_ADD, F32X4_ADD, set(A[0]!));
  e(get(OUT), get(T), i32(4), MUL, ADD);
  e(get(A[0]!), f32x4Lane(0), get(A[0]!), f32x4Lane(1), F32_ADD);
  e(get(A[0]!), f32x4Lane(2), get(A[0]!), f32x4Lane(3), F32_ADD, F32_ADD, f32Store());
  e(get(T), i32(1), ADD, set(T), br(0));
  e(END, END);
  return body(
    [
      [4, I32],
      [4, V128],
    ],
    b,
  );
}

/** rowsT(x, r, g, rows, width): byte pointers; g zeroed first; four rows per step. */
function rowsTBody(): number[] {
  const [X, R, G, ROWS, W] = [0, 1, 2, 3, 4];
  const [T, K, STRIDE, P0, PG, END_] = [5, 6, 7, 8, 9, 10];
  const S = [11, 12, 13, 14];
  const ACC = 15;
  const { code: b, e } = emitter();
  e(get(W), i32(4), MUL, set(STRIDE), get(G), get(STRIDE), ADD, set(END_));
  // g = 0
  e(get(G), set(PG), BLOCK, LOOP, get(PG), get(END_), GE_U, brIf(1));
  e(get(PG), V128_ZERO, v128StoreA16(), get(PG), i32(16), ADD, set(PG), br(0), END, END);
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(ROWS), GE_U, brIf(1));
  for (let q = 0; q < 4; q++)
    e(get(R), get(T), i32(q), ADD, i32(4), MUL, ADD, load32Splat(), set(S[q]!));
  e(get(X), get(T), get(STRIDE), MUL, ADD, set(P0), get(G), set(PG), i32(0), set(K));
  e(LOOP);
  e(get(PG), v128LoadA16(), set(ACC));
  for (let q = 0; q < 4; q++) {
    // row t + q at P0 + q·stride + K
    e(get(ACC), get(S[q]!), get(P0), get(K), ADD);
    if (q > 0) e(get(STRIDE), i32(q), MUL, ADD);
    e(v128LoadA16(), F32X4_MUL, F32X4_ADD, set(ACC));
  }
  e(get(PG), get(ACC), v128StoreA16());
  e(get(PG), i32(16), ADD, set(PG), get(K), i32(16), ADD, set(K));
  e(get(PG), get(END_), LT_U, brIf(0));
  e(END);
  e(get(T), i32(4), ADD, set(T), br(0));
  e(END, END);
  return body(
    [
      [6, I32],
      [5, V128],
    ],
    b,
  );
}

const compiled = lazyModule(() =>
  moduleBytes([
    { name: 'dots', params: [I32, I32, I32, I32, I32], results: [], code: dotsBody() },
    { name: 'rowsT', params: [I32, I32, I32, I32, I32], results: [], code: rowsTBody() },
  ]),
);

type RowsFn = (x: number, v: number, out: number, rows: number, width: number) => void;

/** out[t] = X[t,·]·v, the arithmetic of the file comment. */
export function dotsJs(
  x: Float32Array,
  v: Float32Array,
  out: Float32Array,
  rows: number,
  width: number,
): void {
  const acc = new Float32Array(16);
  const red = new Float32Array(4);
  for (let t = 0; t < rows; t++) {
    acc.fill(0);
    const off = t * width;
    for (let k = 0; k < width; k += 16) {
      for (let l = 0; l < 16; l++) acc[l] = acc[l]! + Math.fround(x[off + k + l]! * v[k + l]!);
    }
    for (let l = 0; l < 4; l++) {
      red[l] = Math.fround(acc[l]! + acc[4 + l]!) + Math.fround(acc[8 + l]! + acc[12 + l]!);
    }
    out[t] = Math.fround(red[0]! + red[1]!) + Math.fround(red[2]! + red[3]!);
  }
}

/** g[k] = Σ_t r[t]·X[t,k], the arithmetic of the file comment. */
export function rowsTJs(
  x: Float32Array,
  r: Float32Array,
  g: Float32Array,
  rows: number,
  width: number,
): void {
  g.fill(0, 0, width);
  for (let t = 0; t < rows; t += 4) {
    for (let q = 0; q < 4; q++) {
      const s = r[t + q]!;
      const off = (t + q) * width;
      for (let k = 0; k < width; k++) g[k] = g[k]! + Math.fround(s * x[off + k]!);
    }
  }
}

/**
 * One block X (up to `rows` × width) with its vectors in a WebAssembly memory when SIMD is
 * available (plain arrays otherwise). Fill `x` (padding rows and columns zero), then `dots`
 * (reads v, writes out) and `rowsT` (reads r, writes g) over its first `used` rows (a multiple of
 * ROW_ALIGN; default all): one block serves row counts up to its capacity.
 */
export class F32RowBlock {
  readonly x: Float32Array;
  readonly v: Float32Array;
  readonly out: Float32Array;
  readonly r: Float32Array;
  readonly g: Float32Array;
  private readonly fns: { dots: RowsFn; rowsT: RowsFn } | null;
  private readonly ptr: { x: number; v: number; out: number; r: number; g: number };

  constructor(
    readonly rows: number,
    readonly width: number,
  ) {
    if (rows % ROW_ALIGN || width % COL_ALIGN) throw new Error('F32RowBlock: unaligned shape');
    const floats = rows * width + 2 * width + 2 * rows;
    const memory = instantiate(floats * 4);
    const buf = memory?.memory.buffer;
    const all = buf ? new Float32Array(buf, 0, floats) : new Float32Array(floats);
    const x = 0;
    const v = rows * width;
    const out = v + width;
    const r = out + rows;
    const g = r + rows;
    this.ptr = { x: x * 4, v: v * 4, out: out * 4, r: r * 4, g: g * 4 };
    this.x = all.subarray(x, v);
    this.v = all.subarray(v, out);
    this.out = all.subarray(out, r);
    this.r = all.subarray(r, g);
    this.g = all.subarray(g, g + width);
    this.fns = memory;
  }

  /** True when the WebAssembly kernels run (false: the JavaScript twins). */
  get simd(): boolean {
    return this.fns !== null;
  }

  dots(used = this.rows): void {
    this.check(used);
    if (this.fns) this.fns.dots(this.ptr.x, this.ptr.v, this.ptr.out, used, this.width);
    else dotsJs(this.x, this.v, this.out, used, this.width);
  }

  rowsT(used = this.rows): void {
    this.check(used);
    if (this.fns) this.fns.rowsT(this.ptr.x, this.ptr.r, this.ptr.g, used, this.width);
    else rowsTJs(this.x, this.r, this.g, used, this.width);
  }

  private check(used: number): void {
    if (used % ROW_ALIGN || used < 0 || used > this.rows) {
      throw new Error(`F32RowBlock: ${used} rows of ${this.rows}`);
    }
  }
}

function instantiate(bytes: number): { memory: WasmMemory; dots: RowsFn; rowsT: RowsFn } | null {
  if (bytes > MAX_BYTES || simdDisabled()) return null;
  const mod = compiled();
  if (!mod || !wasm) return null;
  try {
    const memory = new wasm.Memory({ initial: Math.ceil(bytes / PAGE) });
    const inst = new wasm.Instance(mod, { env: { mem: memory } });
    return { memory, dots: inst.exports.dots as RowsFn, rowsT: inst.exports.rowsT as RowsFn };
  } catch {
    return null;
  }
}
