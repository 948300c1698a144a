/**
 * WebAssembly SIMD scan of one row of products for pairs that pass a Cauchy–Schwarz screen:
 * the t in [from, to) with |c_t| ≥ quick and |c_t| + ρ·τ_t ≥ lim, written as i32 indices.
 *
 * Why: correlation_filter's Gram screen (selectors/correlation_filter.ts) reads the upper triangle
 * of a p × p product once; in JavaScript that scan was a third of the whole filter at 2,000
 * features (~10 ns per entry on the loaded bench VM). Here four entries are tested per step with
 * f64x2 abs / compare on the `quick` bound (the test with the largest τ), and only a step with a
 * hit is checked entry by entry with the exact bound. Runs on the product's own (shared) memory.
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
  F64_ABS,
  F64_ADD,
  F64_MUL,
  F64X2_SPLAT,
  f64Load,
  GE_S,
  get,
  GT_S,
  I32,
  i32,
  i32Store,
  IF,
  lazyModule,
  LOOP,
  moduleBytes,
  set,
  SHL,
  tee,
  uleb,
  V128,
  v128Load,
  wasm,
  emitter,
} from './wasm-asm';

const simd = (op: number) => [0xfd, ...uleb(op)];
const F64X2_ABS = simd(0xec);
const F64X2_GE = simd(0x4c);
const V128_OR = simd(0x50);
const V128_ANY_TRUE = simd(0x53);
const F64_GE = [0x66];

/** scan(c, tau, from, to, rho, quick, lim, out) → number of indices written at out. */
export type BoundScanFn = (
  c: number,
  tau: number,
  from: number,
  to: number,
  rho: number,
  quick: number,
  lim: number,
  out: number,
) => number;

const compiled = lazyModule(scanModule);

/**
 * The scan function bound to `memory` (pointers are byte offsets into it: c and tau are float64
 * arrays indexed by t, out an int32 array). Null without WebAssembly SIMD.
 */
export function boundScan(memory: object): BoundScanFn | null {
  const mod = compiled();
  if (!mod || !wasm) return null;
  try {
    return new wasm.Instance(mod, { env: { mem: memory } }).exports.scan as BoundScanFn;
  } catch {
    return null;
  }
}

function scanModule(): Uint8Array {
  // params: 0 c, 1 tau, 2 from, 3 to (i32), 4 rho, 5 quick, 6 lim (f64), 7 out (i32)
  const [C, TAU, FROM, TO, RHO, QUICK, LIM, OUT] = [0, 1, 2, 3, 4, 5, 6, 7];
  // locals: 8 t, 9 m, 10 k, 11 addr (i32); 12 qv (v128); 13 a (f64)
  const [T, M, K, ADDR, QV, A] = [8, 9, 10, 11, 12, 13];
  const { code, e } = emitter();
  /** Entry `idx` (an i32 expression's code): the exact test, and the write of idx on a pass. */
  const check = (idx: number[]) => {
    e(get(C), idx, i32(3), SHL, ADD, f64Load(), F64_ABS, tee(A), get(QUICK), F64_GE);
    e(get(A), get(RHO), get(TAU), idx, i32(3), SHL, ADD, f64Load(), F64_MUL, F64_ADD);
    e(get(LIM), F64_GE, AND, IF);
    e(get(OUT), get(M), i32(2), SHL, ADD, idx, i32Store());
    e(get(M), i32(1), ADD, set(M), END);
  };
  e(get(QUICK), F64X2_SPLAT, set(QV));
  e(get(FROM), set(T), i32(0), set(M));
  // four entries per step
  e(BLOCK, LOOP);
  e(get(T), i32(4), ADD, get(TO), GT_S, brIf(1));
  e(get(C), get(T), i32(3), SHL, ADD, tee(ADDR), v128Load(), F64X2_ABS, get(QV), F64X2_GE);
  e(get(ADDR), v128Load(16), F64X2_ABS, get(QV), F64X2_GE, V128_OR, V128_ANY_TRUE, IF);
  for (let k = 0; k < 4; k++) {
    e(get(T), i32(k), ADD, set(K));
    check(get(K));
  }
  e(END);
  e(get(T), i32(4), ADD, set(T), br(0), END, END);
  // the last 0–3 entries
  e(BLOCK, LOOP);
  e(get(T), get(TO), GE_S, brIf(1));
  check(get(T));
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  e(get(M));
  return moduleBytes(
    [
      {
        name: 'scan',
        params: [I32, I32, I32, I32, F64, F64, F64, I32],
        results: [I32],
        code: body(
          [
            [4, I32],
            [1, V128],
            [1, F64],
          ],
          code,
        ),
      },
    ],
    { sharedMaxPages: 65536 },
  );
}
