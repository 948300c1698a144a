/**
 * The top k of p scores (score descending, equal scores by index, NaN never) by a bucket pass in
 * WebAssembly: the ranking of selection.ts topOrder, without its quickselect and pair sort.
 *
 * Why: topOrder on 2,000 scores, k = 500 (heg's and hdg's bench case) took 14–20 µs in
 * JavaScript — a quickselect, a partition pass and a 500-pair quicksort, whose comparisons are
 * coin flips for the branch predictor — against numpy's whole `argsort` at 11–12 µs (CI VM, AMD
 * EPYC, 23 Nov 2026). Here:
 *
 * 1. one SIMD pass finds the range of the non-NaN scores (f64x2 pmin / pmax ignore NaN);
 * 2. each score gets a bucket, a monotone function of the score: a linear split of [min, max],
 *    or, when every score has one sign, of the high 32 bits of the doubles (exponent and 20
 *    mantissa bits, a logarithmic scale that stays fine-grained for expression levels spread over
 *    orders of magnitude), as ranking.ts does;
 * 3. the bucket counts from the best bucket down give the bucket holding the k-th score;
 * 4. the indices of the buckets up to it are scattered in bucket order, each bucket in index
 *    order (branch-free: the others go to a spare slot);
 * 5. one insertion sort over them by score (stable, and it never crosses a bucket boundary, since
 *    every score of a better bucket is at least every score of a worse one) finishes the order.
 *
 * Equal scores share a bucket and keep their index order, so the result is the comparator sort's
 * exactly. The kernel declines (−1) when it cannot promise that cheaply: at most k non-NaN scores,
 * one distinct value, a range that overflows the scale, or a bucket up to the cut holding more
 * than CROWDED scores (ties or a crowded stretch, where insertion would go quadratic); the caller
 * then runs its JavaScript path.
 */
import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  emitter,
  ELSE,
  END,
  EQZ,
  F64,
  f64,
  F64_DIV,
  F64_GT,
  F64_LT,
  F64_MUL,
  F64_NE,
  F64_SUB,
  F64X2_MUL,
  F64X2_SPLAT,
  F64X2_SUB,
  f64Load,
  GE_S,
  get,
  GT_S,
  I32,
  i32,
  i32Store,
  i32Load,
  IF,
  lane,
  lazyModule,
  ThreadArena,
  LOOP,
  LT_S,
  moduleBytes,
  RETURN,
  SELECT,
  set,
  SHL,
  simdDisabled,
  simdOp,
  SUB,
  tee,
  V128,
  V128_AND,
  V128_ZERO,
  v128Load,
} from '../kernels/wasm-asm';

/** A bucket up to the cut with more scores than this makes the kernel decline. */
const CROWDED = 32;

const F64X2_PMIN = simdOp(0xf6);
const F64X2_PMAX = simdOp(0xf7);
const F64X2_NE = simdOp(0x48);
const I64X2_SUB = simdOp(0xd1);
const i64x2Lane = (l: number) => simdOp(0x1d, l);
const I32_WRAP_I64 = [0xa7];
const I64_ADD = [0x7c];
const I64_REINTERPRET_F64 = [0xbd];
const I64_SHR_U = [0x88];
const i64 = (v: number) => [0x42, v]; // small non-negative constants only
const F64_CONVERT_I32_U = [0xb8];
const I32_TRUNC_SAT_F64_S = [0xfc, 0x02];
const LE_U = [0x4d];
const OR = [0x72];
const LE_S = [0x4c];
const I64_STORE = [0x37, 3, 0];
const I32X4_SPLAT = simdOp(0x11);
const i32x4Lane = (l: number) => simdOp(0x1b, l);
const I32X4_ADD = simdOp(0xae);
const V128_XOR = simdOp(0x51);
const I32X4_TRUNC_SAT_F64X2_S_ZERO = simdOp(0xfc);
const F64X2_CONVERT_LOW_I32X4_U = simdOp(0xff);
/** i8x16.shuffle: the high words of two f64 lanes into i32 lanes 0 and 1. */
const HIGH_WORDS = simdOp(0x0d, 4, 5, 6, 7, 12, 13, 14, 15, 0, 1, 2, 3, 8, 9, 10, 11);
const MEMORY_FILL = [0xfc, 0x0b, 0x00];
/** Sign bit cleared. */
const I32_F_MASK = 0x7fffffff;

type TopFn = (s: number, p: number, k: number, buckets: number) => number;

/**
 * top(s, p, k, B) → the number t ≥ k of scores sorted at idx (best first), or −1 (declined).
 * Layout from byte s: scores f64[p] | idx i32[p + 2] | bucket i32[p] | count i32[B + 1].
 */
function topModule(): Uint8Array {
  // params
  const [S, P, K, B] = [0, 1, 2, 3];
  // i32 locals
  const [J, NAN, BK, CUM, CB, POS, IDX, BKT, CNT, LOG, LOWBEST, Q, C, W, A] = [
    4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
  ];
  // f64 locals
  const [LO, HI, X, TLO, SCALE, T, V] = [19, 20, 21, 22, 23, 24, 25];
  // v128 locals
  const [VLO, VHI, VNAN, VX] = [26, 27, 28, 29];
  const [VTLO, VSCALE, VFLIP, VSHIFT, VMASK] = [30, 31, 32, 33, 34];
  const { code, e } = emitter();
  const at = (base: number, idx: number, shift: number) => [
    ...get(base),
    ...get(idx),
    ...i32(shift),
    ...SHL,
    ...ADD,
  ];
  /** The high word of an f64 on the stack, sign cleared, as f64. */
  const magnitudeWord = () => [
    ...I64_REINTERPRET_F64,
    ...i64(32),
    ...I64_SHR_U,
    ...I32_WRAP_I64,
    ...i32(I32_F_MASK),
    ...AND,
    ...F64_CONVERT_I32_U,
  ];
  e(get(S), get(P), i32(3), SHL, ADD, set(IDX));
  e(get(IDX), get(P), i32(2), SHL, ADD, i32(8), ADD, set(BKT));
  e(get(BKT), get(P), i32(2), SHL, ADD, set(CNT));

  // 1. range and NaN count: two scores per step (pmin / pmax keep the accumulator on NaN)
  e(f64(Infinity), F64X2_SPLAT, set(VLO), f64(-Infinity), F64X2_SPLAT, set(VHI));
  e(V128_ZERO, set(VNAN), i32(0), set(J));
  e(BLOCK, LOOP, get(J), i32(1), ADD, get(P), GE_S, brIf(1));
  e(at(S, J, 3), v128Load(), set(VX));
  e(get(VLO), get(VX), F64X2_PMIN, set(VLO), get(VHI), get(VX), F64X2_PMAX, set(VHI));
  e(get(VNAN), get(VX), get(VX), F64X2_NE, I64X2_SUB, set(VNAN));
  e(get(J), i32(2), ADD, set(J), br(0), END, END);
  e(get(VLO), lane(0), set(LO), get(VHI), lane(0), set(HI));
  e(get(VLO), lane(1), get(LO), get(VLO), lane(1), get(LO), F64_LT, SELECT, set(LO));
  e(get(VHI), lane(1), get(HI), get(VHI), lane(1), get(HI), F64_GT, SELECT, set(HI));
  e(get(VNAN), i64x2Lane(0), get(VNAN), i64x2Lane(1), I64_ADD, I32_WRAP_I64, set(NAN));
  // an odd last score
  e(get(J), get(P), LT_S, IF);
  e(at(S, J, 3), f64Load(), set(X));
  e(get(X), get(LO), get(X), get(LO), F64_LT, SELECT, set(LO));
  e(get(X), get(HI), get(X), get(HI), F64_GT, SELECT, set(HI));
  e(get(NAN), get(X), get(X), F64_NE, ADD, set(NAN));
  e(END);
  // at most k scores, or one value: decline
  e(get(P), get(NAN), SUB, get(K), LE_S, IF, i32(-1), RETURN, END);
  e(get(HI), get(LO), F64_GT, EQZ, IF, i32(-1), RETURN, END);

  // 2. scale: log (one sign) or linear
  e(get(LO), f64(0), F64_GT, get(HI), f64(0), F64_LT, OR, set(LOG));
  e(get(HI), f64(0), F64_LT, set(LOWBEST));
  e(get(LOG), IF);
  // nearest zero: lo when positive, hi when negative; farthest the other end
  e(get(LO), get(HI), get(LO), f64(0), F64_GT, SELECT, magnitudeWord(), set(TLO));
  e(get(HI), get(LO), get(LO), f64(0), F64_GT, SELECT, magnitudeWord(), set(T));
  e(ELSE, get(LO), set(TLO), get(HI), set(T), END);
  e(get(B), i32(1), SUB, F64_CONVERT_I32_U, get(T), get(TLO), F64_SUB, F64_DIV, set(SCALE));
  // 0 (one word), NaN or ∞: decline
  e(get(SCALE), f64(0), F64_GT, get(SCALE), f64(Infinity), F64_LT, AND, EQZ, IF);
  e(i32(-1), RETURN, END);

  // counts to zero (B + 1: the last one takes the NaN scores)
  e(get(CNT), i32(0), get(B), i32(1), ADD, i32(2), SHL, MEMORY_FILL);

  // bucket of every score, best bucket 0, and the counts; one loop per scale. Without NaN, two
  // scores per step: the buckets by f64x2 arithmetic, b = (q xor flip) + shift, which is q for
  // negative scores on the log scale and B − 1 − q otherwise.
  e(get(TLO), F64X2_SPLAT, set(VTLO), get(SCALE), F64X2_SPLAT, set(VSCALE));
  e(i32(0), i32(-1), get(LOWBEST), SELECT, I32X4_SPLAT, set(VFLIP));
  e(i32(0), get(B), get(LOWBEST), SELECT, I32X4_SPLAT, set(VSHIFT));
  e(i32(I32_F_MASK), I32X4_SPLAT, set(VMASK));
  const pairLoop = (log: boolean) => {
    e(BLOCK, LOOP, get(J), i32(1), ADD, get(P), GE_S, brIf(1));
    e(at(S, J, 3), v128Load());
    // the high words (bytes 4–7 and 12–15) into lanes 0 and 1, sign cleared
    if (log) e(tee(VX), get(VX), HIGH_WORDS, get(VMASK), V128_AND, F64X2_CONVERT_LOW_I32X4_U);
    e(get(VTLO), F64X2_SUB, get(VSCALE), F64X2_MUL, I32X4_TRUNC_SAT_F64X2_S_ZERO);
    e(get(VFLIP), V128_XOR, get(VSHIFT), I32X4_ADD, set(VX));
    e(at(BKT, J, 2), get(VX), i64x2Lane(0), I64_STORE);
    for (const l of [0, 1]) {
      e(get(CNT), get(VX), i32x4Lane(l), i32(2), SHL, ADD, tee(A));
      e(get(A), i32Load(), i32(1), ADD, i32Store());
    }
    e(get(J), i32(2), ADD, set(J), br(0), END, END);
  };
  const scalarLoop = (log: boolean) => {
    e(BLOCK, LOOP, get(J), get(P), GE_S, brIf(1));
    e(at(S, J, 3), tee(A), f64Load(), set(X));
    if (log) e(get(A), i32Load(4), i32(I32_F_MASK), AND, F64_CONVERT_I32_U);
    else e(get(X));
    // q ≤ B − 1: (t − tlo)·scale exceeds B − 1 by rounding at most, which the truncation drops
    e(get(TLO), F64_SUB, get(SCALE), F64_MUL, I32_TRUNC_SAT_F64_S, set(Q));
    e(get(Q), get(B), i32(1), SUB, get(Q), SUB, get(LOWBEST), SELECT, set(BK));
    e(get(B), get(BK), get(X), get(X), F64_NE, SELECT, set(BK));
    e(at(BKT, J, 2), get(BK), i32Store());
    e(at(CNT, BK, 2), tee(A), get(A), i32Load(), i32(1), ADD, i32Store());
    e(get(J), i32(1), ADD, set(J), br(0), END, END);
  };
  e(i32(0), set(J));
  for (const log of [true, false]) {
    e(get(LOG), log ? [] : EQZ, IF);
    e(get(NAN), EQZ, IF);
    pairLoop(log);
    e(END);
    scalarLoop(log);
    e(END);
  }

  // 3. bucket starts, up to the bucket holding the k-th score
  e(i32(0), set(CUM), i32(0), set(CB));
  e(BLOCK, LOOP);
  e(at(CNT, CB, 2), tee(A), i32Load(), set(C));
  e(get(A), get(CUM), i32Store());
  e(get(CUM), get(C), ADD, set(CUM));
  e(get(C), i32(CROWDED), GT_S, IF, i32(-1), RETURN, END);
  e(get(CUM), get(K), GE_S, brIf(1));
  e(get(CB), i32(1), ADD, set(CB), br(0), END, END);

  // 4. scatter the indices of buckets 0..cb, in index order. No branch depends on the score: the
  // others (and NaN) count in their own bucket slot, no longer needed, and land in slot p.
  e(i32(0), set(J));
  e(BLOCK, LOOP, get(J), get(P), GE_S, brIf(1));
  e(at(BKT, J, 2), tee(A), i32Load(), set(BK));
  e(at(CNT, BK, 2), get(A), get(BK), get(CB), LE_U, tee(C), SELECT, tee(A), i32Load(), set(POS));
  e(get(A), get(POS), i32(1), ADD, i32Store());
  e(get(POS), get(P), get(C), SELECT, set(POS));
  e(at(IDX, POS, 2), get(J), i32Store());
  e(get(J), i32(1), ADD, set(J), br(0), END, END);

  // 5. insertion sort of idx[0, cum) by score, descending and stable
  e(i32(1), set(J));
  e(BLOCK, LOOP, get(J), get(CUM), GE_S, brIf(1));
  e(at(IDX, J, 2), i32Load(), tee(W), i32(3), SHL, get(S), ADD, f64Load(), set(V));
  e(get(J), i32(1), SUB, set(Q));
  e(BLOCK, LOOP);
  e(get(Q), i32(0), LT_S, brIf(1));
  e(at(IDX, Q, 2), i32Load(), tee(A), i32(3), SHL, get(S), ADD, f64Load(), get(V), F64_LT, EQZ);
  e(brIf(1));
  e(at(IDX, Q, 2), i32(4), ADD, get(A), i32Store());
  e(get(Q), i32(1), SUB, set(Q), br(0), END, END);
  e(at(IDX, Q, 2), i32(4), ADD, get(W), i32Store());
  e(get(J), i32(1), ADD, set(J), br(0), END, END);
  e(get(CUM));
  return moduleBytes([
    {
      name: 'top',
      params: [I32, I32, I32, I32],
      results: [I32],
      code: body(
        [
          [15, I32],
          [7, F64],
          [9, V128],
        ],
        code,
      ),
    },
  ]);
}

const compiled = lazyModule(topModule);

/** One arena per thread, grown as p needs (at most ~64 MB: MAX_SCORES; see ThreadArena). */
const arena = new ThreadArena(compiled);

/** More scores than this take the JavaScript path (the arena holds 16 bytes per score). */
const MAX_SCORES = 1 << 22;

/** Buckets for p scores: about one per score, a power of two in [64, 65,536]. */
function bucketCount(p: number): number {
  let b = 64;
  while (b < p && b < 65536) b *= 2;
  return b;
}

/**
 * The first k indices of the ranking (score descending, ties by index) when at least k + 1
 * scores are not NaN, or null when the kernel is unavailable or declines (see the module
 * comment); the caller's JavaScript path then decides.
 */
export function bucketTopOrder(scores: ArrayLike<number>, k: number): Int32Array | null {
  const p = scores.length;
  if (simdDisabled() || k < 1 || p < 2 || p > MAX_SCORES) return null;
  const buckets = bucketCount(p);
  const ar = arena.get(16 * p + 8 + 4 * (buckets + 1));
  if (!ar) return null;
  if (scores instanceof Float64Array) ar.f64.set(scores);
  else for (let j = 0; j < p; j++) ar.f64[j] = scores[j]!;
  const t = (ar.exports.top as TopFn)(0, p, k, buckets);
  if (t < k) return null;
  const idx = 2 * p; // the idx array's i32 offset (byte 8p)
  return ar.i32.slice(idx, idx + k);
}
