/**
 * WebAssembly SIMD (f64x2) kernel for the full KKT product |X̃ᵀr| of the float64 coordinate
 * descent, for designs that live in WebAssembly memory (`wasmDesignBuffer`).
 *
 * Why: V8 does not vectorise typed-array loops; the same 4-column blocked product in wasm with
 * 128-bit lanes ran 1.7× faster than the JavaScript loop (250 × 20,000, identical sums up to
 * rounding order: max |Δ| 1e-17). The module is assembled from a few opcodes (compute/kernels/wasm-asm.ts; no
 * toolchain, no binary blob): one exported function, gemvAbs.
 *
 * The design buffer is a Float64Array view over a fresh WebAssembly.Memory with scratch room for
 * the residual and the result after it; `absDotAllWasm` copies r in and the products out (n + p
 * doubles against n·p multiply-adds). Anything that is not such a buffer, or a runtime without
 * wasm SIMD, uses the JavaScript loop (design.ts absDotAll) — results agree to rounding.
 */

import {
  SpareMemory,
  type WasmMemory,
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  END,
  EQ,
  F64,
  F64_ABS,
  F64_ADD,
  F64_MUL,
  F64X2_ADD,
  F64X2_MUL,
  f64Load,
  f64Store,
  GE_S,
  get,
  GT_S,
  I32,
  i32,
  lane,
  LOOP,
  moduleBytes,
  MUL,
  set,
  SHL,
  V128,
  V128_ZERO,
  v128Load,
  emitter,
  lazyModule,
} from '../kernels/wasm-asm';
import { axpyListFunction, dotListFunction, sweepFunction, wssListFunction } from './cd-kernel';

// TypeScript's WebAssembly typings come with lib.dom, which this project does not load.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

type SweepFn = (
  x: number,
  n: number,
  list: number,
  cnt: number,
  r: number,
  v: number,
  bc: number,
  xvc: number,
  al1: number,
  al2: number,
  gscale: number,
  rsqPtr: number,
) => number;

type ListFn = (x: number, n: number, list: number, cnt: number, a: number, b: number) => void;

interface Arena {
  gemvAbs: (x: number, n: number, p: number, r: number, out: number, scale: number) => void;
  sweepW: SweepFn;
  sweepU: SweepFn;
  dotList: ListFn;
  wssList: ListFn;
  axpyList: ListFn;
  memory: ArrayBuffer;
  wasmMemory: WasmMemory;
  /** Byte offset of the scratch area (after the design). */
  scratch: number;
  /** Doubles available in the scratch area. */
  scratchLen: number;
  /** The last coordinate-descent workspace handed out on this arena, and its shape. */
  work: CdWork | null;
  workN: number;
  workP: number;
}

const arenas = new WeakMap<ArrayBufferLike, Arena>();

/** Largest arena (bytes): i32 byte offsets must not overflow. */
const MAX_BYTES = 2 ** 31 - 65536;

/** null without wasm SIMD: the JavaScript loops run. */
const compiled = lazyModule(gemvAbsModule);

/**
 * A Float64Array of `len` doubles in its own WebAssembly memory, with scratch room for `scratch`
 * more (a residual and a p-vector), or null when wasm SIMD is unavailable or it would be too large.
 */
export function wasmDesignBuffer(len: number, scratch: number): Float64Array | null {
  // Four times the scratch asked for (n + p): room for a coordinate-descent workspace (`cdWork`:
  // residual, weights, compact coefficient / curvature / index lists) after the KKT product's.
  const bytes = (len + 4 * scratch + 8) * 8;
  if (bytes > MAX_BYTES || process.env.OMICSELECTOR_NO_SIMD === '1') return null;
  const mod = compiled();
  if (!mod || !wasm) return null;
  try {
    // A released design's memory (not over twice the size: its excess would sit unused): the
    // design part is overwritten by the caller; the scratch is cleared as a fresh memory's would
    // be (the workspaces write before they read, tested with a non-zero fill; this keeps a future
    // reader of zeros safe).
    let memory = spareDesign.take(bytes, 2 * bytes + 65536);
    if (memory) new Float64Array(memory.buffer).fill(0, len, len + 4 * scratch + 8);
    else memory = new wasm.Memory({ initial: Math.ceil(bytes / 65536) || 1 });
    const inst = new wasm.Instance(mod, { env: { mem: memory } });
    const buf = new Float64Array(memory.buffer, 0, len);
    arenas.set(memory.buffer, {
      wasmMemory: memory,
      gemvAbs: inst.exports.gemvAbs as Arena['gemvAbs'],
      sweepW: inst.exports.sweepW as SweepFn,
      sweepU: inst.exports.sweepU as SweepFn,
      dotList: inst.exports.dotList as ListFn,
      wssList: inst.exports.wssList as ListFn,
      axpyList: inst.exports.axpyList as ListFn,
      memory: memory.buffer,
      scratch: len * 8,
      scratchLen: Math.floor((memory.buffer.byteLength - len * 8) / 8),
      work: null,
      workN: 0,
      workP: 0,
    });
    return buf;
  } catch {
    return null;
  }
}

/**
 * Hands the memory of a design buffer (wasmDesignBuffer's) to the next one made on this thread;
 * `buf` must not be used after. Why: a fresh memory per fit page-faults on its first write of
 * every page. Harness at 200 × 2,000 (AMD EPYC CI VM, 23 Nov 2026), before → after: lasso
 * glmnet path 9.5 → 7.4 ms, binomial path 18 → 16 ms, lasso (path) 12 → 10 ms. Not a design
 * buffer: nothing happens.
 */
export function releaseDesignBuffer(buf: Float64Array): void {
  const arena = buf.byteOffset === 0 ? arenas.get(buf.buffer) : undefined;
  if (!arena) return;
  arenas.delete(buf.buffer);
  spareDesign.give(arena.wasmMemory);
}

/** The released design memory kept for the next design on this thread (up to 256 MB). */
const spareDesign = new SpareMemory(256 << 20);

/**
 * out[j] = |x_jᵀa|·scale for the first p − p mod 4 columns of column-major x (n × p) when x
 * lives at the start of a wasm design buffer; returns the number of columns done (0 when not).
 */
export function absDotAllWasm(
  x: Float64Array,
  n: number,
  p: number,
  a: Float64Array,
  scale: number,
  out: Float64Array,
): number {
  if (x.byteOffset !== 0) return 0;
  const arena = arenas.get(x.buffer);
  if (!arena || arena.scratchLen < n + p) return 0;
  const p4 = p - (p & 3);
  const heap = new Float64Array(x.buffer, arena.scratch, n + p);
  heap.set(a.subarray(0, n));
  arena.gemvAbs(0, n, p4, arena.scratch, arena.scratch + n * 8, scale);
  out.set(heap.subarray(n, n + p4));
  return p4;
}

/**
 * A coordinate-descent workspace in the design's WebAssembly memory, for the wasm sweep
 * (cd-kernel.ts): the residual r and weights v (n each) live there for the whole fit; a sweep
 * gathers the coefficients and curvatures of the features it visits into bc / xvc (compact, in
 * visiting order, indices in `list`) and scatters them back. Null when x is not a wasm design
 * buffer with room for it (then the JavaScript sweeps run).
 *
 * A class, and one instance per (arena, n, p), on purpose: the solvers call these methods in
 * their hottest loops, and a fresh closure per fit was a new call target each time, so V8
 * threw the optimised sweep code away at every fit ("wrong call target": 168 deopts in one
 * 10-fold cv binomial at 200 × 2,000, each followed by a re-compilation).
 */
export class CdWork {
  readonly r: Float64Array;
  readonly v: Float64Array;
  readonly bc: Float64Array;
  readonly xvc: Float64Array;
  readonly list: Int32Array;
  /** Running Σ Δ·(2g − Δ·xv) of the Gaussian sweep (slot read and written by the kernel). */
  readonly rsq: Float64Array;
  /** A linear predictor (n) in the same memory. */
  readonly eta: Float64Array;
  private readonly n: number;
  private readonly rOff: number;
  private readonly vOff: number;
  private readonly etaOff: number;
  private readonly bcOff: number;
  private readonly xvcOff: number;
  private readonly rsqOff: number;
  private readonly listOff: number;
  private readonly arena: Arena;

  constructor(arena: Arena, n: number, p: number) {
    const buf = arena.memory;
    // gemv region (n + p), r, v, eta (n each), bc, xvc (p each), rsq (+1 pad), list (p i32)
    const base = arena.scratch + (n + p) * 8;
    this.arena = arena;
    this.n = n;
    this.rOff = base;
    this.vOff = this.rOff + n * 8;
    this.etaOff = this.vOff + n * 8;
    this.bcOff = this.etaOff + n * 8;
    this.xvcOff = this.bcOff + p * 8;
    this.rsqOff = this.xvcOff + p * 8;
    this.listOff = this.rsqOff + 16;
    this.r = new Float64Array(buf, this.rOff, n);
    this.v = new Float64Array(buf, this.vOff, n);
    this.eta = new Float64Array(buf, this.etaOff, n);
    this.bc = new Float64Array(buf, this.bcOff, p);
    this.xvc = new Float64Array(buf, this.xvcOff, p);
    this.rsq = new Float64Array(buf, this.rsqOff, 1);
    this.list = new Int32Array(buf, this.listOff, p);
  }

  /** Sweep list[0..cnt): weighted (GLM, r −= Δ·v∘x) or not (Gaussian, r −= Δ·x); gradient × gscale. */
  sweep(weighted: boolean, cnt: number, al1: number, al2: number, gscale: number): number {
    const a = this.arena;
    return (weighted ? a.sweepW : a.sweepU)(
      0,
      this.n,
      this.listOff,
      cnt,
      this.rOff,
      this.vOff,
      this.bcOff,
      this.xvcOff,
      al1,
      al2,
      gscale,
      this.rsqOff,
    );
  }

  /** bc[t] = |x_{list[t]}ᵀr| for t < cnt (r = this.r), bit-identical to |dotCol|. */
  dots(cnt: number): void {
    this.arena.dotList(0, this.n, this.listOff, cnt, this.rOff, this.bcOff);
  }

  /** bc[t] = Σ v_i·x_{list[t],i}² for t < cnt (v = this.v), bit-identical to wssCol. */
  wss(cnt: number): void {
    this.arena.wssList(0, this.n, this.listOff, cnt, this.vOff, this.bcOff);
  }

  /** eta += bc[t]·x_{list[t]} for t < cnt with bc[t] ≠ 0, in order. */
  axpyEta(cnt: number): void {
    this.arena.axpyList(0, this.n, this.listOff, cnt, this.bcOff, this.etaOff);
  }
}

export function cdWork(x: Float64Array, n: number, p: number): CdWork | null {
  if (x.byteOffset !== 0 || process.env.OMICSELECTOR_NO_WASM_CD === '1') return null;
  const arena = arenas.get(x.buffer);
  if (!arena) return null;
  const need = n + p + 3 * n + 2 * p + 2 + Math.ceil(p / 2);
  if (arena.scratchLen < need) return null;
  // Reused while the shape is the same (CV folds, repeated fits on one buffer): fewer views
  // to allocate, and the solvers see one object.
  let w = arena.work;
  if (!w || arena.workN !== n || arena.workP !== p) {
    w = arena.work = new CdWork(arena, n, p);
    arena.workN = n;
    arena.workP = p;
  }
  return w;
}

// --- the kernel (assembled with compute/kernels/wasm-asm.ts) ----------------------------------

/**
 * gemvAbs(x, n, p, r, out, scale): out[j] = |Σ_i x[j·n + i]·r[i]|·scale for j < p (p a multiple
 * of 4), pointers in bytes. Four columns per pass share each r load; two f64 lanes per column.
 */
function gemvAbsModule(): Uint8Array {
  // params 0 x, 1 n, 2 p, 3 r, 4 out (i32), 5 scale (f64)
  const [X, N, P, R, OUT, SCALE] = [0, 1, 2, 3, 4, 5];
  // locals: 6 j, 7 i, 8–11 column offsets, 12 n2 (i32); 13–16 acc, 17 rv (v128); 18–21 sums, 22 rs (f64)
  const [J, I, N2] = [6, 7, 12];
  const O = [8, 9, 10, 11];
  const A = [13, 14, 15, 16];
  const RV = 17;
  const S = [18, 19, 20, 21];
  const RS = 22;
  const { code: b, e } = emitter();
  e(get(N), i32(-2), AND, set(N2));
  e(i32(0), set(J));
  e(BLOCK, LOOP);
  e(get(J), i32(4), ADD, get(P), GT_S, brIf(1));
  e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, set(O[0]!));
  for (let k = 1; k < 4; k++) e(get(O[k - 1]!), get(N), i32(3), SHL, ADD, set(O[k]!));
  for (const a of A) e(V128_ZERO, set(a));
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(N2), i32(3), SHL, GE_S, brIf(1));
  e(get(R), get(I), ADD, v128Load(), set(RV));
  for (let k = 0; k < 4; k++) {
    e(get(A[k]!), get(O[k]!), get(I), ADD, v128Load(), get(RV), F64X2_MUL, F64X2_ADD, set(A[k]!));
  }
  e(get(I), i32(16), ADD, set(I), br(0), END, END);
  for (let k = 0; k < 4; k++) e(get(A[k]!), lane(0), get(A[k]!), lane(1), F64_ADD, set(S[k]!));
  // odd n: the last row
  e(BLOCK, get(N2), get(N), EQ, brIf(0));
  e(get(R), get(N2), i32(3), SHL, ADD, f64Load(), set(RS));
  for (let k = 0; k < 4; k++) {
    e(get(S[k]!), get(O[k]!), get(N2), i32(3), SHL, ADD, f64Load(), get(RS), F64_MUL, F64_ADD);
    e(set(S[k]!));
  }
  e(END);
  for (let k = 0; k < 4; k++) {
    e(
      get(OUT),
      get(J),
      i32(3),
      SHL,
      ADD,
      get(S[k]!),
      F64_ABS,
      get(SCALE),
      F64_MUL,
      f64Store(8 * k),
    );
  }
  e(get(J), i32(4), ADD, set(J), br(0), END, END);
  const code = body(
    [
      [7, I32],
      [5, V128],
      [5, F64],
    ],
    b,
  );
  return moduleBytes([
    { name: 'gemvAbs', params: [I32, I32, I32, I32, I32, F64], results: [], code },
    sweepFunction('sweepW', true),
    sweepFunction('sweepU', false),
    dotListFunction('dotList'),
    wssListFunction('wssList'),
    axpyListFunction('axpyList'),
  ]);
}
