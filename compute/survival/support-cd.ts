/**
 * Coordinate descent on the penalised quadratic model over a support S, in coefficient space —
 * the inner solver of the penalised Cox fit (coxnet.ts) when the support system is singular.
 *
 * This is where a 200 × 2,000 lasso path spends most of its time (hundreds of sweeps over a
 * ~200 × 200 matrix near the end of the path), so it runs as a WebAssembly kernel: the sweep loop
 * in scalar f64 and the gradient update grad += M[a, :]·Δ in f64x2 lanes. Every operation is the
 * JavaScript loop's (`supportCdJs`) — same order, separate multiply and add roundings, no
 * reductions reordered — so the results are bit-identical (tested), and the JavaScript loop runs
 * when wasm SIMD is unavailable or OMICSELECTOR_NO_SIMD=1.
 */
import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  ELSE,
  END,
  EQ,
  F64,
  F64_ADD,
  F64_DIV,
  F64_EQ,
  F64_GT,
  F64_LT,
  F64_MUL,
  F64_NEG,
  F64_SUB,
  f64,
  f64Load,
  f64Store,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_SPLAT,
  GE_S,
  get,
  EQZ,
  F64_ABS,
  F64_NE,
  F64_SQRT,
  F64X2_SUB,
  LT_S,
  lane,
  RETURN,
  SUB,
  GT_S,
  MUL,
  SHR_S,
  V128_ZERO,
  I32,
  i32,
  IF,
  IF_F64,
  lazyModule,
  LOOP,
  MAX_BYTES,
  moduleBytes,
  PAGE,
  set,
  SHL,
  simdDisabled,
  tee,
  V128,
  v128Load,
  v128Store,
  wasm,
  type WasmMemory,
  emitter,
} from '../kernels/wasm-asm';

/** Sweeps before giving up (the JavaScript loop's limit). */
const MAX_SWEEPS = 100000;

/**
 * The reference loop. Sweeps over S (positions a, coefficient S[a]) until the largest c·Δβ² of a
 * sweep is below tol; grad (the smooth gradient on S) follows each step, `total` sums the steps.
 */
export function supportCdJs(
  M: Float64Array,
  m0: number,
  grad: Float64Array,
  S: readonly number[],
  beta: Float64Array,
  total: Float64Array,
  thr: number,
  ridge: number,
  tol: number,
): void {
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let inner = 0;
    for (let a = 0; a < m0; a++) {
      const j = S[a]!;
      const c = M[a * m0 + a]!;
      const zj = c * beta[j]! - grad[a]!;
      const bNew = zj > thr ? (zj - thr) / (c + ridge) : zj < -thr ? (zj + thr) / (c + ridge) : 0;
      const d = bNew - beta[j]!;
      if (d === 0) continue;
      beta[j] = bNew;
      total[a] += d;
      const row = a * m0;
      for (let b = 0; b < m0; b++) grad[b] += M[row + b]! * d;
      const change = c * d * d;
      if (change > inner) inner = change;
    }
    if (inner < tol) return;
  }
}

type CdKernel = (
  M: number,
  m0: number,
  grad: number,
  bS: number,
  total: number,
  thr: number,
  ridge: number,
  tol: number,
  maxSweeps: number,
) => void;

const compiled = lazyModule(() =>
  moduleBytes([
    {
      name: 'cd',
      params: [I32, I32, I32, I32, I32, F64, F64, F64, I32],
      results: [],
      code: cdBody(),
    },
    { name: 'gram', params: [I32, I32, I32, I32, I32], results: [], code: gramBody() },
    { name: 'chol', params: [I32, I32, I32], results: [I32], code: cholBody() },
  ]),
);

/** One kernel instance per thread, its memory grown to the largest support seen. */
type GramKernel = (x: number, h2: number, m0: number, n: number, M: number) => void;
type CholKernel = (A: number, Lc: number, m: number) => number;
interface Kernels {
  memory: WasmMemory;
  cd: CdKernel;
  gram: GramKernel;
  chol: CholKernel;
}
let instance: Kernels | null | undefined;

function kernel(bytes: number): Kernels | null {
  if (bytes > MAX_BYTES || simdDisabled()) return null;
  if (instance === undefined) {
    const mod = compiled();
    instance = null;
    if (mod && wasm) {
      try {
        const memory = new wasm.Memory({ initial: Math.ceil(bytes / PAGE) || 1 });
        const inst = new wasm.Instance(mod, { env: { mem: memory } });
        instance = {
          memory,
          cd: inst.exports.cd as CdKernel,
          gram: inst.exports.gram as GramKernel,
          chol: inst.exports.chol as CholKernel,
        };
      } catch {
        instance = null;
      }
    }
  }
  if (!instance) return null;
  const have = instance.memory.buffer.byteLength;
  if (bytes > have) instance.memory.grow(Math.ceil((bytes - have) / PAGE));
  return instance;
}

/** True when supportCd runs the wasm kernel (false: the JavaScript loop). */
export function supportCdUsesWasm(): boolean {
  return kernel(8) !== null;
}

/** supportCdJs's result, on the wasm kernel when available. */
export function supportCd(
  M: Float64Array,
  m0: number,
  grad: Float64Array,
  S: readonly number[],
  beta: Float64Array,
  total: Float64Array,
  thr: number,
  ridge: number,
  tol: number,
): void {
  const k = kernel((m0 * m0 + 3 * m0) * 8);
  if (!k) {
    supportCdJs(M, m0, grad, S, beta, total, thr, ridge, tol);
    return;
  }
  // Layout: M (m0²), grad, β on S, total (m0 each).
  const heap = new Float64Array(k.memory.buffer, 0, m0 * m0 + 3 * m0);
  heap.set(M.subarray(0, m0 * m0));
  const g0 = m0 * m0;
  heap.set(grad.subarray(0, m0), g0);
  for (let a = 0; a < m0; a++) heap[g0 + m0 + a] = beta[S[a]!]!;
  heap.set(total.subarray(0, m0), g0 + 2 * m0);
  k.cd(0, m0, g0 * 8, (g0 + m0) * 8, (g0 + 2 * m0) * 8, thr, ridge, tol, MAX_SWEEPS);
  grad.set(heap.subarray(g0, g0 + m0));
  for (let a = 0; a < m0; a++) beta[S[a]!] = heap[g0 + m0 + a]!;
  total.set(heap.subarray(g0 + 2 * m0, g0 + 3 * m0));
}

/**
 * The support Gram matrix M[a, b] = Σ_i xs[S[a]·n + i] · hx[S[b]][i] (i ascending, one sequential
 * sum per entry, as coxnet's dotCol), both triangles filled; false when the wasm kernel is not
 * available (the caller's JavaScript loop runs). The wasm kernel puts two entries (b, b + 1) in
 * the lanes of one f64x2 accumulator — each lane still one sequential sum over i — reading the hx
 * columns from a pair-interleaved copy, four pairs per pass over column a.
 */
export function supportGram(
  xs: Float64Array,
  n: number,
  S: readonly number[],
  hx: readonly (Float64Array | undefined)[],
  M: Float64Array,
): boolean {
  const m0 = S.length;
  const pairs = (m0 + 1) >> 1;
  // Layout: X (m0 columns), H2 (pairs × 2n, interleaved), M (m0² + one pair of spill room).
  const xLen = m0 * n;
  const hLen = pairs * 2 * n;
  const k = kernel((xLen + hLen + m0 * m0 + 2) * 8);
  if (!k) return false;
  const heap = new Float64Array(k.memory.buffer, 0, xLen + hLen + m0 * m0 + 2);
  for (let a = 0; a < m0; a++) heap.set(xs.subarray(S[a]! * n, S[a]! * n + n), a * n);
  for (let q = 0; q < pairs; q++) {
    const h0 = hx[S[2 * q]!]!;
    const h1 = 2 * q + 1 < m0 ? hx[S[2 * q + 1]!]! : null;
    const o = xLen + q * 2 * n;
    for (let i = 0; i < n; i++) {
      heap[o + 2 * i] = h0[i]!;
      heap[o + 2 * i + 1] = h1 ? h1[i]! : 0;
    }
  }
  const mOff = xLen + hLen;
  k.gram(0, xLen * 8, m0, n, mOff * 8);
  // Lower triangle (b ≤ a) is exact; mirror it (the kernel's spill above the diagonal is dropped).
  for (let a = 0; a < m0; a++) {
    const row = mOff + a * m0;
    for (let b = 0; b <= a; b++) {
      const v = heap[row + b]!;
      M[a * m0 + b] = v;
      M[b * m0 + a] = v;
    }
  }
  return true;
}

/**
 * coxph's `cholesky` (lower factor, row-major, or null when A is not numerically positive
 * definite) on the wasm kernel; undefined when the kernel is not available. The kernel works on
 * columns (Lc[k·m + i] = L[i, k]): for column j it subtracts L[i, k]·L[j, k] for k = 0 … j − 1 from
 * every t_i = A[i, j] at once (two rows per f64x2), so each t_i sees the same subtractions in the
 * same order as the row loop's dot product — the same bits.
 */
export function supportCholesky(A: Float64Array, m: number): Float64Array | null | undefined {
  const k = kernel(2 * m * m * 8);
  if (!k) return undefined;
  const heap = new Float64Array(k.memory.buffer, 0, 2 * m * m);
  heap.set(A.subarray(0, m * m));
  if (k.chol(0, m * m * 8, m) >= 0) return null;
  const L = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    const col = m * m + j * m;
    for (let i = j; i < m; i++) L[i * m + j] = heap[col + i]!;
  }
  return L;
}

/** chol(A, Lc, m) → −1, or the column where the factorisation failed. */
function cholBody(): number[] {
  const [Ap, Lp, M] = [0, 1, 2];
  // i32 locals
  const [J, K, I, MB, LJ, LK, END2] = [3, 4, 5, 6, 7, 8, 9];
  // f64 locals
  const [S, V, LJJ, SC] = [10, 11, 12, 13];
  const LKV = 14; // v128
  const { code, e } = emitter();
  const aAt = (row: number, col: number) => [
    ...get(Ap),
    ...get(row),
    ...get(M),
    ...MUL,
    ...get(col),
    ...ADD,
    ...i32(3),
    ...SHL,
    ...ADD,
  ];
  e(get(M), i32(3), SHL, set(MB));
  e(i32(0), set(J), get(Lp), set(LJ)); // LJ = &Lc[j·m]
  e(BLOCK, LOOP);
  e(get(J), get(M), GE_S, brIf(1));
  // s = A[j, j] − Σ_k L[j, k]²  (L[j, k] = Lc[k·m + j])
  e(aAt(J, J), f64Load(), set(S));
  e(i32(0), set(K), get(Lp), get(J), i32(3), SHL, ADD, set(LK)); // LK = &Lc[k·m + j]
  e(BLOCK, LOOP);
  e(get(K), get(J), GE_S, brIf(1));
  e(get(LK), f64Load(), set(V), get(S), get(V), get(V), F64_MUL, F64_SUB, set(S));
  e(get(K), i32(1), ADD, set(K), get(LK), get(MB), ADD, set(LK), br(0), END, END);
  // scale = |A[j, j]| || 1; fail unless s > 1e-13 · scale
  e(aAt(J, J), f64Load(), F64_ABS, set(SC));
  e(get(SC), f64(0), F64_NE, get(SC), get(SC), F64_EQ, AND, IF, ELSE, f64(1), set(SC), END);
  e(get(S), f64(1e-13), get(SC), F64_MUL, F64_GT, EQZ, IF, get(J), RETURN, END);
  e(get(S), F64_SQRT, set(LJJ));
  e(get(LJ), get(J), i32(3), SHL, ADD, get(LJJ), f64Store());
  // t_i = A[i, j] for i > j, into Lc[j·m + i]
  e(get(J), i32(1), ADD, set(I));
  e(BLOCK, LOOP);
  e(get(I), get(M), GE_S, brIf(1));
  e(get(LJ), get(I), i32(3), SHL, ADD, aAt(I, J), f64Load(), f64Store());
  e(get(I), i32(1), ADD, set(I), br(0), END, END);
  // END2 = last index a pair can start at + 1 (pairs i, i + 1 < m)
  e(get(M), i32(1), SUB, set(END2));
  // for k < j: t_i −= L[i, k] · L[j, k]
  e(i32(0), set(K), get(Lp), set(LK)); // LK = &Lc[k·m]
  e(BLOCK, LOOP);
  e(get(K), get(J), GE_S, brIf(1));
  e(get(LK), get(J), i32(3), SHL, ADD, f64Load(), F64X2_SPLAT, set(LKV));
  e(get(J), i32(1), ADD, set(I));
  e(BLOCK, LOOP);
  e(get(I), get(END2), GE_S, brIf(1));
  e(get(LJ), get(I), i32(3), SHL, ADD);
  e(get(LJ), get(I), i32(3), SHL, ADD, v128Load());
  e(get(LK), get(I), i32(3), SHL, ADD, v128Load(), get(LKV), F64X2_MUL, F64X2_SUB, v128Store());
  e(get(I), i32(2), ADD, set(I), br(0), END, END);
  e(get(I), get(M), LT_S, IF);
  e(get(LJ), get(I), i32(3), SHL, ADD);
  e(get(LJ), get(I), i32(3), SHL, ADD, f64Load());
  e(get(LK), get(I), i32(3), SHL, ADD, f64Load(), get(LKV), lane(0), F64_MUL, F64_SUB, f64Store());
  e(END);
  e(get(K), i32(1), ADD, set(K), get(LK), get(MB), ADD, set(LK), br(0), END, END);
  // L[i, j] = t_i / l_jj
  e(get(J), i32(1), ADD, set(I));
  e(BLOCK, LOOP);
  e(get(I), get(M), GE_S, brIf(1));
  e(get(LJ), get(I), i32(3), SHL, ADD);
  e(get(LJ), get(I), i32(3), SHL, ADD, f64Load(), get(LJJ), F64_DIV, f64Store());
  e(get(I), i32(1), ADD, set(I), br(0), END, END);
  e(get(J), i32(1), ADD, set(J), get(LJ), get(MB), ADD, set(LJ), br(0), END, END);
  e(i32(-1));
  return body(
    [
      [7, I32],
      [4, F64],
      [1, V128],
    ],
    code,
  );
}

/**
 * gram(x, h2, m0, n, M): for each row a, pairs q = 0 … ⌊a/2⌋ of columns (2q, 2q + 1):
 * M[a·m0 + 2q + l] = Σ_i x[a·n + i] · h2[q·2n + 2i + l] (l = lane), four pairs per pass.
 */
function gramBody(): number[] {
  const [X, H2, M0, N, Mp] = [0, 1, 2, 3, 4];
  // i32 locals
  const [A, Q, CNT, I, XA, HQ, ROW, NB, PB, IB] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const HK = [15, 16, 17, 18]; // the block's four pair pointers
  // v128 locals
  const ACC = [19, 20, 21, 22];
  const XV = 23;
  const { code, e } = emitter();
  e(get(N), i32(3), SHL, set(NB)); // bytes per x column
  e(get(N), i32(4), SHL, set(PB)); // bytes per interleaved pair
  e(i32(0), set(A), get(X), set(XA), get(Mp), set(ROW));
  e(BLOCK, LOOP); // rows a
  e(get(A), get(M0), GE_S, brIf(1));
  e(get(A), i32(1), SHR_S, i32(1), ADD, set(CNT)); // pairs with 2q ≤ a
  e(i32(0), set(Q), get(H2), set(HQ));
  // blocks of four pairs, then one pair at a time
  for (const width of [4, 1]) {
    e(BLOCK, LOOP);
    e(get(Q), i32(width), ADD, get(CNT), GT_S, brIf(1));
    for (let k = 0; k < width; k++) {
      e(V128_ZERO, set(ACC[k]!));
      if (k === 0) e(get(HQ), set(HK[0]!));
      else e(get(HK[k - 1]!), get(PB), ADD, set(HK[k]!));
    }
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(N), GE_S, brIf(1));
    e(get(XA), get(I), i32(3), SHL, ADD, f64Load(), F64X2_SPLAT, set(XV));
    e(get(I), i32(4), SHL, set(IB));
    for (let k = 0; k < width; k++) {
      e(get(ACC[k]!), get(HK[k]!), get(IB), ADD, v128Load(), get(XV), F64X2_MUL, F64X2_ADD);
      e(set(ACC[k]!));
    }
    e(get(I), i32(1), ADD, set(I), br(0), END, END);
    for (let k = 0; k < width; k++) {
      e(get(ROW), get(Q), i32(k), ADD, i32(4), SHL, ADD, get(ACC[k]!), v128Store());
    }
    e(get(Q), i32(width), ADD, set(Q), get(HQ), get(PB), i32(width), MUL, ADD, set(HQ));
    e(br(0), END, END);
  }
  e(get(A), i32(1), ADD, set(A), get(XA), get(NB), ADD, set(XA));
  e(get(ROW), get(M0), i32(3), SHL, ADD, set(ROW));
  e(br(0), END, END);
  return body(
    [
      [14, I32],
      [5, V128],
    ],
    code,
  );
}

/** The kernel: supportCdJs with β on S in memory (bS) and byte pointers. */
function cdBody(): number[] {
  // params
  const [Mp, M0, G, BS, T, THR, RIDGE, TOL, MAXS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals
  const [SWEEP, A, ROW, B, PAIRS, MB] = [9, 10, 11, 12, 13, 14];
  // f64 locals
  const [INNER, C, BJ, ZJ, D, CH] = [15, 16, 17, 18, 19, 20];
  const DV = 21; // v128
  const { code, e } = emitter();
  const at = (base: number, idx: number) => [...get(base), ...get(idx), ...i32(3), ...SHL, ...ADD];
  e(get(M0), i32(3), SHL, set(MB));
  e(get(M0), i32(-2), AND, i32(3), SHL, set(PAIRS));
  e(i32(0), set(SWEEP));
  e(BLOCK, LOOP); // sweeps
  e(get(SWEEP), get(MAXS), GE_S, brIf(1));
  e(f64(0), set(INNER));
  e(i32(0), set(A), get(Mp), set(ROW));
  e(BLOCK, LOOP); // positions a
  e(get(A), get(M0), GE_S, brIf(1));
  // c = M[a·m0 + a]; bj = bS[a]; zj = c·bj − grad[a]
  e(get(ROW), get(A), i32(3), SHL, ADD, f64Load(), set(C));
  e(at(BS, A), f64Load(), set(BJ));
  e(get(C), get(BJ), F64_MUL, at(G, A), f64Load(), F64_SUB, set(ZJ));
  // d = bNew − bj, bNew = zj > thr ? (zj − thr)/(c + ridge) : zj < −thr ? (zj + thr)/(c + ridge) : 0
  e(get(ZJ), get(THR), F64_GT, IF_F64);
  e(get(ZJ), get(THR), F64_SUB, get(C), get(RIDGE), F64_ADD, F64_DIV);
  e(ELSE, get(ZJ), get(THR), F64_NEG, F64_LT, IF_F64);
  e(get(ZJ), get(THR), F64_ADD, get(C), get(RIDGE), F64_ADD, F64_DIV);
  e(ELSE, f64(0), END, END);
  // stack: bNew
  e(set(CH)); // CH holds bNew for a moment
  e(get(CH), get(BJ), F64_SUB, tee(D), f64(0), F64_EQ, IF);
  // d === 0: nothing (the else branch does the step)
  e(ELSE);
  e(at(BS, A), get(CH), f64Store());
  e(at(T, A), at(T, A), f64Load(), get(D), F64_ADD, f64Store());
  e(get(D), F64X2_SPLAT, set(DV));
  e(i32(0), set(B));
  e(BLOCK, LOOP);
  e(get(B), get(PAIRS), GE_S, brIf(1));
  e(get(G), get(B), ADD);
  e(get(G), get(B), ADD, v128Load(), get(ROW), get(B), ADD, v128Load(), get(DV), F64X2_MUL);
  e(F64X2_ADD, v128Store());
  e(get(B), i32(16), ADD, set(B), br(0), END, END);
  // odd m0: the last entry
  e(get(PAIRS), get(MB), EQ, IF, ELSE);
  e(get(G), get(PAIRS), ADD);
  e(get(G), get(PAIRS), ADD, f64Load(), get(ROW), get(PAIRS), ADD, f64Load(), get(D), F64_MUL);
  e(F64_ADD, f64Store(), END);
  // change = c·d·d; inner = max
  e(get(C), get(D), F64_MUL, get(D), F64_MUL, set(CH));
  e(get(CH), get(INNER), F64_GT, IF, get(CH), set(INNER), END);
  e(END); // if d
  e(get(A), i32(1), ADD, set(A), get(ROW), get(MB), ADD, set(ROW), br(0), END, END);
  e(get(SWEEP), i32(1), ADD, set(SWEEP));
  e(get(INNER), get(TOL), F64_LT, brIf(1));
  e(br(0), END, END);
  return body(
    [
      [6, I32],
      [6, F64],
      [1, V128],
    ],
    code,
  );
}
