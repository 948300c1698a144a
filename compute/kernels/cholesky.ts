/**
 * The Cholesky factorisation and solves of compute/linear/dense.ts in WebAssembly SIMD (f64x2).
 *
 * Why: the JavaScript factorisation ran at ~1 multiply-add per cycle (35 ms at k = 500, the
 * ridge dual's preconditioner at 500 × 20,000), and its solves took ~40 µs at k = 200, one per
 * conjugate-gradient pass. The factor stays in its own memory (WasmCholesky) for those solves.
 * The memory is not shared: nothing here runs on worker threads, and V8 copies into and out of a
 * SharedArrayBuffer (and fills one) several times slower than an ordinary buffer.
 *
 * The factor is U = Lᵀ, upper triangular and row-major, computed in place over the upper
 * triangle of A by blocks of four rows (right-looking, as LAPACK's blocked potrf): each block's
 * four rows are finished, then every later row takes their four-term update in one sweep over
 * contiguous memory. Every update of the trailing rows is independent of the others, so the
 * sweeps run at the f64x2 multiply and add throughput; the row-by-row dot-product form it
 * replaces was bound by its dot products' add chains (279 µs at k = 200 on the CI VM, AMD EPYC,
 * 23 Nov 2026, against … now).
 */
import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  emitter,
  END,
  EQ,
  EQZ,
  F64,
  F64_ADD,
  F64_DIV,
  F64_GT,
  F64_MUL,
  F64_SQRT,
  F64_SUB,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_SPLAT,
  F64X2_SUB,
  f64,
  f64Load,
  f64Store,
  GE_S,
  get,
  GT_S,
  I32,
  i32,
  IF,
  lane,
  lazyModule,
  LOOP,
  LT_S,
  moduleBytes,
  MUL,
  RETURN,
  set,
  SHL,
  simdDisabled,
  SpareMemory,
  SUB,
  tee,
  V128,
  V128_ZERO,
  v128Load,
  v128Store,
  wasm,
  type WasmMemory,
} from './wasm-asm';

type CholFn = (a: number, k: number, floor: number) => number;
type TrsolveFn = (u: number, k: number, z: number) => void;

const compiled = lazyModule(() =>
  moduleBytes([
    { name: 'chol', params: [I32, I32, F64], results: [I32], code: cholBody() },
    { name: 'trsolve', params: [I32, I32, I32], results: [], code: trsolveBody() },
  ]),
);

interface Kernels {
  chol: CholFn;
  trsolve: TrsolveFn;
}

/** One instance per memory (the memories are reused through `spare`). */
const instances = new WeakMap<WasmMemory, Kernels>();

function instance(memory: WasmMemory): Kernels {
  let k = instances.get(memory);
  if (!k) {
    const ex = new wasm!.Instance(compiled()!, { env: { mem: memory } }).exports;
    k = { chol: ex.chol as CholFn, trsolve: ex.trsolve as TrsolveFn };
    instances.set(memory, k);
  }
  return k;
}

/** The largest released factor memory up to 256 MB, reused by the next factorisation. */
const spare = new SpareMemory(2 ** 28);

function factorMemory(bytes: number): WasmMemory | null {
  return simdDisabled() || !compiled() ? null : spare.takeOrCreate(bytes, false);
}

/**
 * The Cholesky factor L (row-major k × k, lower triangle; the upper part is left 0) of symmetric
 * A, by the wasm kernel: null when a pivot is ≤ floor, or when WebAssembly SIMD is unavailable
 * (`undefined` then, so the caller knows to run its own loop).
 */
export function choleskyWasm(
  a: Float64Array,
  k: number,
  floor: number,
): Float64Array | null | undefined {
  const factor = WasmCholesky.factor(a, k, floor);
  if (!factor) return factor;
  const u = factor.u;
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) l[i * k + j] = u[j * k + i]!;
  factor.release();
  return l;
}

/**
 * A Cholesky factor kept in WebAssembly memory for repeated solves Uᵀ U z = b: the forward
 * substitution in its column-oriented (axpy) form and the back substitution as dot products,
 * both over rows of U. Why: the JavaScript solve (compute/linear/dense.ts choleskySolveFactor)
 * took ~40 µs at k = 200, and the ridge dual solve makes one per conjugate-gradient pass plus
 * one. The sums run in another order than that loop's: the results agree to rounding, not to the
 * bit. Call release().
 */
export class WasmCholesky {
  private constructor(
    private memory: WasmMemory | null,
    private readonly k: number,
    /** U = Lᵀ, a view into the memory (valid until release); its strict lower triangle is not set. */
    readonly u: Float64Array,
  ) {}

  /** The factor of A (k × k; its upper triangle is read), or null at a pivot ≤ floor; undefined without wasm SIMD. */
  static factor(a: Float64Array, k: number, floor: number): WasmCholesky | null | undefined {
    return WasmCholesky.make(k, floor, f => f.set(a.subarray(0, k * k), 0));
  }

  /**
   * The factor of C + alpha·I from the upper triangle of C (row i at i · ld, columns t ≥ i; the
   * rest is not read), as centredGramUpper leaves it.
   */
  static factorUpper(
    c: Float64Array,
    ld: number,
    k: number,
    alpha: number,
    floor: number,
  ): WasmCholesky | null | undefined {
    return WasmCholesky.make(k, floor, f => {
      // one copy when the rows are packed (the kernel never reads below the diagonal)
      if (ld === k) f.set(c.subarray(0, k * k));
      else for (let i = 0; i < k; i++) f.set(c.subarray(i * ld + i, i * ld + k), i * k + i);
      for (let i = 0; i < k; i++) f[i * k + i] = f[i * k + i]! + alpha;
    });
  }

  private static make(
    k: number,
    floor: number,
    fill: (a: Float64Array) => void,
  ): WasmCholesky | null | undefined {
    // A, factored in place into U (k²), then the right-hand side (k)
    const memory = factorMemory(8 * k * k + 8 * k);
    if (!memory) return undefined;
    const f = new Float64Array(memory.buffer, 0, k * k);
    fill(f);
    if (!instance(memory).chol(0, k, floor)) {
      spare.give(memory);
      return null;
    }
    return new WasmCholesky(memory, k, f);
  }

  /** z with Uᵀ U z = b (a fresh array). */
  solve(b: Float64Array): Float64Array {
    if (!this.memory) throw new Error('WasmCholesky used after release()');
    const { k } = this;
    const zAt = 8 * k * k;
    const z = new Float64Array(this.memory.buffer, zAt, k);
    z.set(b.subarray(0, k));
    instance(this.memory).trsolve(0, k, zAt);
    return z.slice();
  }

  release(): void {
    if (this.memory) spare.give(this.memory);
    this.memory = null;
  }
}

/**
 * trsolve(u, k, z): z ← (UᵀU)⁻¹ z in place, U row-major k × k at u (upper triangle). Forward,
 * Uᵀy = z: for t from 0, y_t = z_t / U_tt, then z(t, k) −= y_t·U[t, (t, k)] by pairs and an odd
 * last entry in scalar. Back, U z = y: for i from k − 1 down, z_i = (y_i − U[i, (i, k)]·z(i, k)) /
 * U_ii, the dot in two f64x2 accumulators over pairs and an odd last entry in scalar.
 */
function trsolveBody(): number[] {
  const [U, K, Z] = [0, 1, 2];
  const [I, RI, T, ENDP, ENDK] = [3, 4, 5, 6, 7];
  const [S, ZI] = [8, 9];
  const [A0, A1, ZV] = [10, 11, 12];
  const { code: c, e } = emitter();
  e(get(K), i32(3), SHL, set(ENDK));
  // forward
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(K), GE_S, brIf(1));
  e(get(U), get(I), get(K), MUL, i32(3), SHL, ADD, set(RI));
  e(get(Z), get(I), i32(3), SHL, ADD, get(Z), get(I), i32(3), SHL, ADD, f64Load());
  e(get(RI), get(I), i32(3), SHL, ADD, f64Load(), F64_DIV, tee(ZI), f64Store());
  e(get(ZI), F64X2_SPLAT, set(ZV));
  // t from i + 1: pairs while two remain, then an odd last one
  e(get(I), i32(1), ADD, i32(3), SHL, set(T));
  e(get(ENDK), get(T), SUB, i32(-16), AND, get(T), ADD, set(ENDP));
  e(BLOCK, LOOP);
  e(get(T), get(ENDP), GE_S, brIf(1));
  e(get(Z), get(T), ADD, get(Z), get(T), ADD, v128Load(), get(RI), get(T), ADD, v128Load());
  e(get(ZV), F64X2_MUL, F64X2_SUB, v128Store());
  e(get(T), i32(16), ADD, set(T), br(0), END, END);
  e(BLOCK, get(T), get(ENDK), GE_S, brIf(0));
  e(get(Z), get(T), ADD, get(Z), get(T), ADD, f64Load(), get(RI), get(T), ADD, f64Load());
  e(get(ZI), F64_MUL, F64_SUB, f64Store(), END);
  e(get(I), i32(1), ADD, set(I), br(0), END, END);
  // back
  e(get(K), i32(1), SUB, set(I));
  e(BLOCK, LOOP);
  e(get(I), i32(0), LT_S, brIf(1));
  e(get(U), get(I), get(K), MUL, i32(3), SHL, ADD, set(RI));
  e(V128_ZERO, set(A0), V128_ZERO, set(A1));
  e(get(I), i32(1), ADD, i32(3), SHL, set(T));
  e(get(ENDK), get(T), SUB, i32(-32), AND, get(T), ADD, set(ENDP));
  e(BLOCK, LOOP);
  e(get(T), get(ENDP), GE_S, brIf(1));
  for (const [acc, at] of [
    [A0, 0],
    [A1, 16],
  ] as const) {
    e(get(acc), get(RI), get(T), ADD, v128Load(at), get(Z), get(T), ADD, v128Load(at));
    e(F64X2_MUL, F64X2_ADD, set(acc));
  }
  e(get(T), i32(32), ADD, set(T), br(0), END, END);
  e(get(A0), get(A1), F64X2_ADD, set(A0));
  e(get(A0), lane(0), get(A0), lane(1), F64_ADD, set(S));
  e(BLOCK, LOOP);
  e(get(T), get(ENDK), GE_S, brIf(1));
  e(get(S), get(RI), get(T), ADD, f64Load(), get(Z), get(T), ADD, f64Load(), F64_MUL, F64_ADD);
  e(set(S), get(T), i32(8), ADD, set(T), br(0), END, END);
  e(get(Z), get(I), i32(3), SHL, ADD, get(Z), get(I), i32(3), SHL, ADD, f64Load(), get(S), F64_SUB);
  e(get(RI), get(I), i32(3), SHL, ADD, f64Load(), F64_DIV, f64Store());
  e(get(I), i32(1), SUB, set(I), br(0), END, END);
  return body(
    [
      [5, I32],
      [2, F64],
      [3, V128],
    ],
    c,
  );
}

/**
 * chol(a, k, floor) → 1, or 0 at the first pivot ≤ floor: U (UᵀU = A) in place over the upper
 * triangle of row-major A (k × k at a; the strict lower triangle is neither read nor written), by
 * blocks of four rows j0 … j0 + 3:
 * - each block row j in turn: U_jj = √A_jj, the rest of row j times 1/U_jj (LAPACK's scaling),
 *   then the block's later rows s get A[s, t] −= U_js·U_jt (t ≥ s);
 * - every later row s: A[s, t] −= U_{j0,s}·U_{j0,t} + … in order j0 … j0 + 3, for t ≥ s, by
 *   pairs of t (an odd last t in scalar).
 */
function cholBody(): number[] {
  const [A, K, FLOOR] = [0, 1, 2];
  // i32 locals
  const [J0, W, R, J, RJ, SR, RS, T, ENDP, ENDK, ROW] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const B = [14, 15, 16, 17]; // the block rows' addresses
  // f64 locals
  const [D, INV] = [18, 19];
  // v128 locals: the four coefficients of a trailing row, the running value, a scaled splat
  const C = [20, 21, 22, 23];
  const [VAL, CV] = [24, 25];
  const { code: c, e } = emitter();
  /** Byte address of row r (a local holding the index) into local `to`. */
  const rowAt = (r: number, to: number) =>
    e(get(A), get(r), get(K), MUL, i32(3), SHL, ADD, set(to));
  /** T from column `from` (a local) × 8 and ENDP, the end of the pairs up to ENDK. */
  const pairsFrom = (from: number) => {
    e(get(from), i32(3), SHL, set(T));
    e(get(ENDK), get(T), SUB, i32(-16), AND, get(T), ADD, set(ENDP));
  };
  e(get(K), i32(3), SHL, set(ENDK));
  e(i32(0), set(J0));
  e(BLOCK, LOOP);
  e(get(J0), get(K), GE_S, brIf(1));
  e(get(K), get(J0), SUB, tee(W), i32(4), GT_S, IF, i32(4), set(W), END);
  // 1. the block's rows
  e(i32(0), set(R));
  e(BLOCK, LOOP);
  e(get(R), get(W), GE_S, brIf(1));
  e(get(J0), get(R), ADD, set(J));
  rowAt(J, RJ);
  e(get(RJ), get(J), i32(3), SHL, ADD, f64Load(), set(D));
  e(get(D), get(FLOOR), F64_GT, EQZ, IF, i32(0), RETURN, END);
  e(get(RJ), get(J), i32(3), SHL, ADD, get(D), F64_SQRT, tee(D), f64Store());
  e(f64(1), get(D), F64_DIV, tee(INV), F64X2_SPLAT, set(CV));
  // row j from t = j + 1: × 1/U_jj
  e(get(J), i32(1), ADD, set(T));
  pairsFrom(T);
  e(BLOCK, LOOP);
  e(get(T), get(ENDP), GE_S, brIf(1));
  e(get(RJ), get(T), ADD, get(RJ), get(T), ADD, v128Load(), get(CV), F64X2_MUL, v128Store());
  e(get(T), i32(16), ADD, set(T), br(0), END, END);
  e(BLOCK, get(T), get(ENDK), GE_S, brIf(0));
  e(get(RJ), get(T), ADD, get(RJ), get(T), ADD, f64Load(), get(INV), F64_MUL, f64Store(), END);
  // the block's later rows s: A[s, t] −= U_js·U_jt, t ≥ s
  e(get(R), i32(1), ADD, set(SR));
  e(BLOCK, LOOP);
  e(get(SR), get(W), GE_S, brIf(1));
  e(get(J0), get(SR), ADD, set(ROW));
  rowAt(ROW, RS);
  e(get(RJ), get(ROW), i32(3), SHL, ADD, f64Load(), tee(D), F64X2_SPLAT, set(CV));
  pairsFrom(ROW);
  e(BLOCK, LOOP);
  e(get(T), get(ENDP), GE_S, brIf(1));
  e(get(RS), get(T), ADD, get(RS), get(T), ADD, v128Load(), get(RJ), get(T), ADD, v128Load());
  e(get(CV), F64X2_MUL, F64X2_SUB, v128Store());
  e(get(T), i32(16), ADD, set(T), br(0), END, END);
  e(BLOCK, get(T), get(ENDK), GE_S, brIf(0));
  e(get(RS), get(T), ADD, get(RS), get(T), ADD, f64Load(), get(RJ), get(T), ADD, f64Load());
  e(get(D), F64_MUL, F64_SUB, f64Store(), END);
  e(get(SR), i32(1), ADD, set(SR), br(0), END, END);
  e(get(R), i32(1), ADD, set(R), br(0), END, END);
  // 2. the later rows, from a full block (a last partial block has none)
  e(get(W), i32(4), EQ, IF);
  B.forEach((b, q) => {
    e(get(J0), i32(q), ADD, set(J));
    rowAt(J, b);
  });
  e(get(J0), i32(4), ADD, set(ROW));
  e(BLOCK, LOOP);
  e(get(ROW), get(K), GE_S, brIf(1));
  rowAt(ROW, RS);
  B.forEach((b, q) => e(get(b), get(ROW), i32(3), SHL, ADD, f64Load(), F64X2_SPLAT, set(C[q]!)));
  pairsFrom(ROW);
  e(BLOCK, LOOP);
  e(get(T), get(ENDP), GE_S, brIf(1));
  e(get(RS), get(T), ADD, get(RS), get(T), ADD, v128Load(), set(VAL));
  B.forEach((b, q) => {
    e(get(VAL), get(C[q]!), get(b), get(T), ADD, v128Load(), F64X2_MUL, F64X2_SUB, set(VAL));
  });
  e(get(VAL), v128Store());
  e(get(T), i32(16), ADD, set(T), br(0), END, END);
  e(BLOCK, get(T), get(ENDK), GE_S, brIf(0));
  e(get(RS), get(T), ADD, get(RS), get(T), ADD, f64Load(), set(D));
  B.forEach((b, q) => {
    e(get(D), get(C[q]!), lane(0), get(b), get(T), ADD, f64Load(), F64_MUL, F64_SUB, set(D));
  });
  e(get(D), f64Store(), END);
  e(get(ROW), i32(1), ADD, set(ROW), br(0), END, END);
  e(END); // if
  e(get(J0), i32(4), ADD, set(J0), br(0), END, END);
  e(i32(1));
  return body(
    [
      [15, I32],
      [2, F64],
      [6, V128],
    ],
    c,
  );
}
