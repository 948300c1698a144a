/**
 * The coordinate-descent sweep as a WebAssembly SIMD (f64x2) function, assembled with
 * compute/kernels/wasm-asm.ts and instantiated next to `gemvAbs` on the design's own memory
 * (simd.ts `cdWork`).
 *
 * Why: a sweep visits each listed feature once: a dot product x_kᵀr (n multiply-adds), the
 * one-dimensional soft-threshold update, and, when the coefficient moved, the residual update
 * r −= Δ·(v∘)x_k. In JavaScript both loops are scalar (V8 does not vectorise typed-array loops);
 * at n = 200 they were ≈ 50 % of a binomial path and ≈ 45 % of a Gaussian one.
 *
 * Bit-identical to the JavaScript sweeps (design.ts `weightedSweep`, gaussian.ts `strongSweep`):
 * the dot product keeps dotCol's four partial sums (lanes 0/1 of two accumulators = dotCol's
 * s0…s3, the odd tail added to s0, then ((s0 + s1) + s2) + s3), every other step performs the
 * same IEEE operations in the same order, and wasm has no fused multiply-add. So the solvers'
 * results do not depend on whether the wasm path ran (checked in tests/unit/compute/linear).
 *
 * sweep(x, n, list, cnt, r, v, bc, xvc, al1, al2, gscale, rsqPtr) → max_t xv_t·Δ_t²
 *   for t < cnt, k = list[t] (i32), column at x + k·n·8:
 *     g  = (x_kᵀr)·gscale;  u = g + xvc[t]·bc[t];  |u| − al1 > 0 ? bn = sign(u)(|u| − al1)/(xvc[t] + al2) : 0
 *     Δ = bn − bc[t]; if Δ ≠ 0: bc[t] = bn, rsq += Δ·(2g − Δ·xvc[t]), r −= Δ·v∘x_k (weighted) or Δ·x_k
 *   rsq is read from and written back to rsqPtr. All pointers are byte offsets.
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
  F64,
  f64,
  F64_ABS,
  F64_ADD,
  F64_DIV,
  F64_EQ,
  F64_GT,
  F64_MUL,
  F64_NEG,
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
  i32Load,
  IF,
  IF_F64,
  lane,
  LOOP,
  MUL,
  set,
  SHL,
  V128,
  V128_ZERO,
  v128Load,
  v128Store,
  type WasmFunction,
  emitter,
} from '../kernels/wasm-asm';

/** The sweep function: `weighted` multiplies the residual update by v (GLM working weights). */
export function sweepFunction(name: string, weighted: boolean): WasmFunction {
  // params
  const [X, N, LIST, CNT, R, V, BC, XVC, AL1, AL2, GSCALE, RSQP] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
  ];
  // locals: i32 12–17, v128 18–20, f64 21–31
  const [T, OFF, I, N4B, NB, N2B] = [12, 13, 14, 15, 16, 17];
  const [A0, A1, DV] = [18, 19, 20];
  const [GK, BK, XK, U, AU, BN, DD, DLX, RSQ, S0, DL] = [
    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
  ];
  const { code: c, e } = emitter();
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(-2), AND, i32(3), SHL, set(N2B));
  e(get(N), i32(3), SHL, set(NB));
  e(get(RSQP), f64Load(), set(RSQ));
  e(f64(0), set(DLX));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(CNT), GE_S, brIf(1));
  e(get(X), get(LIST), get(T), i32(2), SHL, ADD, i32Load(), get(NB), MUL, ADD, set(OFF));
  // g = x_kᵀr with dotCol's four partial sums
  e(V128_ZERO, set(A0), V128_ZERO, set(A1), i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N4B), GE_S, brIf(1));
  e(get(A0), get(OFF), get(I), ADD, v128Load(), get(R), get(I), ADD, v128Load());
  e(F64X2_MUL, F64X2_ADD, set(A0));
  e(get(A1), get(OFF), get(I), ADD, v128Load(16), get(R), get(I), ADD, v128Load(16));
  e(F64X2_MUL, F64X2_ADD, set(A1));
  e(get(I), i32(32), ADD, set(I), br(0), END, END);
  e(get(A0), lane(0), set(S0));
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  e(get(S0), get(OFF), get(I), ADD, f64Load(), get(R), get(I), ADD, f64Load(), F64_MUL, F64_ADD);
  e(set(S0), get(I), i32(8), ADD, set(I), br(0), END, END);
  e(get(S0), get(A0), lane(1), F64_ADD, get(A1), lane(0), F64_ADD, get(A1), lane(1), F64_ADD);
  e(get(GSCALE), F64_MUL, set(GK));
  // the one-dimensional update
  e(get(BC), get(T), i32(3), SHL, ADD, f64Load(), set(BK));
  e(get(XVC), get(T), i32(3), SHL, ADD, f64Load(), set(XK));
  e(get(GK), get(XK), get(BK), F64_MUL, F64_ADD, set(U));
  e(get(U), F64_ABS, get(AL1), F64_SUB, set(AU));
  e(get(AU), f64(0), F64_GT, IF_F64);
  e(get(U), f64(0), F64_GT, IF_F64, get(AU), ELSE, get(AU), F64_NEG, END);
  e(get(XK), get(AL2), F64_ADD, F64_DIV);
  e(ELSE, f64(0), END, set(BN));
  e(get(BN), get(BK), F64_SUB, set(DD));
  e(BLOCK);
  e(get(DD), f64(0), F64_EQ, brIf(0));
  e(get(BC), get(T), i32(3), SHL, ADD, get(BN), f64Store());
  e(get(XK), get(DD), F64_MUL, get(DD), F64_MUL, set(DL));
  e(get(DL), get(DLX), F64_GT, IF, get(DL), set(DLX), END);
  e(get(RSQ), get(DD), f64(2), get(GK), F64_MUL, get(DD), get(XK), F64_MUL, F64_SUB, F64_MUL);
  e(F64_ADD, set(RSQ));
  // r −= Δ·(v∘)x_k, two rows per step, then the odd row
  e(get(DD), F64X2_SPLAT, set(DV), i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N2B), GE_S, brIf(1));
  e(get(R), get(I), ADD, get(R), get(I), ADD, v128Load(), get(DV));
  if (weighted) e(get(V), get(I), ADD, v128Load(), F64X2_MUL);
  e(get(OFF), get(I), ADD, v128Load(), F64X2_MUL, F64X2_SUB, v128Store());
  e(get(I), i32(16), ADD, set(I), br(0), END, END);
  e(BLOCK, get(I), get(NB), GE_S, brIf(0));
  e(get(R), get(I), ADD, get(R), get(I), ADD, f64Load(), get(DD));
  if (weighted) e(get(V), get(I), ADD, f64Load(), F64_MUL);
  e(get(OFF), get(I), ADD, f64Load(), F64_MUL, F64_SUB, f64Store(), END);
  e(END); // the Δ = 0 skip
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  e(get(RSQP), get(RSQ), f64Store());
  e(get(DLX));
  const code = body(
    [
      [6, I32],
      [3, V128],
      [11, F64],
    ],
    c,
  );
  return {
    name,
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F64, F64, F64, I32],
    results: [F64],
    code,
  };
}

/**
 * dotList(x, n, list, cnt, r, out): out[t] = |x_{list[t]}ᵀr| for t < cnt, with dotCol's four
 * partial sums (bit-identical to |dotCol|). The KKT screen's exact products for the features it
 * cannot rule out.
 */
export function dotListFunction(name: string): WasmFunction {
  const [X, N, LIST, CNT, R, OUT] = [0, 1, 2, 3, 4, 5];
  const [T, OFF, I, N4B, NB] = [6, 7, 8, 9, 10];
  const [A0, A1] = [11, 12];
  const S0 = 13;
  const { code: c, e } = emitter();
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(CNT), GE_S, brIf(1));
  e(get(X), get(LIST), get(T), i32(2), SHL, ADD, i32Load(), get(NB), MUL, ADD, set(OFF));
  e(V128_ZERO, set(A0), V128_ZERO, set(A1), i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N4B), GE_S, brIf(1));
  e(get(A0), get(OFF), get(I), ADD, v128Load(), get(R), get(I), ADD, v128Load());
  e(F64X2_MUL, F64X2_ADD, set(A0));
  e(get(A1), get(OFF), get(I), ADD, v128Load(16), get(R), get(I), ADD, v128Load(16));
  e(F64X2_MUL, F64X2_ADD, set(A1));
  e(get(I), i32(32), ADD, set(I), br(0), END, END);
  e(get(A0), lane(0), set(S0));
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  e(get(S0), get(OFF), get(I), ADD, f64Load(), get(R), get(I), ADD, f64Load(), F64_MUL, F64_ADD);
  e(set(S0), get(I), i32(8), ADD, set(I), br(0), END, END);
  e(get(OUT), get(T), i32(3), SHL, ADD);
  e(get(S0), get(A0), lane(1), F64_ADD, get(A1), lane(0), F64_ADD, get(A1), lane(1), F64_ADD);
  e(F64_ABS, f64Store());
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  const code = body(
    [
      [5, I32],
      [2, V128],
      [1, F64],
    ],
    c,
  );
  return { name, params: [I32, I32, I32, I32, I32, I32], results: [], code };
}

/**
 * wssList(x, n, list, cnt, w, out): out[t] = Σ w_i·x_{list[t],i}² with wssCol's four partial
 * sums ((w·x)·x per term; bit-identical to design.ts wssCol). The GLM curvatures of the strong set
 * at each new quadratic approximation.
 */
export function wssListFunction(name: string): WasmFunction {
  const [X, N, LIST, CNT, W, OUT] = [0, 1, 2, 3, 4, 5];
  const [T, OFF, I, N4B, NB] = [6, 7, 8, 9, 10];
  const [A0, A1, XV] = [11, 12, 13];
  const [S0, XS] = [14, 15];
  const { code: c, e } = emitter();
  e(get(N), i32(-4), AND, i32(3), SHL, set(N4B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(CNT), GE_S, brIf(1));
  e(get(X), get(LIST), get(T), i32(2), SHL, ADD, i32Load(), get(NB), MUL, ADD, set(OFF));
  e(V128_ZERO, set(A0), V128_ZERO, set(A1), i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N4B), GE_S, brIf(1));
  e(get(OFF), get(I), ADD, v128Load(), set(XV));
  e(get(A0), get(W), get(I), ADD, v128Load(), get(XV), F64X2_MUL, get(XV), F64X2_MUL, F64X2_ADD);
  e(set(A0));
  e(get(OFF), get(I), ADD, v128Load(16), set(XV));
  e(get(A1), get(W), get(I), ADD, v128Load(16), get(XV), F64X2_MUL, get(XV), F64X2_MUL, F64X2_ADD);
  e(set(A1));
  e(get(I), i32(32), ADD, set(I), br(0), END, END);
  e(get(A0), lane(0), set(S0));
  e(BLOCK, LOOP);
  e(get(I), get(NB), GE_S, brIf(1));
  e(get(OFF), get(I), ADD, f64Load(), set(XS));
  e(get(S0), get(W), get(I), ADD, f64Load(), get(XS), F64_MUL, get(XS), F64_MUL, F64_ADD, set(S0));
  e(get(I), i32(8), ADD, set(I), br(0), END, END);
  e(get(OUT), get(T), i32(3), SHL, ADD);
  e(get(S0), get(A0), lane(1), F64_ADD, get(A1), lane(0), F64_ADD, get(A1), lane(1), F64_ADD);
  e(f64Store());
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  const code = body(
    [
      [5, I32],
      [3, V128],
      [2, F64],
    ],
    c,
  );
  return { name, params: [I32, I32, I32, I32, I32, I32], results: [], code };
}

/**
 * axpyList(x, n, list, cnt, coef, y): y_i += coef[t]·x_{list[t],i} for t < cnt in order, skipping
 * zero coefficients (elementwise, bit-identical to the JavaScript loop). The GLM linear predictor
 * η = β0 + X̃β over the active list at each new quadratic approximation.
 */
export function axpyListFunction(name: string): WasmFunction {
  const [X, N, LIST, CNT, COEF, Y] = [0, 1, 2, 3, 4, 5];
  const [T, OFF, I, N2B, NB] = [6, 7, 8, 9, 10];
  const BV = 11;
  const B = 12;
  const { code: c, e } = emitter();
  e(get(N), i32(-2), AND, i32(3), SHL, set(N2B));
  e(get(N), i32(3), SHL, set(NB));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(CNT), GE_S, brIf(1));
  e(BLOCK);
  e(get(COEF), get(T), i32(3), SHL, ADD, f64Load(), set(B));
  e(get(B), f64(0), F64_EQ, brIf(0));
  e(get(X), get(LIST), get(T), i32(2), SHL, ADD, i32Load(), get(NB), MUL, ADD, set(OFF));
  e(get(B), F64X2_SPLAT, set(BV), i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N2B), GE_S, brIf(1));
  e(get(Y), get(I), ADD, get(Y), get(I), ADD, v128Load());
  e(get(BV), get(OFF), get(I), ADD, v128Load(), F64X2_MUL, F64X2_ADD, v128Store());
  e(get(I), i32(16), ADD, set(I), br(0), END, END);
  e(BLOCK, get(I), get(NB), GE_S, brIf(0));
  e(get(Y), get(I), ADD, get(Y), get(I), ADD, f64Load());
  e(get(B), get(OFF), get(I), ADD, f64Load(), F64_MUL, F64_ADD, f64Store(), END);
  e(END);
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  const code = body(
    [
      [5, I32],
      [1, V128],
      [1, F64],
    ],
    c,
  );
  return { name, params: [I32, I32, I32, I32, I32, I32], results: [], code };
}
