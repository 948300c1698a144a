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
  f64Load,
  f64Store,
  GE_S,
  get,
  I32,
  i32,
  lane,
  LOOP,
  moduleBytes,
  MUL,
  set,
  SHL,
  tee,
  V128,
  V128_ZERO,
  v128Load,
  emitter,
} from '../kernels/wasm-asm';
import { evenColumnCalls, inPlaceOf, residentExports, type Resident } from '../kernels/resident';

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

type SumsFn = (x: number, n: number, m: number, a: number, b: number, out: number) => void;

/** Doubles of matrix data per chunk (256 KB: stays in L2 between the copy and the kernel). */
const CHUNK_DOUBLES = 32768;

let moduleCache: object | null | undefined;

function compiled(): object | null {
  if (moduleCache !== undefined) return moduleCache;
  if (!wasm) return (moduleCache = null);
  try {
    moduleCache = new wasm.Module(sumsModule());
  } catch {
    moduleCache = null; // no wasm SIMD: callers run their JavaScript loops
  }
  return moduleCache;
}

interface Arena {
  fn: SumsFn;
  /** The same without Σ d² (its output slot then holds the shift c_j = x_j[0]). */
  fn2: SumsFn;
  heap: Float64Array;
}
/** One reusable arena per thread (grown when a larger n needs it). */
let arena: Arena | null = null;

function getArena(doubles: number): Arena | null {
  if (arena && arena.heap.length >= doubles) return arena;
  const mod = compiled();
  if (!mod || !wasm) return null;
  try {
    const memory = new wasm.Memory({ initial: Math.ceil((doubles * 8) / 65536) });
    const inst = new wasm.Instance(mod, { env: { mem: memory } });
    arena = {
      fn: inst.exports.sums as SumsFn,
      fn2: inst.exports.sums2 as SumsFn,
      heap: new Float64Array(memory.buffer),
    };
    return arena;
  } catch {
    return null;
  }
}

/**
 * out[3(j − j0) + 0..2] = Σ d·a, Σ d·b, Σ d² for columns j0 ≤ j < j1 of `data` (n rows), with
 * d = x_j − x_j[0]. Returns false (out untouched) when the wasm kernel is not available.
 * `squares` false: Σ d² is skipped (~¼ less kernel work); out[3(j − j0) + 2] then holds the shift
 * c_j = x_j[0] itself.
 */
export function shiftedSums(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  squares = true,
): boolean {
  if (process.env.OMICSELECTOR_NO_SIMD === '1' || n < 2 || j1 <= j0) return false;
  const home = inPlaceOf(data);
  if (home && residentShiftedSums(home, data, n, j0, j1, a, b, out, squares)) return true;
  // chunk: an even column count (the kernel takes two columns per pass), at least two
  const cols = Math.max(2, Math.floor(CHUNK_DOUBLES / n) & ~1);
  const dataLen = (cols + 1) * n; // + 1: room to duplicate an odd chunk's last column
  const need = dataLen + 2 * n + 3 * (cols + 1);
  if (need * 8 > 2 ** 31 - 65536) return false;
  const ar = getArena(need);
  if (!ar) return false;
  const { heap } = ar;
  // without the squares (means only): four accumulators instead of six, the same Σd·a, Σd·b bits
  const fn = squares ? ar.fn : ar.fn2;
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
 * shiftedSums on a resident matrix (kernels/resident.ts): the kernel reads the columns in place;
 * a, b and the sums go through the scratch region. An odd column count ends with the pair
 * (j1 − 2, j1 − 1), of which only the last column's sums are kept (each column has its own
 * accumulators: the same bits). False (nothing written) for a single column or a scratch region
 * too small for a and b.
 */
function residentShiftedSums(
  home: Resident,
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  squares: boolean,
): boolean {
  const total = j1 - j0;
  const aOff = home.scratchByte >> 3;
  const outOff = aOff + 2 * n;
  const maxCols = Math.floor((home.scratchBytes / 8 - 2 * n) / 3) & ~1;
  if (total < 2 || maxCols < 2) return false;
  const exports = residentExports(compiled, home);
  if (!exports) return false;
  const fn = (squares ? exports.sums : exports.sums2) as SumsFn;
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
  const fn = (name: string, squares: boolean) => ({
    name,
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    code: body(
      [
        [5, I32],
        [11, V128],
        [9, F64],
      ],
      sumsCode(squares),
    ),
  });
  return moduleBytes([fn('sums', true), fn('sums2', false)]);
}

/** The body of sums (`squares`) or sums2 (Σ d·a and Σ d·b only; out[3j + 2] = c_j). */
function sumsCode(squares: boolean): number[] {
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
    if (squares) e(get(ACC[k + 2]!), get(D), get(D), F64X2_MUL, F64X2_ADD, set(ACC[k + 2]!));
  }
  e(get(I), i32(16), ADD, set(I), br(0), END, END);
  const kept = squares ? [0, 1, 2, 3, 4, 5] : [0, 1, 3, 4];
  for (const k of kept) e(get(ACC[k]!), lane(0), get(ACC[k]!), lane(1), F64_ADD, set(S[k]!));
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
    if (squares) e(get(S[k + 2]!), get(E), get(E), F64_MUL, F64_ADD, set(S[k + 2]!));
  }
  e(END);
  // out + 24·j
  for (const k of kept) {
    e(get(OUT), get(J), i32(24), MUL, ADD, get(S[k]!), f64Store(8 * k));
  }
  // without the squares their slot holds the shift c = x_j[0] (saves the caller re-reading the
  // first value of every column: a cache miss each)
  if (!squares) {
    e(get(OUT), get(J), i32(24), MUL, ADD, get(C0), lane(0), f64Store(16));
    e(get(OUT), get(J), i32(24), MUL, ADD, get(C1), lane(0), f64Store(40));
  }
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  return code;
}
