/**
 * WebAssembly SIMD (f64x2) kernel for shifted column sums: for every column x_j of a column-major
 * float64 matrix, with c_j = x_j[0] and d = x_j − c_j,
 *
 *   Σ d·a,   Σ d·b,   Σ d²
 *
 * for two caller-given weight vectors a and b. That is one pass for the filters whose statistics
 * are sums: two group means (a = 1 − w, b = w), a Pearson r with an outcome (a = 1, b = y − ȳ).
 *
 * Why: V8 does not vectorise typed-array loops; the JavaScript passes ran at ~2.5 ns per element
 * on the bench VM against numpy's ~1 (SIMD reductions). The dataset does not live in wasm memory,
 * so columns are copied in by chunks of ~256 KB (a memcpy, then read again from L2 cache) — the
 * copy costs less than what the two f64 lanes and the absence of bounds checks save. Same module
 * layout as compute/linear/simd.ts, assembled with compute/kernels/wasm-asm.ts (no toolchain, no
 * binary blob).
 *
 * `shiftedSums` returns false when wasm SIMD is unavailable (or OMICSELECTOR_NO_SIMD=1): callers
 * keep their JavaScript loop, whose sums agree to rounding (lanes add in a different order).
 * Columns with missing values give NaN sums, as in the JavaScript loops.
 */

import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  END,
  EQ,
  F64,
  F64_ADD,
  F64_MUL,
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
  I32,
  i32,
  i32Load,
  lane,
  LOOP,
  moduleBytes,
  MUL,
  SELECT,
  set,
  SHL,
  simdDisabled,
  tee,
  V128,
  V128_AND,
  V128_ANDNOT,
  V128_ZERO,
  v128Load,
  emitter,
  lazyModule,
  ThreadArena,
} from '../kernels/wasm-asm';
import { evenColumnCalls, inPlaceOf, residentExports, type Resident } from '../kernels/resident';

type SumsFn = (x: number, n: number, m: number, a: number, b: number, out: number) => void;

/** Doubles of matrix data per chunk (256 KB: stays in L2 between the copy and the kernel). */
const CHUNK_DOUBLES = 32768;

/** null without wasm SIMD: callers run their JavaScript loops. */
const compiled = lazyModule(sumsModule);

type KernelName = 'sums' | 'gsums';

/** The copying path's arena (see ThreadArena). */
const arena = new ThreadArena(compiled);

/**
 * out[3(j − j0) + 0..2] = Σ d·a, Σ d·b, Σ d² for columns j0 ≤ j < j1 of `data` (n rows), with
 * d = x_j − x_j[0]. Returns false (out untouched) when the wasm kernel is not available.
 */
export function shiftedSums(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
): boolean {
  if (n < 2) return false;
  return sumsPass('sums', data, n, j0, j1, a, b, out);
}

/**
 * out[3(j − j0)] = Σ of column j over the rows whose `mask` element is all zero bits, and
 * out[3(j − j0) + 1] = Σ over the rows whose element is all one bits (see groupMask), for
 * j0 ≤ j < j1; out[3(j − j0) + 2] = 0. Each group's sum adds only its own values, in the order
 * of groupSum4 (the same bits). Returns false (out untouched) when the wasm kernel is not
 * available.
 */
export function groupSums(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  mask: Float64Array,
  out: Float64Array,
): boolean {
  return sumsPass('gsums', data, n, j0, j1, mask, mask, out);
}

/**
 * A mask vector for groupSums: all one bits where w[i] ≠ 0, all zero bits elsewhere. Written
 * through an integer view: such a NaN pattern must never pass through a JavaScript number.
 */
export function groupMask(w: ArrayLike<number>): Float64Array {
  const words = new Int32Array(2 * w.length);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) words[2 * i] = words[2 * i + 1] = -1;
  return new Float64Array(words.buffer);
}

/**
 * groupSums' order of additions in JavaScript (the fallback without wasm SIMD): per group,
 * s_r = Σ x[4t + r] over that group's rows (r = 0..3, t over the full groups of four), the 0–3
 * leftover rows added to s_0 in order, total = ((s_0 + s_1) + s_2) + s_3 — the four lanes of the
 * kernel's two f64x2 accumulators per group. Skipping the other group's rows is the kernel's
 * adding +0 (a sum started at +0 is never −0). Returns [group 0, group 1].
 */
export function groupSum4(
  data: Float64Array,
  off: number,
  n: number,
  w: ArrayLike<number>,
): [number, number] {
  const s = [0, 0, 0, 0, 0, 0, 0, 0]; // group g, lane r at 4g + r
  let i = 0;
  for (; i + 3 < n; i += 4) {
    for (let r = 0; r < 4; r++) s[(w[i + r] !== 0 ? 4 : 0) + r] += data[off + i + r]!;
  }
  for (; i < n; i++) s[w[i] !== 0 ? 4 : 0] += data[off + i]!;
  return [s[0]! + s[1]! + s[2]! + s[3]!, s[4]! + s[5]! + s[6]! + s[7]!];
}

/** One of the module's kernels over columns j0 ≤ j < j1, resident in place or copied by chunks. */
function sumsPass(
  kernel: KernelName,
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
): boolean {
  if (simdDisabled() || n < 1 || j1 <= j0) return false;
  const home = inPlaceOf(data);
  if (home && residentSums(kernel, home, data, n, j0, j1, a, b, out)) return true;
  // chunk: an even column count (the kernel takes two columns per pass), at least two
  const cols = Math.max(2, Math.floor(CHUNK_DOUBLES / n) & ~1);
  const dataLen = (cols + 1) * n; // + 1: room to duplicate an odd chunk's last column
  const need = dataLen + 2 * n + 3 * (cols + 1);
  if (need * 8 > 2 ** 31 - 65536) return false;
  const ar = arena.get(need * 8);
  if (!ar) return false;
  const heap = ar.f64;
  const fn = ar.exports[kernel] as SumsFn;
  const aOff = dataLen;
  const bOff = aOff + n;
  const outOff = bOff + n;
  heap.set(a.subarray(0, n), aOff);
  heap.set(b.subarray(0, n), bOff);
  for (let j = j0; j < j1; j += cols) {
    const k = Math.min(cols, j1 - j);
    heap.set(data.subarray(j * n, (j + k) * n), 0);
    let m = k;
    if (k & 1) {
      heap.copyWithin(k * n, (k - 1) * n, k * n);
      m = k + 1;
    }
    fn(0, n, m, aOff * 8, bOff * 8, outOff * 8);
    out.set(heap.subarray(outOff, outOff + 3 * k), 3 * (j - j0));
  }
  return true;
}

/**
 * sumsPass on a resident matrix (kernels/resident.ts): the kernel reads the columns in place;
 * a, b and the sums go through the scratch region. An odd column count ends with the pair
 * (j1 − 2, j1 − 1), of which only the last column's sums are kept (each column has its own
 * accumulators: the same bits). False (nothing written) for a single column or a scratch region
 * too small for a and b.
 */
function residentSums(
  kernel: KernelName,
  home: Resident,
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
): boolean {
  const total = j1 - j0;
  const aOff = home.scratchByte >> 3;
  const outOff = aOff + 2 * n;
  const maxCols = Math.floor((home.scratchBytes / 8 - 2 * n) / 3) & ~1;
  if (total < 2 || maxCols < 2) return false;
  const exports = residentExports(compiled, home);
  if (!exports) return false;
  const fn = exports[kernel] as SumsFn;
  const { heap } = home;
  heap.set(a.subarray(0, n), aOff);
  heap.set(b.subarray(0, n), aOff + n);
  evenColumnCalls(
    j0,
    j1,
    maxCols,
    (start, count) =>
      fn(data.byteOffset + start * n * 8, n, count, aOff * 8, (aOff + n) * 8, outOff * 8),
    (skip, at, m) =>
      out.set(heap.subarray(outOff + 3 * skip, outOff + 3 * (skip + m)), 3 * (at - j0)),
  );
  return true;
}

/**
 * sums(x, n, m, a, b, out), pointers in bytes, m even: for each column j < m (column-major,
 * n rows) out[3j..3j+2] = Σ d·a, Σ d·b, Σ d² with d = x_j − x_j[0]. Two columns per pass share
 * the a and b loads (six independent accumulators); an odd last row is added in scalar f64.
 */
function sumsModule(): Uint8Array {
  return moduleBytes([
    {
      name: 'sums',
      params: [I32, I32, I32, I32, I32, I32],
      results: [],
      code: body(
        [
          [5, I32],
          [11, V128],
          [9, F64],
        ],
        sumsCode(),
      ),
    },
    {
      name: 'gsums',
      params: [I32, I32, I32, I32, I32, I32],
      results: [],
      code: body(
        [
          [6, I32],
          [11, V128],
          [4, F64],
        ],
        groupSumsCode(),
      ),
    },
  ]);
}

/**
 * gsums(x, n, m, mask, _, out), m even: for each column j < m, out[3j] = Σ x·[mask = 0],
 * out[3j + 1] = Σ x·[mask = all ones], out[3j + 2] = 0. A row's value goes to its group through
 * v128.and / v128.andnot with its mask (exact; the other group adds +0), so each element costs
 * one add where the shifted two-weight kernel (sums without Σ d², which fold_change ran before)
 * spent a subtract, a multiply and an add per weight, bound by the two f64 add ports. Per column and group two f64x2 accumulators take the
 * rows 4t, 4t + 1 and 4t + 2, 4t + 3 (the lanes s_0..s_3 of groupSum4); two columns per pass give
 * eight independent add chains that share the mask loads. Leftover rows go to s_0 by `select` on
 * the mask's low word.
 */
function groupSumsCode(): number[] {
  // params: 0 x, 1 n, 2 m, 3 mask, 4 unused, 5 out (i32)
  const [X, N, M, MASK, , OUT] = [0, 1, 2, 3, 4, 5];
  // i32 locals 6 j, 7 i, 8 o0, 9 o1, 10 bytes of the full groups of four rows, 11 bytes of a column
  const [J, I, O0, O1, N4B, NB] = [6, 7, 8, 9, 10, 11];
  const O = [O0, O1];
  // v128 locals 12–19: column c, group g, half h (rows 4t + 2h, + 1) at 12 + 4c + 2g + h;
  // 20, 21 the masks of the two halves, 22 a loaded pair of values
  const acc = (c: number, g: number, h: number): number => 12 + 4 * c + 2 * g + h;
  const [ML, MH, V] = [20, 21, 22];
  // f64 locals 23–26: s_0 of column c, group g at 23 + 2c + g
  const s0 = (c: number, g: number): number => 23 + 2 * c + g;
  const { code, e } = emitter();
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(M), GE_S, brIf(1));
  e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, tee(O0));
  e(get(NB), ADD, set(O1));
  for (let a = 12; a < 20; a++) e(V128_ZERO, set(a));
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N4B), GE_S, brIf(1));
  e(get(MASK), get(I), ADD, v128Load(), set(ML));
  e(get(MASK), get(I), ADD, v128Load(16), set(MH));
  for (let c = 0; c < 2; c++) {
    for (const [h, mk] of [
      [0, ML],
      [1, MH],
    ] as const) {
      e(get(acc(c, 1, h)), get(O[c]!), get(I), ADD, v128Load(16 * h), tee(V));
      e(get(mk), V128_AND, F64X2_ADD, set(acc(c, 1, h)));
      e(get(acc(c, 0, h)), get(V), get(mk), V128_ANDNOT, F64X2_ADD, set(acc(c, 0, h)));
    }
  }
  e(get(I), i32(32), ADD, set(I), br(0), END, END);
  for (let c = 0; c < 2; c++) for (const g of [0, 1]) e(get(acc(c, g, 0)), lane(0), set(s0(c, g)));
  // leftover rows into s_0 of their group (the other group adds +0)
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  for (let c = 0; c < 2; c++) {
    for (const g of [0, 1]) {
      e(get(s0(c, g)));
      const x = [...get(O[c]!), ...get(I), ...ADD, ...f64Load()];
      e(g ? x : f64(0), g ? f64(0) : x);
      e(get(MASK), get(I), ADD, i32Load(), SELECT, F64_ADD, set(s0(c, g)));
    }
  }
  e(get(I), i32(8), ADD, set(I), br(0), END, END);
  // ((s0 + s1) + s2) + s3 per column and group; slot 3j + 2 = 0
  for (let c = 0; c < 2; c++) {
    for (const g of [0, 1]) {
      e(get(OUT), get(J), i32(24), MUL, ADD);
      e(get(s0(c, g)), get(acc(c, g, 0)), lane(1), F64_ADD, get(acc(c, g, 1)), lane(0), F64_ADD);
      e(get(acc(c, g, 1)), lane(1), F64_ADD, f64Store(24 * c + 8 * g));
    }
    e(get(OUT), get(J), i32(24), MUL, ADD, f64(0), f64Store(24 * c + 16));
  }
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  return code;
}

/** The body of sums. */
function sumsCode(): number[] {
  // params: 0 x, 1 n, 2 m, 3 a, 4 b, 5 out (i32)
  const [X, N, M, A, B, OUT] = [0, 1, 2, 3, 4, 5];
  // i32 locals 6 j, 7 i, 8 o0, 9 o1, 10 nb (bytes of the even rows)
  const [J, I, O0, O1, NB] = [6, 7, 8, 9, 10];
  // v128 locals 11 c0, 12 c1, 13–18 acc, 19 av, 20 bv, 21 d
  const [C0, C1] = [11, 12];
  const ACC = [13, 14, 15, 16, 17, 18];
  const [AV, BV, D] = [19, 20, 21];
  // f64 locals 22–27 sums, 28 ta, 29 tb, 30 e
  const S = [22, 23, 24, 25, 26, 27];
  const [TA, TB, E] = [28, 29, 30];
  const { code, e } = emitter();
  e(get(N), i32(-2), AND, i32(3), SHL, set(NB));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(M), GE_S, brIf(1));
  e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, tee(O0));
  e(get(N), i32(3), SHL, ADD, set(O1));
  e(get(O0), f64Load(), F64X2_SPLAT, set(C0));
  e(get(O1), f64Load(), F64X2_SPLAT, set(C1));
  for (const acc of ACC) e(V128_ZERO, set(acc));
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  e(get(A), get(I), ADD, v128Load(), set(AV));
  e(get(B), get(I), ADD, v128Load(), set(BV));
  for (const [o, c, k] of [
    [O0, C0, 0],
    [O1, C1, 3],
  ] as const) {
    e(get(o), get(I), ADD, v128Load(), get(c), F64X2_SUB, set(D));
    e(get(ACC[k]!), get(D), get(AV), F64X2_MUL, F64X2_ADD, set(ACC[k]!));
    e(get(ACC[k + 1]!), get(D), get(BV), F64X2_MUL, F64X2_ADD, set(ACC[k + 1]!));
    e(get(ACC[k + 2]!), get(D), get(D), F64X2_MUL, F64X2_ADD, set(ACC[k + 2]!));
  }
  e(get(I), i32(16), ADD, set(I), br(0), END, END);
  for (const k of ACC.keys()) e(get(ACC[k]!), lane(0), get(ACC[k]!), lane(1), F64_ADD, set(S[k]!));
  // odd n: the last row in scalar f64 (byte offset NB)
  e(BLOCK, get(NB), get(N), i32(3), SHL, EQ, brIf(0));
  e(get(A), get(NB), ADD, f64Load(), set(TA));
  e(get(B), get(NB), ADD, f64Load(), set(TB));
  for (const [o, c, k] of [
    [O0, C0, 0],
    [O1, C1, 3],
  ] as const) {
    e(get(o), get(NB), ADD, f64Load(), get(c), lane(0), F64_SUB, set(E));
    e(get(S[k]!), get(E), get(TA), F64_MUL, F64_ADD, set(S[k]!));
    e(get(S[k + 1]!), get(E), get(TB), F64_MUL, F64_ADD, set(S[k + 1]!));
    e(get(S[k + 2]!), get(E), get(E), F64_MUL, F64_ADD, set(S[k + 2]!));
  }
  e(END);
  // out + 24·j
  for (const k of ACC.keys()) {
    e(get(OUT), get(J), i32(24), MUL, ADD, get(S[k]!), f64Store(8 * k));
  }
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  return code;
}
