/**
 * The linear predictor eta += X·coef of a fitted linear model, on a resident matrix
 * (kernels/resident.ts), bit-identical to `addColumns` in model.ts:
 *
 *   four used columns at a time: eta_i ← (((eta_i + b₀x₀ᵢ) + b₁x₁ᵢ) + b₂x₂ᵢ) + b₃x₃ᵢ,
 *   then the 0–3 remaining ones one by one: eta_i ← eta_i + b·xᵢ
 *
 * (addColumns subtracts (−b)·xᵢ for those: the same bits, as negation is exact). Two rows per
 * f64x2 lane pair and no fused multiply-add, so every operation is the loop's. Why: the
 * JavaScript loop ran at ~1.3 G multiply-adds/s (0.3 ms of a 3 ms ridge fit + predict at
 * 200 × 2,000, ~10 ms at 500 × 20,000), reading the matrix it did not need to copy.
 */
import { residentExports, residentOf } from '../kernels/resident';
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
  GT_S,
  I32,
  i32,
  i32Load,
  lane,
  lazyModule,
  LOOP,
  moduleBytes,
  MUL,
  set,
  SHL,
  simdDisabled,
  V128,
  v128Load,
  v128Store,
} from '../kernels/wasm-asm';

type AddColsFn = (
  x: number,
  n: number,
  idx: number,
  coef: number,
  cnt: number,
  eta: number,
) => void;

const compiled = lazyModule(addColsModule);

/**
 * eta += Σ_j coef[j]·x_j over the non-zero coef, in place on a resident x (n rows, column-major);
 * false (eta untouched) when x is not resident or the kernel is unavailable.
 */
export function residentAddColumns(
  x: Float64Array,
  n: number,
  coef: ArrayLike<number>,
  eta: Float64Array,
): boolean {
  const home = residentOf(x);
  if (!home || simdDisabled() || n < 1) return false;
  const fn = residentExports(compiled, home)?.addcols as AddColsFn | undefined;
  if (!fn) return false;
  let used = 0;
  for (let j = 0; j < coef.length; j++) if (coef[j] !== 0) used++;
  // scratch: eta (n doubles), the used coefficients (f64), their column indexes (i32)
  const etaAt = home.scratchByte;
  const coefAt = etaAt + 8 * n;
  const idxAt = coefAt + 8 * used;
  if (idxAt + 4 * used - etaAt > home.scratchBytes) return false;
  const { heap } = home;
  const idx = new Int32Array(heap.buffer, idxAt, used);
  let u = 0;
  for (let j = 0; j < coef.length; j++) {
    if (coef[j] !== 0) {
      heap[(coefAt >> 3) + u] = coef[j]!;
      idx[u++] = j;
    }
  }
  heap.set(eta, etaAt >> 3);
  fn(x.byteOffset, n, idxAt, coefAt, used, etaAt);
  eta.set(heap.subarray(etaAt >> 3, (etaAt >> 3) + n));
  return true;
}

/** addcols(x, n, idx, coef, cnt, eta), pointers in bytes. */
function addColsModule(): Uint8Array {
  const [X, N, IDX, COEF, CNT, ETA] = [0, 1, 2, 3, 4, 5];
  // i32 locals: 6 t, 7 i, 8 bytes of the even rows, 9 bytes of a column, 10–13 o0..o3
  const [T, I, NB2, NB] = [6, 7, 8, 9];
  const O = [10, 11, 12, 13];
  // v128 locals: 14–17 splat coefficients, 18 eta pair; f64 local 19: the odd row's eta
  const B = [14, 15, 16, 17];
  const E = 18;
  const ES = 19;
  const { code, e } = emitter();
  /** Columns t … t + w − 1 into eta (w = 4, or 1 for the rest). */
  const columns = (w: number) => {
    const cs = [0, 1, 2, 3].slice(0, w);
    for (const c of cs) {
      // o_c = x + idx[t + c]·n·8; b_c = splat(coef[t + c])
      e(get(X), get(IDX), get(T), i32(2), SHL, ADD, i32Load(4 * c), get(NB), MUL, ADD, set(O[c]!));
      e(get(COEF), get(T), i32(3), SHL, ADD, f64Load(8 * c), F64X2_SPLAT, set(B[c]!));
    }
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(NB2), GE_S, brIf(1));
    e(get(ETA), get(I), ADD, v128Load(), set(E));
    for (const c of cs) {
      e(get(E), get(B[c]!), get(O[c]!), get(I), ADD, v128Load(), F64X2_MUL, F64X2_ADD, set(E));
    }
    e(get(ETA), get(I), ADD, get(E), v128Store());
    e(get(I), i32(16), ADD, set(I), br(0), END, END);
    // an odd last row in scalar f64
    e(BLOCK, get(NB2), get(NB), EQ, brIf(0));
    e(get(ETA), get(NB2), ADD, f64Load(), set(ES));
    for (const c of cs) {
      e(get(ES), get(B[c]!), lane(0), get(O[c]!), get(NB2), ADD, f64Load(), F64_MUL, F64_ADD);
      e(set(ES));
    }
    e(get(ETA), get(NB2), ADD, get(ES), f64Store());
    e(END);
    e(get(T), i32(w), ADD, set(T));
  };
  e(get(N), i32(3), SHL, set(NB));
  e(get(N), i32(-2), AND, i32(3), SHL, set(NB2));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), i32(4), ADD, get(CNT), GT_S, brIf(1));
  columns(4);
  e(br(0), END, END);
  e(BLOCK, LOOP);
  e(get(T), get(CNT), GE_S, brIf(1));
  columns(1);
  e(br(0), END, END);
  return moduleBytes([
    {
      name: 'addcols',
      params: [I32, I32, I32, I32, I32, I32],
      results: [],
      code: body(
        [
          [8, I32],
          [5, V128],
          [1, F64],
        ],
        code,
      ),
    },
  ]);
}
