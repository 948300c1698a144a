/**
 * WebAssembly SIMD (f64x2) plain column sums of a column-major float64 matrix, bit-identical to
 * the eight-accumulator JavaScript loop `sum8` that the callers keep as fallback:
 *
 *   s_r = Σ x[8t + r] (r = 0..7, t over the full groups of eight), e = Σ of the 0–7 leftover rows
 *   in order, total = ((s_0 + s_4) + (s_2 + s_6)) + ((s_1 + s_5) + (s_3 + s_7)) + e.
 *
 * Four f64x2 accumulators hold exactly s_0..s_7 in their lanes, (s_0 s_1), (s_2 s_3), (s_4 s_5),
 * (s_6 s_7), and the total is their vector sum (A0 + A2) + (A1 + A3) with its two lanes added,
 * so the additions happen in the same order and the totals agree to the bit. Why: V8 does not
 * vectorise typed-array loops and its scalar loop ran at ~1.1–1.4 ns per element on the bench VM
 * against numpy's SIMD `X.mean(0)` at ~0.5. A matrix that is not resident (kernels/resident.ts)
 * is copied into wasm memory in ~256 KB chunks (see simd_sums.ts for the same trade-off).
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
  F64_DIV,
  F64_NE,
  F64X2_ADD,
  f64,
  f64Load,
  f64Store,
  GE_S,
  get,
  I32,
  i32,
  lazyModule,
  ThreadArena,
  LOOP,
  moduleBytes,
  PAGE,
  set,
  SHL,
  simdDisabled,
  V128,
  V128_ZERO,
  v128Load,
  emitter,
  sum8Total,
} from '../kernels/wasm-asm';
import { inPlaceOf, residentExports, type Resident } from '../kernels/resident';

/**
 * Σ data[off, end) with eight accumulators (one add chain is latency-bound): the JavaScript loop
 * of the module comment, the kernel's bits.
 */
export function sum8(data: Float64Array, off: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  let i = off;
  for (; i + 7 < end; i += 8) {
    s0 += data[i]!;
    s1 += data[i + 1]!;
    s2 += data[i + 2]!;
    s3 += data[i + 3]!;
    s4 += data[i + 4]!;
    s5 += data[i + 5]!;
    s6 += data[i + 6]!;
    s7 += data[i + 7]!;
  }
  let e = 0;
  for (; i < end; i++) e += data[i]!;
  return s0 + s4 + (s2 + s6) + (s1 + s5 + (s3 + s7)) + e;
}

/** colsums(x, n, m, out, d) → the number of NaN results (see colSumsModule). */
type ColSumsFn = (x: number, n: number, m: number, out: number, d: number) => number;

/** Doubles of matrix data per chunk (256 KB: stays in L2 between the copy and the kernel). */
const CHUNK_DOUBLES = 32768;

const compiled = lazyModule(colSumsModule);

/** The copying path's arena (see ThreadArena). */
const arena = new ThreadArena(compiled);

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
  return scaledColumnSums(data, n, j0, j1, out, 1) >= 0;
}

/**
 * out[j − j0] = (Σ_i data[j·n + i]) / divisor, the division done by the kernel as the column
 * ends (its latency hides behind the next column's loads; a separate JavaScript pass of 2,000
 * divisions took ~8 µs in heg on the CI VM). The result is the bits of sum8(column) / divisor;
 * divisor 1 gives the sums themselves. Returns the number of NaN results (columns with a missing
 * value), or −1 (out untouched) when the wasm kernel is not available.
 */
export function scaledColumnSums(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  out: Float64Array,
  divisor: number,
): number {
  if (simdDisabled() || n < 1 || j1 <= j0) return -1;
  const home = inPlaceOf(data);
  if (home) {
    const nan = residentColumnSums(home, data, n, j0, j1, out, divisor);
    if (nan >= 0) return nan;
  }
  const cols = Math.max(1, Math.floor(CHUNK_DOUBLES / n));
  const dataLen = cols * n;
  const need = dataLen + cols;
  if (need * 8 > 2 ** 31 - PAGE) return -1;
  const ar = arena.get(need * 8);
  if (!ar) return -1;
  const heap = ar.f64;
  const fn = ar.exports.colsums as ColSumsFn;
  let nan = 0;
  for (let j = j0; j < j1; j += cols) {
    const k = Math.min(cols, j1 - j);
    heap.set(data.subarray(j * n, (j + k) * n), 0);
    nan += fn(0, n, k, dataLen * 8, divisor);
    out.set(heap.subarray(dataLen, dataLen + k), j - j0);
  }
  return nan;
}

/**
 * scaledColumnSums on a resident matrix (kernels/resident.ts): the kernel reads the columns where
 * they are and writes to the scratch region. −1 when the kernel cannot be instantiated there.
 */
function residentColumnSums(
  home: Resident,
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  out: Float64Array,
  divisor: number,
): number {
  const fn = residentExports(compiled, home)?.colsums as ColSumsFn | undefined;
  if (!fn) return -1;
  const outBase = home.scratchByte >> 3;
  const maxCols = Math.floor(home.scratchBytes / 8);
  let nan = 0;
  for (let j = j0; j < j1;) {
    const m = Math.min(maxCols, j1 - j);
    nan += fn(data.byteOffset + j * n * 8, n, m, home.scratchByte, divisor);
    out.set(home.heap.subarray(outBase, outBase + m), j - j0);
    j += m;
  }
  return nan;
}

/**
 * colsums(x, n, m, out, d) → NaN count, pointers in bytes: out[j] = (Σ column j) / d
 * (column-major, n rows), and the number of NaN out[j] returned; one column per pass with four f64x2 accumulators (four add chains; out-of-order execution also overlaps
 * consecutive columns, whose chains are independent). Why one column per pass: the matrix is
 * then read as one sequential stream. Measured on the CI VM (AMD EPYC, 23 Nov 2026, 200 × 2,000
 * resident, µs per call): four columns per pass with two accumulators each (four interleaved
 * streams 1.6 KB apart) 43.5, two columns 41.1, one column 38.4, one column with four
 * accumulators 33.6; a plain 3.2 MB stream 33.
 */
function colSumsModule(): Uint8Array {
  // params: 0 x, 1 n, 2 m, 3 out (i32), 4 d (f64)
  const [X, N, M, OUT, D] = [0, 1, 2, 3, 4];
  // i32 locals: 5 j, 6 i, 7 bytes of the full groups of eight rows, 8 bytes of a column,
  // 9 column, 10 NaN count
  const [J, I, N8B, NB, O, NANS] = [5, 6, 7, 8, 9, 10];
  // v128 locals 11–14: the column's (s0 s1), (s2 s3), (s4 s5), (s6 s7); f64 local 15: e, then
  // the result
  const A = [11, 12, 13, 14];
  const E = 15;
  const { code, e } = emitter();
  e(get(N), i32(-8), AND, i32(3), SHL, set(N8B));
  e(get(N), i32(3), SHL, set(NB));
  e(get(X), set(O));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(M), GE_S, brIf(1));
  for (const a of A) e(V128_ZERO, set(a));
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N8B), GE_S, brIf(1));
  A.forEach((a, q) => e(get(a), get(O), get(I), ADD, v128Load(16 * q), F64X2_ADD, set(a)));
  e(get(I), i32(64), ADD, set(I), br(0), END, END);
  // the leftover rows, in order
  e(f64(0), set(E));
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  e(get(E), get(O), get(I), ADD, f64Load(), F64_ADD, set(E));
  e(get(I), i32(8), ADD, set(I), br(0), END, END);
  // (A0 + A2) + (A1 + A3), its lanes added, then e
  e(sum8Total(A), get(E), F64_ADD, get(D), F64_DIV, set(E));
  e(get(OUT), get(J), i32(3), SHL, ADD, get(E), f64Store());
  e(get(NANS), get(E), get(E), F64_NE, ADD, set(NANS));
  e(get(O), get(NB), ADD, set(O));
  e(get(J), i32(1), ADD, set(J), br(0), END, END);
  e(get(NANS));
  return moduleBytes([
    {
      name: 'colsums',
      params: [I32, I32, I32, I32, F64],
      results: [I32],
      code: body(
        [
          [6, I32],
          [4, V128],
          [1, F64],
        ],
        code,
      ),
    },
  ]);
}
