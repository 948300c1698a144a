/**
 * The Cholesky factorisation and solves of compute/linear/dense.ts in WebAssembly SIMD (f64x2).
 *
 * Why: the JavaScript factorisation ran at ~1 multiply-add per cycle (35 ms at k = 500, the
 * ridge dual's preconditioner at 500 × 20,000), and its solves took ~40 µs at k = 200, one per
 * conjugate-gradient pass. The factor stays in its own memory (WasmCholesky) for those solves.
 * The memory is not shared: nothing here runs on worker threads, and V8 copies into and out of a
 * SharedArrayBuffer (and fills one) several times slower than an ordinary buffer.
 */
import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  ELSE,
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
  SELECT,
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

type CholFn = (a: number, l: number, k: number, floor: number, upper: number) => number;
type TrsolveFn = (l: number, k: number, z: number) => void;

const compiled = lazyModule(() =>
  moduleBytes([
    { name: 'chol', params: [I32, I32, I32, F64, I32], results: [I32], code: cholBody() },
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
  const l = factor.l.slice();
  factor.release();
  for (let i = 0; i < k; i++) l.fill(0, i * k + i + 1, i * k + k); // the upper part is 0
  return l;
}

/**
 * A Cholesky factor kept in WebAssembly memory for repeated solves L Lᵀ z = b: the forward and
 * back substitutions run as f64x2 dot products and axpys over rows of L (the back substitution
 * in its column-oriented form, z[0, i) −= L[i, 0..i)·z_i, so that it too reads rows). Why: the
 * JavaScript solve (compute/linear/dense.ts choleskySolveFactor) took ~40 µs at k = 200, and the
 * ridge dual solve makes one per conjugate-gradient pass plus one. The sums run in another
 * order than that loop's: the results agree to rounding, not to the bit. Call release().
 */
export class WasmCholesky {
  private constructor(
    private memory: WasmMemory | null,
    private readonly k: number,
    /** L, a view into the memory (valid until release); its strict upper triangle is not set. */
    readonly l: Float64Array,
  ) {}

  /** The factor of A (k × k), or null at a pivot ≤ floor; undefined without wasm SIMD. */
  static factor(a: Float64Array, k: number, floor: number): WasmCholesky | null | undefined {
    return WasmCholesky.make(k, floor, false, f => f.set(a.subarray(0, k * k), 0));
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
    return WasmCholesky.make(k, floor, true, f => {
      for (let i = 0; i < k; i++) {
        f.set(c.subarray(i * ld + i, i * ld + k), i * k + i);
        f[i * k + i] = f[i * k + i]! + alpha;
      }
    });
  }

  private static make(
    k: number,
    floor: number,
    upper: boolean,
    fill: (a: Float64Array) => void,
  ): WasmCholesky | null | undefined {
    // A (k²), L (k²), the right-hand side (k)
    const memory = factorMemory(16 * k * k + 8 * k);
    if (!memory) return undefined;
    const f = new Float64Array(memory.buffer, 0, 2 * k * k);
    fill(f);
    if (!instance(memory).chol(0, 8 * k * k, k, floor, upper ? 1 : 0)) {
      spare.give(memory);
      return null;
    }
    return new WasmCholesky(memory, k, f.subarray(k * k));
  }

  /** z with L Lᵀ z = b (a fresh array). */
  solve(b: Float64Array): Float64Array {
    if (!this.memory) throw new Error('WasmCholesky used after release()');
    const { k } = this;
    const zAt = 16 * k * k;
    const z = new Float64Array(this.memory.buffer, zAt, k);
    z.set(b.subarray(0, k));
    instance(this.memory).trsolve(8 * k * k, k, zAt);
    return z.slice();
  }

  release(): void {
    if (this.memory) spare.give(this.memory);
    this.memory = null;
  }
}

/**
 * trsolve(l, k, z): z ← (L Lᵀ)⁻¹ z in place, L row-major k × k at l. Forward: z_i = (z_i −
 * L[i, 0..i)·z[0, i)) / L_ii, the dot in two f64x2 accumulators over pairs of t, the odd last t
 * in scalar. Back: for i from k − 1 down, z_i /= L_ii, then z[0, i) −= L[i, 0..i)·z_i by pairs
 * and an odd last t in scalar.
 */
function trsolveBody(): number[] {
  const [L, K, Z] = [0, 1, 2];
  const [I, RI, T, END4, ENDI] = [3, 4, 5, 6, 7];
  const [S, ZI] = [8, 9];
  const [A0, A1, ZV] = [10, 11, 12];
  const { code: c, e } = emitter();
  // forward
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(K), GE_S, brIf(1));
  e(get(L), get(I), get(K), MUL, i32(3), SHL, ADD, set(RI));
  e(get(I), i32(-4), AND, i32(3), SHL, set(END4));
  e(get(I), i32(3), SHL, set(ENDI));
  e(V128_ZERO, set(A0), V128_ZERO, set(A1), i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(END4), GE_S, brIf(1));
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
  e(get(T), get(ENDI), GE_S, brIf(1));
  e(get(S), get(RI), get(T), ADD, f64Load(), get(Z), get(T), ADD, f64Load(), F64_MUL, F64_ADD);
  e(set(S), get(T), i32(8), ADD, set(T), br(0), END, END);
  e(get(Z), get(ENDI), ADD, get(Z), get(ENDI), ADD, f64Load(), get(S), F64_SUB);
  e(get(RI), get(ENDI), ADD, f64Load(), F64_DIV, f64Store());
  e(get(I), i32(1), ADD, set(I), br(0), END, END);
  // back
  e(get(K), i32(1), SUB, set(I));
  e(BLOCK, LOOP);
  e(get(I), i32(0), LT_S, brIf(1));
  e(get(L), get(I), get(K), MUL, i32(3), SHL, ADD, set(RI));
  e(get(I), i32(3), SHL, set(ENDI));
  e(get(Z), get(ENDI), ADD, get(Z), get(ENDI), ADD, f64Load(), get(RI), get(ENDI), ADD, f64Load());
  e(F64_DIV, tee(ZI), f64Store());
  e(get(ZI), F64X2_SPLAT, set(ZV));
  e(get(I), i32(-2), AND, i32(3), SHL, set(END4));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(END4), GE_S, brIf(1));
  e(get(Z), get(T), ADD, get(Z), get(T), ADD, v128Load(), get(RI), get(T), ADD, v128Load());
  e(get(ZV), F64X2_MUL, F64X2_SUB, v128Store());
  e(get(T), i32(16), ADD, set(T), br(0), END, END);
  e(BLOCK, get(T), get(ENDI), GE_S, brIf(0));
  e(get(Z), get(T), ADD, get(Z), get(T), ADD, f64Load(), get(RI), get(T), ADD, f64Load());
  e(get(ZI), F64_MUL, F64_SUB, f64Store(), END);
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
 * chol(a, l, k, floor, upper) → 1, or 0 at the first pivot ≤ floor: L (row-major k × k at l) of
 * A (at a; with `upper` ≠ 0, A_ij for j ≤ i is read from the upper triangle as A_ji) row by row,
 * L_ij = (A_ij − Σ_{t<j} L_it·L_jt) / L_jj and L_ii = √(A_ii − Σ_{t<i} L_it²), each sum over t
 * in four f64x2 partial sums (t ≡ 0…7 mod 8) and then the tail in order. Rows go two at a time
 * (i, i + 1 against each row j ≤ i, sharing the loads of L_j: the single-row loop was bound by
 * its two loads per multiply-add, 280 µs at k = 200); every sum is the single row's, so the bits
 * do not depend on the pairing.
 */
function cholBody(): number[] {
  const [A, L, K, FLOOR, UPPER] = [0, 1, 2, 3, 4];
  const [I, J, RI, RJ, T, END8, ENDJ, RI1] = [5, 6, 7, 8, 9, 10, 11, 12];
  const [S, S1] = [13, 14];
  const ACC = [15, 16, 17, 18];
  const ACC1 = [19, 20, 21, 22];
  const V = 23;
  const { code: c, e } = emitter();
  /** A_rj (r: the local holding the row index) onto the stack. */
  const aAt = (r: number) => {
    e(get(A), get(J), get(K), MUL, get(r), ADD, get(r), get(K), MUL, get(J), ADD, get(UPPER));
    e(SELECT, i32(3), SHL, ADD, f64Load());
  };
  /** S (and S1 with two rows) = Σ_{t<J} L_rt·L_Jt for the rows at RI (and RI1). */
  const dots = (two: boolean) => {
    e(get(L), get(J), get(K), MUL, i32(3), SHL, ADD, set(RJ));
    e(get(J), i32(-8), AND, i32(3), SHL, set(END8));
    e(get(J), i32(3), SHL, set(ENDJ));
    for (const a of two ? [...ACC, ...ACC1] : ACC) e(V128_ZERO, set(a));
    e(i32(0), set(T));
    e(BLOCK, LOOP);
    e(get(T), get(END8), GE_S, brIf(1));
    ACC.forEach((acc, k) => {
      const at = 16 * k;
      e(get(RJ), get(T), ADD, v128Load(at), set(V));
      e(get(acc), get(RI), get(T), ADD, v128Load(at), get(V), F64X2_MUL, F64X2_ADD, set(acc));
      if (two) {
        const acc1 = ACC1[k]!;
        e(get(acc1), get(RI1), get(T), ADD, v128Load(at), get(V), F64X2_MUL, F64X2_ADD);
        e(set(acc1));
      }
    });
    e(get(T), i32(64), ADD, set(T), br(0), END, END);
    for (const [accs, out] of two
      ? ([
          [ACC, S],
          [ACC1, S1],
        ] as const)
      : ([[ACC, S]] as const)) {
      e(
        get(accs[0]!),
        get(accs[1]!),
        F64X2_ADD,
        get(accs[2]!),
        get(accs[3]!),
        F64X2_ADD,
        F64X2_ADD,
      );
      e(set(accs[0]!), get(accs[0]!), lane(0), get(accs[0]!), lane(1), F64_ADD, set(out));
    }
    e(BLOCK, LOOP);
    e(get(T), get(ENDJ), GE_S, brIf(1));
    e(get(S), get(RI), get(T), ADD, f64Load(), get(RJ), get(T), ADD, f64Load(), F64_MUL, F64_ADD);
    e(set(S));
    if (two) {
      e(get(S1), get(RI1), get(T), ADD, f64Load(), get(RJ), get(T), ADD, f64Load(), F64_MUL);
      e(F64_ADD, set(S1));
    }
    e(get(T), i32(8), ADD, set(T), br(0), END, END);
  };
  /** L_{row, J} from S (= A_{row,J} − S): √ on the diagonal (0 returned at a pivot ≤ floor). */
  const cell = (row: number, rowAt: number, sum: number) => {
    aAt(row);
    e(get(sum), F64_SUB, set(sum));
    e(get(row), get(J), EQ, IF);
    e(get(sum), get(FLOOR), F64_GT, EQZ, IF, i32(0), RETURN, END);
    e(get(rowAt), get(J), i32(3), SHL, ADD, get(sum), F64_SQRT, f64Store());
    e(ELSE);
    e(get(rowAt), get(J), i32(3), SHL, ADD, get(sum), get(RJ), get(J), i32(3), SHL, ADD, f64Load());
    e(F64_DIV, f64Store());
    e(END);
  };
  // I1 (row i + 1) lives in local RI1's companion: the row index i + 1 is I + 1, kept in ENDJ's
  // place only while a cell of that row is written (see below).
  const I1 = 24;
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(K), GE_S, brIf(1));
  e(get(L), get(I), get(K), MUL, i32(3), SHL, ADD, set(RI));
  e(get(I), i32(1), ADD, get(K), GE_S, IF);
  // the last row alone
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(I), GT_S, brIf(1));
  dots(false);
  cell(I, RI, S);
  e(get(J), i32(1), ADD, set(J), br(0), END, END);
  e(get(I), i32(1), ADD, set(I));
  e(ELSE);
  // rows i and i + 1 against j ≤ i, then row i + 1's diagonal alone
  e(get(I), i32(1), ADD, set(I1));
  e(get(RI), get(K), i32(3), SHL, ADD, set(RI1));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(I), GT_S, brIf(1));
  dots(true);
  cell(I, RI, S);
  cell(I1, RI1, S1);
  e(get(J), i32(1), ADD, set(J), br(0), END, END);
  e(get(I1), set(J), get(RI1), set(RI));
  dots(false);
  cell(I1, RI, S);
  e(get(I), i32(2), ADD, set(I));
  e(END);
  e(br(0), END, END);
  e(i32(1));
  return body(
    [
      [8, I32],
      [2, F64],
      [9, V128],
      [1, I32],
    ],
    c,
  );
}
