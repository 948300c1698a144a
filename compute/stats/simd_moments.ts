/**
 * WebAssembly SIMD (f64x2) column sums and centred sums of squares of a resident matrix
 * (kernels/resident.ts), bit-identical to hdg's JavaScript two-pass loop:
 *
 *   s = sum4(column)                       (four accumulators, below)
 *   q_r = Σ (x[4t + r] − s/n)², r = 0..3,  the 0–3 leftover rows added to q_0 in order,
 *   ss = ((q_0 + q_1) + q_2) + q_3
 *
 * Two f64x2 accumulators per column hold exactly the four scalar ones, and wasm has no fused
 * multiply-add, so every operation and its order are the loop's. Why: at 200 × 2,000 the two
 * JavaScript passes took ~0.3 ms against numpy's ~0.3 ms for `mean` + `std` + `argsort`; the
 * kernel reads the matrix where it lies (no copy) and the second pass finds the column in L1.
 * Only resident matrices take it: with a copy in front it lost to the loop on the CI VM.
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
  lazyModule,
  LOOP,
  moduleBytes,
  MUL,
  set,
  SHL,
  simdDisabled,
  V128,
  V128_ZERO,
  v128Load,
  emitter,
} from '../kernels/wasm-asm';
import { evenColumnCalls, residentExports, residentOf } from '../kernels/resident';

/**
 * Σ data[off, end) with four accumulators (one add chain is latency-bound): s_r = Σ x[4t + r],
 * the 0–3 leftover rows added to s_0 in order, total ((s_0 + s_1) + s_2) + s_3. The kernel's
 * column sums, and hdg's loop for a matrix that is not resident.
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

type MomentsFn = (x: number, n: number, m: number, out: number, nf: number) => void;

const compiled = lazyModule(momentsModule);

/**
 * out[2(j − j0)] = Σ column j, out[2(j − j0) + 1] = its centred sum of squares about Σ/n, for
 * j0 ≤ j < j1 (j1 − j0 ≥ 2), read in place from a resident `data`. Returns false (out untouched)
 * when `data` is not resident or the kernel is unavailable. A column with a missing value gives
 * NaN sums (the caller redoes it).
 */
export function residentMoments(
  data: Float64Array,
  n: number,
  j0: number,
  j1: number,
  out: Float64Array,
): boolean {
  const home = residentOf(data);
  if (!home || simdDisabled() || n < 1 || j1 - j0 < 2) return false;
  const fn = residentExports(compiled, home)?.moments as MomentsFn | undefined;
  if (!fn) return false;
  const outOff = home.scratchByte >> 3;
  const maxCols = Math.floor(home.scratchBytes / 16) & ~1;
  evenColumnCalls(
    j0,
    j1,
    maxCols,
    (start, count) => fn(data.byteOffset + start * n * 8, n, count, home.scratchByte, n),
    (skip, at, m) =>
      out.set(home.heap.subarray(outOff + 2 * skip, outOff + 2 * (skip + m)), 2 * (at - j0)),
  );
  return true;
}

/** moments(x, n, m, out, nf), pointers in bytes, m even, nf = n as f64: two columns per pass. */
function momentsModule(): Uint8Array {
  const [X, N, M, OUT, NF] = [0, 1, 2, 3, 4];
  // i32 locals 5 j, 6 i, 7 bytes of the full groups of four rows, 8 bytes of a column, 9–10 o0, o1
  const [J, I, N4B, NB] = [5, 6, 7, 8];
  const O = [9, 10];
  // v128 locals 11–14: column c's (a0 a1 | a2 a3) in 11 + 2c, 12 + 2c; 15–16 splat means; 17 d
  const LO = [11, 13];
  const HI = [12, 14];
  const MV = [15, 16];
  const D = 17;
  // f64 locals 18–19: a0 of column c while the leftover rows are added; 20–21 means; 22 e
  const S = [18, 19];
  const MEAN = [20, 21];
  const E = 22;
  const { code, e } = emitter();
  const total = (c: number) => {
    e(get(S[c]!), get(LO[c]!), lane(1), F64_ADD, get(HI[c]!), lane(0), F64_ADD);
    e(get(HI[c]!), lane(1), F64_ADD);
  };
  /** The four-accumulator pass over both columns; `centred`: of (x − mean)². */
  const pass = (centred: boolean) => {
    for (const c of [0, 1]) e(V128_ZERO, set(LO[c]!), V128_ZERO, set(HI[c]!));
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(N4B), GE_S, brIf(1));
    for (const c of [0, 1]) {
      for (const [acc, off] of [
        [LO[c]!, 0],
        [HI[c]!, 16],
      ] as const) {
        if (centred) {
          e(get(O[c]!), get(I), ADD, v128Load(off), get(MV[c]!), F64X2_SUB, set(D));
          e(get(acc), get(D), get(D), F64X2_MUL, F64X2_ADD, set(acc));
        } else e(get(acc), get(O[c]!), get(I), ADD, v128Load(off), F64X2_ADD, set(acc));
      }
    }
    e(get(I), i32(32), ADD, set(I), br(0), END, END);
    for (const c of [0, 1]) e(get(LO[c]!), lane(0), set(S[c]!));
    // leftover rows into the first accumulator
    e(BLOCK, LOOP);
    e(get(I), get(NB), GE_S, brIf(1));
    for (const c of [0, 1]) {
      if (centred) {
        e(get(O[c]!), get(I), ADD, f64Load(), get(MEAN[c]!), F64_SUB, set(E));
        e(get(S[c]!), get(E), get(E), F64_MUL, F64_ADD, set(S[c]!));
      } else e(get(S[c]!), get(O[c]!), get(I), ADD, f64Load(), F64_ADD, set(S[c]!));
    }
    e(get(I), i32(8), ADD, set(I), br(0), END, END);
  };
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), get(M), GE_S, brIf(1));
  e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, set(O[0]!));
  e(get(O[0]!), get(NB), ADD, set(O[1]!));
  pass(false);
  for (const c of [0, 1]) {
    // out[2(j + c)] = Σ; the mean Σ / n as the loop divides it
    e(get(OUT), get(J), i32(4), SHL, ADD);
    total(c);
    e(f64Store(16 * c));
    e(get(OUT), get(J), i32(4), SHL, ADD, f64Load(16 * c), get(NF), F64_DIV, set(MEAN[c]!));
    e(get(MEAN[c]!), F64X2_SPLAT, set(MV[c]!));
  }
  pass(true);
  for (const c of [0, 1]) {
    e(get(OUT), get(J), i32(4), SHL, ADD);
    total(c);
    e(f64Store(16 * c + 8));
  }
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  return moduleBytes([
    {
      name: 'moments',
      params: [I32, I32, I32, I32, F64],
      results: [],
      code: body(
        [
          [6, I32],
          [7, V128],
          [5, F64],
        ],
        code,
      ),
    },
  ]);
}
