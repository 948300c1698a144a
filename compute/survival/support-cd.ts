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
  ]),
);

/** One kernel instance per thread, its memory grown to the largest support seen. */
let instance: { memory: WasmMemory; cd: CdKernel } | null | undefined;

function kernel(bytes: number): { memory: WasmMemory; cd: CdKernel } | null {
  if (bytes > MAX_BYTES || simdDisabled()) return null;
  if (instance === undefined) {
    const mod = compiled();
    instance = null;
    if (mod && wasm) {
      try {
        const memory = new wasm.Memory({ initial: Math.ceil(bytes / PAGE) || 1 });
        const inst = new wasm.Instance(mod, { env: { mem: memory } });
        instance = { memory, cd: inst.exports.cd as CdKernel };
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

/** The kernel: supportCdJs with β on S in memory (bS) and byte pointers. */
function cdBody(): number[] {
  // params
  const [Mp, M0, G, BS, T, THR, RIDGE, TOL, MAXS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals
  const [SWEEP, A, ROW, B, PAIRS, MB] = [9, 10, 11, 12, 13, 14];
  // f64 locals
  const [INNER, C, BJ, ZJ, D, CH] = [15, 16, 17, 18, 19, 20];
  const DV = 21; // v128
  const code: number[] = [];
  const e = (...xs: number[][]) => {
    for (const x of xs) code.push(...x);
  };
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
