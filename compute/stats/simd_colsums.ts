/**
 * WebAssembly SIMD (f64x2) plain column sums of a column-major float64 matrix, bit-identical to
 * the four-accumulator JavaScript loop the callers keep as fallback:
 *
 *   s_r = Σ x[4t + r] (r = 0..3, t over the full groups of four), the 0–3 leftover rows added to
 *   s_0 in order, total = ((s_0 + s_1) + s_2) + s_3.
 *
 * The lanes of two f64x2 accumulators are exactly s_0..s_3, so the additions happen in the same
 * order and the totals agree to the bit; two columns per pass give four independent vector add
 * chains. Why: V8 does not vectorise typed-array loops and its scalar loop ran at ~1.1–1.4 ns per
 * element on the bench VM against numpy's SIMD `X.mean(0)` at ~0.5. The data are copied into
 * wasm memory in ~256 KB chunks (see simd_sums.ts for the same trade-off).
 *
 * `columnSums` returns false when wasm SIMD is unavailable (or OMICSELECTOR_NO_SIMD=1); a column
 * with a missing value sums to NaN, as in the loop.
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
  F64X2_ADD,
  f64Load,
  f64Store,
  GE_S,
  get,
  I32,
  i32,
  lane,
  lazyModule,
  LOOP,
  moduleBytes,
  MUL,
  PAGE,
  set,
  SHL,
  simdDisabled,
  tee,
  V128,
  V128_ZERO,
  v128Load,
  wasm,
} from '../kernels/wasm-asm';

type ColSumsFn = (x: number, n: number, m: number, out: number) => void;

/** Doubles of matrix data per chunk (256 KB: stays in L2 between the copy and the kernel). */
const CHUNK_DOUBLES = 32768;

const compiled = lazyModule(colSumsModule);

interface Arena {
  fn: ColSumsFn;
  heap: Float64Array;
}
/** One reusable arena per thread (grown when a larger n needs it). */
let arena: Arena | null = null;

function getArena(doubles: number): Arena | null {
  if (arena && arena.heap.length >= doubles) return arena;
  const mod = compiled();
  if (!mod || !wasm) return null;
  try {
    const memory = new wasm.Memory({ initial: Math.ceil((doubles * 8) / PAGE) });
    const inst = new wasm.Instance(mod, { env: { mem: memory } });
    arena = { fn: inst.exports.colsums as ColSumsFn, heap: new Float64Array(memory.buffer) };
    return arena;
  } catch {
    return null;
  }
}

/**
 * out[j − j0] = Σ_i data[j·n + i] for columns j0 ≤ j < j1 (see the module comment for the order
 * of additions). Returns false (out untouched) when the wasm kernel is not available.
 */
export function columnSums(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  out: Float64Array,
): boolean {
  if (simdDisabled() || n < 1 || j1 <= j0) return false;
  // an even column count per chunk (the kernel takes two columns per pass), at least two
  const cols = Math.max(2, Math.floor(CHUNK_DOUBLES / n) & ~1);
  const dataLen = (cols + 1) * n; // + 1: room to duplicate an odd chunk's last column
  const need = dataLen + cols + 1;
  if (need * 8 > 2 ** 31 - PAGE) return false;
  const ar = getArena(need);
  if (!ar) return false;
  const { heap, fn } = ar;
  for (let j = j0; j < j1; j += cols) {
    const k = Math.min(cols, j1 - j);
    heap.set(data.subarray(j * n, (j + k) * n), 0);
    let m = k;
    if (k & 1) {
      heap.copyWithin(k * n, (k - 1) * n, k * n);
      m = k + 1;
    }
    fn(0, n, m, dataLen * 8);
    out.set(heap.subarray(dataLen, dataLen + k), j - j0);
  }
  return true;
}

/** colsums(x, n, m, out), pointers in bytes, m even: out[j] = Σ column j (column-major, n rows). */
function colSumsModule(): Uint8Array {
  // params: 0 x, 1 n, 2 m, 3 out (i32)
  const [X, N, M, OUT] = [0, 1, 2, 3];
  // i32 locals 4 j, 5 i, 6 o0, 7 o1, 8 bytes of the full groups of four rows, 9 bytes of a column
  const [J, I, O0, O1, N4B, NB] = [4, 5, 6, 7, 8, 9];
  // v128 locals 10, 11 column 0 (s0 s1 | s2 s3), 12, 13 column 1
  const [A0, A1, B0, B1] = [10, 11, 12, 13];
  // f64 locals 14, 15: s0 of column 0 / 1 while the leftover rows are added
  const [SA, SB] = [14, 15];
  const code: number[] = [];
  const e = (...xs: number[][]) => {
    for (const x of xs) code.push(...x);
  };
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(M), GE_S, brIf(1));
  e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, tee(O0), get(NB), ADD, set(O1));
  for (const acc of [A0, A1, B0, B1]) e(V128_ZERO, set(acc));
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N4B), GE_S, brIf(1));
  for (const [o, lo, hi] of [
    [O0, A0, A1],
    [O1, B0, B1],
  ] as const) {
    e(get(lo), get(o), get(I), ADD, v128Load(), F64X2_ADD, set(lo));
    e(get(hi), get(o), get(I), ADD, v128Load(16), F64X2_ADD, set(hi));
  }
  e(get(I), i32(32), ADD, set(I), br(0), END, END);
  e(get(A0), lane(0), set(SA));
  e(get(B0), lane(0), set(SB));
  // leftover rows into s0
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  e(get(SA), get(O0), get(I), ADD, f64Load(), F64_ADD, set(SA));
  e(get(SB), get(O1), get(I), ADD, f64Load(), F64_ADD, set(SB));
  e(get(I), i32(8), ADD, set(I), br(0), END, END);
  for (const [s, lo, hi, off] of [
    [SA, A0, A1, 0],
    [SB, B0, B1, 8],
  ] as const) {
    e(get(OUT), get(J), i32(3), SHL, ADD);
    e(get(s), get(lo), lane(1), F64_ADD, get(hi), lane(0), F64_ADD, get(hi), lane(1), F64_ADD);
    e(f64Store(off));
  }
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  return moduleBytes([
    {
      name: 'colsums',
      params: [I32, I32, I32, I32],
      results: [],
      code: body(
        [
          [6, I32],
          [4, V128],
          [2, F64],
        ],
        code,
      ),
    },
  ]);
}
