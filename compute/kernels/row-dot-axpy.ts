/**
 * A row-major matrix and one working vector in a single WebAssembly memory, with the f64x2 kernels
 * of a row-wise coordinate descent (liblinear's dual SVM, compute/models/linear_svm_dual.ts, runs
 * one dot product s = x_iᵀw and one update w += δ·x_i per visited sample; the update is fused with
 * the next sample's dot product) and of filling the rows from column-major data (a 2 × 2-block
 * transpose that also takes the column sds the model reports).
 *
 * Why: V8 does not vectorise typed-array loops; at 200 × 2,000 the scalar dot / axpy over a
 * sample's row were two thirds of a linear_svm fit + predict, the column-major → row-major copy
 * another 10 %.
 *
 * Bit-identical to the JavaScript fallback (no wasm SIMD, OMICSELECTOR_NO_SIMD=1, or too large):
 * the dot keeps eight partial sums s0…s7 over j ≡ 0…7 (mod 8) in the lanes of four f64x2
 * accumulators (acc_k = (s_2k, s_2k+1)), reduces them as ((acc0 + acc1) + (acc2 + acc3)) lane-wise,
 * adds lane 0 and lane 1, then the last p mod 8 products one by one (`dotJs`); the updates are
 * elementwise. wasm has no fused multiply-add, so every rounding is the same on both paths.
 */
import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  END,
  F64,
  F64_ADD,
  F64_MUL,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_SPLAT,
  f64Load,
  f64Store,
  GE_S,
  get,
  I32,
  i32,
  lane,
  lazyModule,
  LOOP,
  MAX_BYTES,
  MUL,
  moduleBytes,
  PAGE,
  set,
  SHL,
  simdDisabled,
  uleb,
  F64X2_SUB,
  tee,
  V128,
  V128_ZERO,
  v128Load,
  v128Store,
  wasm,
  type WasmMemory,
  emitter,
} from './wasm-asm';

type DotFn = (a: number, b: number, len: number) => number;
type AxpyDotFn = (a: number, b: number, len: number, x: number, d: number) => number;
type AxpyFn = (y: number, x: number, d: number, len: number) => void;
type ColSdFn = (src: number, n: number, p: number, g: number, out: number, nf: number) => void;
type TransposeFn = (src: number, n: number, n2: number, m2: number, dst: number, p: number) => void;

interface Instance {
  memory: WasmMemory;
  dot: DotFn;
  axpyDot: AxpyDotFn;
  axpy: AxpyFn;
  transpose: TransposeFn;
  colSd: ColSdFn;
}

/**
 * One instance is kept per thread and reused (grown when needed) up to this size: one call target
 * for the solver's hot loop across fits, and no fresh memory per fit. Larger problems get their
 * own instance, released with the workspace, so a big fit does not pin its memory.
 */
const KEEP_BYTES = 64 * 2 ** 20;
let kept: Instance | null = null;

const compiled = lazyModule(() =>
  moduleBytes([
    { name: 'dot', params: [I32, I32, I32], results: [F64], code: dotBody(false) },
    { name: 'axpyDot', params: [I32, I32, I32, I32, F64], results: [F64], code: dotBody(true) },
    { name: 'axpy', params: [I32, I32, F64, I32], results: [], code: axpyBody() },
    { name: 'colSd', params: [I32, I32, I32, I32, I32, F64], results: [], code: colSdBody() },
    {
      name: 'transpose',
      params: [I32, I32, I32, I32, I32, I32],
      results: [],
      code: transposeBody(),
    },
  ]),
);

function instantiate(bytes: number): Instance | null {
  if (bytes > MAX_BYTES || simdDisabled()) return null;
  const mod = compiled();
  if (!mod || !wasm) return null;
  const pages = Math.ceil(bytes / PAGE);
  if (bytes <= KEEP_BYTES && kept) {
    const have = kept.memory.buffer.byteLength / PAGE;
    if (pages > have) kept.memory.grow(pages - have);
    return kept;
  }
  try {
    const memory = new wasm.Memory({ initial: pages });
    const inst = new wasm.Instance(mod, { env: { mem: memory } });
    const made = {
      memory,
      dot: inst.exports.dot as DotFn,
      axpyDot: inst.exports.axpyDot as AxpyDotFn,
      axpy: inst.exports.axpy as AxpyFn,
      transpose: inst.exports.transpose as TransposeFn,
      colSd: inst.exports.colSd as ColSdFn,
    };
    if (bytes <= KEEP_BYTES) kept = made;
    return made;
  } catch {
    return null;
  }
}

/** s = Σ_j z[a + j]·z[b + j], j < len, in the order of the file comment (the reference arithmetic). */
export function dotJs(z: Float64Array, a: number, b: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  let j = 0;
  for (; j + 7 < len; j += 8) {
    s0 += z[a + j]! * z[b + j]!;
    s1 += z[a + j + 1]! * z[b + j + 1]!;
    s2 += z[a + j + 2]! * z[b + j + 2]!;
    s3 += z[a + j + 3]! * z[b + j + 3]!;
    s4 += z[a + j + 4]! * z[b + j + 4]!;
    s5 += z[a + j + 5]! * z[b + j + 5]!;
    s6 += z[a + j + 6]! * z[b + j + 6]!;
    s7 += z[a + j + 7]! * z[b + j + 7]!;
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (; j < len; j++) s += z[a + j]! * z[b + j]!;
  return s;
}

/** i8x16.shuffle of (a, b) → (a₀, b₀) and (a₁, b₁): the two f64 lanes of a 2 × 2 transpose. */
const lanes = (...idx: number[]) => [0xfd, 0x0d, ...idx];
const SHUFFLE_LOW = lanes(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
const SHUFFLE_HIGH = lanes(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);

/** Columns staged per wasm transpose call (n × STAGE doubles, in L2 while they are transposed). */
const STAGE = 64;

/**
 * n × p row-major rows followed by a p-vector w, in wasm memory when possible. `rows` and `w` are
 * views (rows[i·p + j], w[j]; w starts at 0); fill the rows (`fillRows`), then call dot / axpy.
 * The views of a workspace are valid until the next one is made on the same thread (the reused
 * memory may grow).
 */
export class RowWorkspace {
  readonly rows: Float64Array;
  readonly w: Float64Array;
  /** The whole storage: rows at 0, w at n·p. */
  private readonly z: Float64Array;
  private readonly inst: Instance | null;
  private readonly wOff: number;

  constructor(
    private readonly n: number,
    private readonly p: number,
  ) {
    const len = n * p + p;
    // wasm: then the staged columns (n × STAGE) and their sds (p)
    const wasmLen = len + n * STAGE + p;
    this.inst = instantiate(wasmLen * 8);
    this.z = this.inst
      ? new Float64Array(this.inst.memory.buffer, 0, wasmLen)
      : new Float64Array(len);
    this.wOff = n * p;
    this.rows = this.z.subarray(0, n * p);
    this.w = this.z.subarray(this.wOff, len);
    this.w.fill(0); // a reused memory holds the previous fit's w
  }

  /**
   * rows = the transpose of column-major `data` (n × p). wasm: STAGE columns at a time are copied
   * into the memory after w and transposed there in 2 × 2 blocks (a JavaScript copy, strided on
   * one side whatever the loop order, ran at ~5 ns per element: 2 ms at 200 × 2,000); with `sd`,
   * each block's column sds are taken while it is in cache, bit-identical to columnSd
   * (compute/linear/model.ts). Returns how many leading columns got their sd (p − p mod 8 on the
   * wasm path, 0 otherwise): the caller computes the rest.
   */
  fillRows(data: Float64Array, sd?: Float64Array): number {
    const { n, p, rows } = this;
    if (!this.inst) {
      transposeJs(data, 0, n, n, p, rows, 0, p);
      return 0;
    }
    const stageOff = this.wOff + p;
    const sdOff = stageOff + n * STAGE;
    const n2 = n & ~1;
    let done = 0;
    for (let j0 = 0; j0 < p; j0 += STAGE) {
      const m = Math.min(STAGE, p - j0);
      this.z.set(data.subarray(j0 * n, (j0 + m) * n), stageOff);
      const m2 = m & ~1;
      this.inst.transpose(stageOff * 8, n, n2, m2, j0 * 8, p);
      // the odd last column (rows of the 2 × 2 blocks) and the odd last row
      if (m2 < m) transposeJs(data, (j0 + m2) * n, n, n2, 1, rows, j0 + m2, p);
      if (n2 < n) transposeJs(data, j0 * n + n2, n, 1, m, rows, n2 * p + j0, p);
      if (sd) {
        const groups = m >> 3;
        this.inst.colSd(j0 * 8, n, p, groups, (sdOff + j0) * 8, n);
        done = j0 + 8 * groups;
      }
    }
    if (sd) sd.set(this.z.subarray(sdOff, sdOff + done));
    return done;
  }

  /** True when the wasm kernels run. */
  get simd(): boolean {
    return this.inst !== null;
  }

  /** x_iᵀw. */
  dotW(i: number): number {
    const p = this.p;
    if (this.inst) return this.inst.dot(i * p * 8, this.wOff * 8, p);
    return dotJs(this.z, i * p, this.wOff, p);
  }

  /** x_iᵀx_k. */
  dotRows(i: number, k: number): number {
    const p = this.p;
    if (this.inst) return this.inst.dot(i * p * 8, k * p * 8, p);
    return dotJs(this.z, i * p, k * p, p);
  }

  /** w += d·x_i, then x_kᵀw (= axpyW(i, d); dotW(k), bit for bit). */
  axpyDotW(i: number, d: number, k: number): number {
    const p = this.p;
    if (this.inst) return this.inst.axpyDot(k * p * 8, this.wOff * 8, p, i * p * 8, d);
    this.axpyW(i, d);
    return this.dotW(k);
  }

  /** w += d·x_i. */
  axpyW(i: number, d: number): void {
    const p = this.p;
    if (this.inst) {
      this.inst.axpy(this.wOff * 8, i * p * 8, d, p);
      return;
    }
    const z = this.z;
    const o = i * p;
    const wo = this.wOff;
    for (let j = 0; j < p; j++) z[wo + j] = z[wo + j]! + d * z[o + j]!;
  }
}

/**
 * dst[off + i·p + j] = src[srcOff + j·stride + i] for i < rowsN, j < cols; eight rows at a time,
 * so that each source cache line is read once and the writes go to eight sequential streams.
 */
function transposeJs(
  src: Float64Array,
  srcOff: number,
  stride: number,
  rowsN: number,
  cols: number,
  dst: Float64Array,
  off: number,
  p: number,
): void {
  for (let i0 = 0; i0 < rowsN; i0 += 8) {
    const i1 = Math.min(rowsN, i0 + 8);
    for (let j = 0; j < cols; j++) {
      const c = srcOff + j * stride;
      for (let i = i0; i < i1; i++) dst[off + i * p + j] = src[c + i]!;
    }
  }
}

/**
 * transpose(src, n, n2, m2, dst, p): the 2 × 2 blocks of an n × m column-major block at src into
 * rows of stride p at dst, for even n2 ≤ n rows and m2 ≤ m columns (byte pointers; n, p in
 * doubles). Two column loads (rows i, i + 1 of columns j, j + 1), two lane shuffles, two row stores.
 */
function transposeBody(): number[] {
  const [SRC, N, N2, M2, DST, P] = [0, 1, 2, 3, 4, 5];
  const [I, J, SP, DP, CB, RB, A] = [6, 7, 8, 9, 10, 11, 12];
  const B = 13;
  const { code: c, e } = emitter();
  e(get(N), i32(3), SHL, set(CB)); // column stride, bytes
  e(get(P), i32(3), SHL, set(RB)); // row stride, bytes
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N2), GE_S, brIf(1));
  e(get(SRC), get(I), i32(3), SHL, ADD, set(SP));
  e(get(DST), get(I), get(RB), MUL, ADD, set(DP));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(M2), GE_S, brIf(1));
  e(get(SP), v128Load(), set(A), get(SP), get(CB), ADD, v128Load(), set(B));
  e(get(DP), get(A), get(B), SHUFFLE_LOW, v128Store());
  e(get(DP), get(RB), ADD, get(A), get(B), SHUFFLE_HIGH, v128Store());
  e(get(SP), get(CB), i32(1), SHL, ADD, set(SP), get(DP), i32(16), ADD, set(DP));
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  e(get(I), i32(2), ADD, set(I), br(0), END, END);
  return body(
    [
      [6, I32],
      [2, V128],
    ],
    c,
  );
}

/**
 * dot(a, b, len) → a·b, or (fused) axpyDot(a, b, len, x, d): b += d·x, then → a·b with the updated
 * b (one pass over b instead of two); byte pointers, the order of the file comment.
 */
function dotBody(fused: boolean): number[] {
  const [A, B, LEN, X, D] = [0, 1, 2, 3, 4];
  const base = fused ? 5 : 3;
  const [J, END8, ENDN] = [base, base + 1, base + 2];
  const ACC = [base + 3, base + 4, base + 5, base + 6];
  const [DV, BV] = [base + 7, base + 8]; // fused only
  const S = fused ? base + 9 : base + 7;
  const { code: c, e } = emitter();
  e(get(LEN), i32(-8), AND, i32(3), SHL, set(END8));
  e(get(LEN), i32(3), SHL, set(ENDN));
  for (const acc of ACC) e(V128_ZERO, set(acc));
  if (fused) e(get(D), F64X2_SPLAT, set(DV));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(END8), GE_S, brIf(1));
  ACC.forEach((acc, k) => {
    const at = 16 * k;
    if (fused) {
      e(get(B), get(J), ADD, get(B), get(J), ADD, v128Load(at));
      e(get(DV), get(X), get(J), ADD, v128Load(at), F64X2_MUL, F64X2_ADD, tee(BV), v128Store(at));
      e(get(acc), get(A), get(J), ADD, v128Load(at), get(BV), F64X2_MUL, F64X2_ADD, set(acc));
    } else {
      e(get(acc), get(A), get(J), ADD, v128Load(at), get(B), get(J), ADD, v128Load(at));
      e(F64X2_MUL, F64X2_ADD, set(acc));
    }
  });
  e(get(J), i32(64), ADD, set(J), br(0), END, END);
  // ((acc0 + acc1) + (acc2 + acc3)), then lane 0 + lane 1
  e(get(ACC[0]!), get(ACC[1]!), F64X2_ADD, get(ACC[2]!), get(ACC[3]!), F64X2_ADD, F64X2_ADD);
  e(set(ACC[0]!), get(ACC[0]!), lane(0), get(ACC[0]!), lane(1), F64_ADD, set(S));
  e(BLOCK, LOOP);
  e(get(J), get(ENDN), GE_S, brIf(1));
  if (fused) {
    e(get(B), get(J), ADD, get(B), get(J), ADD, f64Load(), get(D), get(X), get(J), ADD, f64Load());
    e(F64_MUL, F64_ADD, f64Store());
  }
  e(get(S), get(A), get(J), ADD, f64Load(), get(B), get(J), ADD, f64Load(), F64_MUL, F64_ADD);
  e(set(S), get(J), i32(8), ADD, set(J), br(0), END, END);
  e(get(S));
  return body(
    [
      [3, I32],
      [fused ? 6 : 4, V128],
      [1, F64],
    ],
    c,
  );
}

const F64X2_DIV = [0xfd, ...uleb(0xf3)];
const F64X2_SQRT = [0xfd, ...uleb(0xef)];

/**
 * colSd(src, n, p, groups, out, nf): for 8 · groups columns of the row-major block at src (row stride
 * p doubles), out[j] = √(Σ_i (x_ij − m_j)² / n), m_j = (Σ_i x_ij) / n, every sum taken over i in
 * order: column j in one lane (x_ij and x_i,j+1 are neighbours in a row), the arithmetic of
 * compute/linear/model.ts columnSd lane by lane.
 */
function colSdBody(): number[] {
  const [SRC, N, P, G, OUT, NF] = [0, 1, 2, 3, 4, 5];
  const [T, I, PTR, RB] = [6, 7, 8, 9];
  const ACC = [10, 11, 12, 13];
  const MEAN = [14, 15, 16, 17];
  const [NV, XV] = [18, 19];
  const { code: c, e } = emitter();
  // one pass over the block's rows: per lane, acc += f(x)
  const pass = (f: (k: number) => number[]) => {
    for (const acc of ACC) e(V128_ZERO, set(acc));
    e(get(SRC), get(T), i32(6), SHL, ADD, set(PTR), i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(N), GE_S, brIf(1));
    ACC.forEach((acc, k) => e(get(acc), get(PTR), v128Load(16 * k), f(k), F64X2_ADD, set(acc)));
    e(get(PTR), get(RB), ADD, set(PTR), get(I), i32(1), ADD, set(I), br(0), END, END);
  };
  e(get(P), i32(3), SHL, set(RB), get(NF), F64X2_SPLAT, set(NV));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(G), GE_S, brIf(1));
  pass(() => []);
  ACC.forEach((acc, k) => e(get(acc), get(NV), F64X2_DIV, set(MEAN[k]!)));
  pass(k => [...get(MEAN[k]!), ...F64X2_SUB, ...tee(XV), ...get(XV), ...F64X2_MUL]);
  ACC.forEach((acc, k) => {
    e(get(OUT), get(T), i32(6), SHL, ADD, get(acc), get(NV), F64X2_DIV, F64X2_SQRT);
    e(v128Store(16 * k));
  });
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  return body(
    [
      [4, I32],
      [10, V128],
    ],
    c,
  );
}

/** axpy(y, x, d, len): y[j] += d·x[j], byte pointers. */
function axpyBody(): number[] {
  const [Y, X, D, LEN] = [0, 1, 2, 3];
  const [J, END4, ENDN] = [4, 5, 6];
  const DV = 7;
  const { code: c, e } = emitter();
  e(get(LEN), i32(-4), AND, i32(3), SHL, set(END4));
  e(get(LEN), i32(3), SHL, set(ENDN));
  e(get(D), F64X2_SPLAT, set(DV), i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(END4), GE_S, brIf(1));
  for (const at of [0, 16]) {
    e(get(Y), get(J), ADD, get(Y), get(J), ADD, v128Load(at), get(DV));
    e(get(X), get(J), ADD, v128Load(at), F64X2_MUL, F64X2_ADD, v128Store(at));
  }
  e(get(J), i32(32), ADD, set(J), br(0), END, END);
  e(BLOCK, LOOP);
  e(get(J), get(ENDN), GE_S, brIf(1));
  e(get(Y), get(J), ADD, get(Y), get(J), ADD, f64Load(), get(D), get(X), get(J), ADD, f64Load());
  e(F64_MUL, F64_ADD, f64Store(), get(J), i32(8), ADD, set(J), br(0), END, END);
  return body(
    [
      [3, I32],
      [1, V128],
    ],
    c,
  );
}
