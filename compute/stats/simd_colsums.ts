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
  GT_S,
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
  V128,
  V128_ZERO,
  v128Load,
  wasm,
  emitter,
} from '../kernels/wasm-asm';
import { inPlaceOf, residentExports, type Resident } from '../kernels/resident';

/**
 * Σ data[off, end) with four accumulators (one add chain is latency-bound): the JavaScript
 * loop of the module comment, the kernel's bits.
 */
export function sum4(data: Float64Array, off: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = off;
  for (; i + 3 < end; i += 4) {
    s0 += data[i]!;
    s1 += data[i + 1]!;
    s2 += data[i + 2]!;
    s3 += data[i + 3]!;
  }
  for (; i < end; i++) s0 += data[i]!;
  return s0 + s1 + s2 + s3;
}

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
  const home = inPlaceOf(data);
  if (home && residentColumnSums(home, data, n, j0, j1, out)) return true;
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

/**
 * columnSums on a resident matrix (kernels/resident.ts): the kernel reads the columns where they
 * are and writes the sums to the scratch region; an odd last column is summed by sum4 (the same
 * bits). False when the kernel cannot be instantiated there.
 */
function residentColumnSums(
  home: Resident,
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  out: Float64Array,
): boolean {
  const fn = residentExports(compiled, home)?.colsums as ColSumsFn | undefined;
  if (!fn) return false;
  const outBase = home.scratchByte >> 3;
  const maxCols = Math.floor(home.scratchBytes / 8) & ~1;
  let j = j0;
  for (; j + 1 < j1;) {
    const m = Math.min(maxCols, (j1 - j) & ~1);
    fn(data.byteOffset + j * n * 8, n, m, home.scratchByte);
    out.set(home.heap.subarray(outBase, outBase + m), j - j0);
    j += m;
  }
  if (j < j1) out[j - j0] = sum4(data, j * n, j * n + n);
  return true;
}

/**
 * colsums(x, n, m, out), pointers in bytes, m even: out[j] = Σ column j (column-major, n rows).
 * Columns go four per pass (eight independent f64x2 add chains: with two per pass the loop was
 * bound by the add latency), an even remainder of two in a last two-column pass. Each column keeps
 * its own two accumulators, so the bits do not depend on how many columns share a pass.
 */
function colSumsModule(): Uint8Array {
  // params: 0 x, 1 n, 2 m, 3 out (i32)
  const [X, N, M, OUT] = [0, 1, 2, 3];
  // i32 locals 4 j, 5 i, 6 bytes of the full groups of four rows, 7 bytes of a column, 8–11 o0..o3
  const [J, I, N4B, NB] = [4, 5, 6, 7];
  const O = [8, 9, 10, 11];
  // v128 locals 12–19: column c's (s0 s1 | s2 s3) in 12 + 2c, 13 + 2c
  const LO = [12, 14, 16, 18];
  const HI = [13, 15, 17, 19];
  // f64 locals 20–23: s0 of column c while the leftover rows are added
  const S = [20, 21, 22, 23];
  const { code, e } = emitter();
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(J));
  for (const w of [4, 2]) {
    const cs = [0, 1, 2, 3].slice(0, w);
    e(BLOCK, LOOP);
    e(get(J), i32(w), ADD, get(M), GT_S, brIf(1));
    e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, set(O[0]!));
    for (let c = 1; c < w; c++) e(get(O[c - 1]!), get(NB), ADD, set(O[c]!));
    for (const c of cs) e(V128_ZERO, set(LO[c]!), V128_ZERO, set(HI[c]!));
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(N4B), GE_S, brIf(1));
    for (const c of cs) {
      e(get(LO[c]!), get(O[c]!), get(I), ADD, v128Load(), F64X2_ADD, set(LO[c]!));
      e(get(HI[c]!), get(O[c]!), get(I), ADD, v128Load(16), F64X2_ADD, set(HI[c]!));
    }
    e(get(I), i32(32), ADD, set(I), br(0), END, END);
    for (const c of cs) e(get(LO[c]!), lane(0), set(S[c]!));
    // leftover rows into s0
    e(BLOCK, LOOP);
    e(get(I), get(NB), GE_S, brIf(1));
    for (const c of cs) e(get(S[c]!), get(O[c]!), get(I), ADD, f64Load(), F64_ADD, set(S[c]!));
    e(get(I), i32(8), ADD, set(I), br(0), END, END);
    // ((s0 + s1) + s2) + s3
    for (const c of cs) {
      e(get(OUT), get(J), i32(3), SHL, ADD);
      e(get(S[c]!), get(LO[c]!), lane(1), F64_ADD, get(HI[c]!), lane(0), F64_ADD);
      e(get(HI[c]!), lane(1), F64_ADD, f64Store(8 * c));
    }
    e(get(J), i32(w), ADD, set(J), br(0), END, END);
  }
  return moduleBytes([
    {
      name: 'colsums',
      params: [I32, I32, I32, I32],
      results: [],
      code: body(
        [
          [8, I32],
          [8, V128],
          [4, F64],
        ],
        code,
      ),
    },
  ]);
}
