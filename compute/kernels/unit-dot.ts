/**
 * A pool of standardised (centred, unit-norm) columns, built on first use, and the dot products
 * of one column with up to four others — the redundancy terms |r(x_j, x_s)| of mRMR FCQ.
 *
 * Why a WebAssembly (f64x2) kernel: V8 does not vectorise typed-array loops, and a catch-up of
 * candidate j against several picks reads z_j once per four picks here (2 + 8 vector loads per
 * 4 rows × 4 picks) instead of once per pick.
 *
 * Bit-identical to the JavaScript loop it replaces (`dotJs`): that loop keeps four partial sums
 * r0..r3 over rows i ≡ 0..3 (mod 4) for i + 3 < n, adds the remaining rows to r0, and returns
 * (r0 + r1) + (r2 + r3). The wasm kernel keeps (r0, r1) and (r2, r3) in the two lanes of two
 * f64x2 accumulators — each lane sees the same products, added in the same order, with separate
 * multiply and add roundings (wasm has no fused multiply-add) — so every term has the same bits,
 * and the JavaScript fallback (no wasm SIMD, or OMICSELECTOR_NO_SIMD=1) gives the same results.
 *
 * Columns live in the pool's own WebAssembly memory (grown as columns are touched: a lazy mRMR
 * run standardises only a fraction of them, and never zero-fills an n·p array).
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
  F64_MUL,
  f64Load,
  f64Store,
  F64X2_ADD,
  F64X2_MUL,
  GE_S,
  get,
  I32,
  i32,
  lane,
  lazyModule,
  LOOP,
  MAX_BYTES,
  moduleBytes,
  PAGE,
  set,
  SHL,
  simdDisabled,
  V128,
  V128_ZERO,
  v128Load,
  wasm,
  SpareMemory,
  type WasmMemory,
  emitter,
} from './wasm-asm';

type Dot4 = (a: number, b0: number, b1: number, b2: number, b3: number, n: number) => void;
type Dot1 = (a: number, b: number, n: number) => number;

/** Bytes reserved at the start of the memory for the four results of dot4. */
const OUT_BYTES = 64;

const compiled = lazyModule(() =>
  moduleBytes([
    { name: 'dot4', params: [I32, I32, I32, I32, I32, I32], results: [], code: dotBody(4) },
    { name: 'dot1', params: [I32, I32, I32], results: [F64], code: dotBody(1) },
  ]),
);

/** Σ z[a + i]·z[b + i], i < n, in the order described above (the reference arithmetic). */
export function dotJs(z: Float64Array, n: number, a: number, b: number): number {
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  let r3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    r0 += z[a + i]! * z[b + i]!;
    r1 += z[a + i + 1]! * z[b + i + 1]!;
    r2 += z[a + i + 2]! * z[b + i + 2]!;
    r3 += z[a + i + 3]! * z[b + i + 3]!;
  }
  for (; i < n; i++) r0 += z[a + i]! * z[b + i]!;
  return r0 + r1 + (r2 + r3);
}

/**
 * z[zoff …] = column (data[off …], n values) centred and scaled to unit norm: mean = sequential
 * sum / n, d = x − mean, ss = sequential Σd², z = d · (1 / √ss). Returns true (z left = d) for a
 * constant column (ss = 0).
 */
export function standardize(
  data: Float64Array,
  off: number,
  n: number,
  z: Float64Array,
  zoff: number,
): boolean {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += data[off + i]!;
  const m = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = data[off + i]! - m;
    z[zoff + i] = d;
    ss += d * d;
  }
  if (ss === 0) return true;
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < n; i++) z[zoff + i]! *= inv;
  return false;
}

/** The largest released pool memory of this thread (up to 256 MB), for the next pool. */
const spare = new SpareMemory(256 << 20);

/**
 * Standardised columns of a column-major n × p matrix, built on demand, and their dot products.
 * `slot[j]` ≥ 0 once column j is built; `constant[j]` = 1 for a zero-variance column (its z is 0).
 */
export class UnitColumnPool {
  readonly constant: Uint8Array;
  private readonly slot: Int32Array;
  private used = 0;
  private capacity: number;
  private memory: WasmMemory | null = null;
  private dot4: Dot4 | null = null;
  private dot1: Dot1 | null = null;
  /** Column storage: a view over the wasm memory (after OUT_BYTES) or a plain array. */
  private z: Float64Array;
  private out: Float64Array | null = null;

  constructor(
    private readonly data: Float64Array,
    private readonly n: number,
    p: number,
    initialColumns = 256,
  ) {
    this.constant = new Uint8Array(p);
    this.slot = new Int32Array(p).fill(-1);
    this.capacity = Math.max(1, Math.min(p, initialColumns));
    const mod = simdDisabled() ? null : compiled();
    const fullBytes = OUT_BYTES + n * p * 8;
    if (mod && wasm && fullBytes <= MAX_BYTES) {
      try {
        const need = OUT_BYTES + this.capacity * n * 8;
        // a kept memory's stale contents are never read: a slot is written before use
        const memory = spare.take(need) ?? new wasm.Memory({ initial: Math.ceil(need / PAGE) });
        const inst = new wasm.Instance(mod, { env: { mem: memory } });
        this.memory = memory;
        this.dot4 = inst.exports.dot4 as Dot4;
        this.dot1 = inst.exports.dot1 as Dot1;
      } catch {
        this.memory = null;
      }
    }
    this.z = this.view();
  }

  /**
   * A pool with every column built at once: `fill(z, constant)` writes column j at z[j·n …] with
   * `standardize`'s arithmetic (e.g. fused into another pass over the data) and flags constant
   * columns.
   */
  static filled(
    data: Float64Array,
    n: number,
    p: number,
    fill: (z: Float64Array, constant: Uint8Array) => void,
  ): UnitColumnPool {
    const pool = new UnitColumnPool(data, n, p, p);
    for (let j = 0; j < p; j++) pool.slot[j] = j;
    pool.used = p;
    fill(pool.z, pool.constant);
    return pool;
  }

  /**
   * Hands the column memory to the next pool on this thread (the pool must not be used after).
   * Why: a fresh memory per call (its creation, and a page fault on the first write of every
   * page) was ~2 ms of mrmr's 7.2 ms at 200 × 2,000: 7.15–7.5 → 5.1–5.2 ms per call with
   * reuse (median of 50 calls after 100 warm-ups, AMD EPYC CI VM, 23 Nov 2026).
   */
  release(): void {
    const m = this.memory;
    this.memory = null;
    this.dot4 = null;
    this.dot1 = null;
    if (m) spare.give(m);
  }

  /** True when the wasm kernel runs (false: the JavaScript loop). */
  get simd(): boolean {
    return this.memory !== null;
  }

  private view(): Float64Array {
    if (!this.memory) {
      const z = new Float64Array(this.capacity * this.n);
      if (this.z) z.set(this.z.subarray(0, this.used * this.n));
      return z;
    }
    this.out = new Float64Array(this.memory.buffer, 0, 4);
    return new Float64Array(this.memory.buffer, OUT_BYTES, this.capacity * this.n);
  }

  private grow(): void {
    const p = this.slot.length;
    this.capacity = Math.min(p, this.capacity * 2);
    if (this.memory) {
      const need = Math.ceil((OUT_BYTES + this.capacity * this.n * 8) / PAGE);
      const have = this.memory.buffer.byteLength / PAGE;
      if (need > have) this.memory.grow(need - have);
    }
    this.z = this.view();
  }

  /** Builds column j if needed (centred, scaled to unit norm; a constant column stays 0). */
  ensure(j: number): void {
    if (this.slot[j]! >= 0) return;
    if (this.used === this.capacity) this.grow();
    const s = this.used++;
    this.slot[j] = s;
    if (standardize(this.data, j * this.n, this.n, this.z, s * this.n)) this.constant[j] = 1;
  }

  /**
   * out[t] = z_jᵀz_{cols[t]} for t in [from, to), all columns already built (`ensure`).
   * Four columns per pass of z_j on the wasm path.
   */
  dots(j: number, cols: ArrayLike<number>, from: number, to: number, out: Float64Array): void {
    const n = this.n;
    const a = this.slot[j]! * n;
    let t = from;
    if (this.dot4) {
      const res = this.out!;
      const base = OUT_BYTES;
      const ab = base + a * 8;
      for (; t + 3 < to; t += 4) {
        this.dot4(
          ab,
          base + this.slot[cols[t]!]! * n * 8,
          base + this.slot[cols[t + 1]!]! * n * 8,
          base + this.slot[cols[t + 2]!]! * n * 8,
          base + this.slot[cols[t + 3]!]! * n * 8,
          n,
        );
        out[t] = res[0]!;
        out[t + 1] = res[1]!;
        out[t + 2] = res[2]!;
        out[t + 3] = res[3]!;
      }
      for (; t < to; t++) out[t] = this.dot1!(ab, base + this.slot[cols[t]!]! * n * 8, n);
      return;
    }
    for (; t < to; t++) out[t] = dotJs(this.z, n, a, this.slot[cols[t]!]! * n);
  }
}

/**
 * Body of dotK(a, b_0 … b_{K−1}, n) (byte pointers): for each k the sum described in the file
 * comment, written to memory[8k] (K = 4) or returned (K = 1).
 */
function dotBody(K: number): number[] {
  const A = 0;
  const B = Array.from({ length: K }, (_, k) => 1 + k);
  const N = 1 + K;
  // i32 locals: i (byte offset), end4 (bytes of the 4-row blocks), endN (bytes of all rows)
  const I = N + 1;
  const END4 = I + 1;
  const ENDN = I + 2;
  // v128 locals: lo_k (rows i, i+1), hi_k (rows i+2, i+3), xa, xb (z_j's two vectors)
  const LO = Array.from({ length: K }, (_, k) => ENDN + 1 + k);
  const HI = Array.from({ length: K }, (_, k) => ENDN + 1 + K + k);
  const XA = ENDN + 1 + 2 * K;
  const XB = XA + 1;
  // f64 locals: r0_k
  const R0 = Array.from({ length: K }, (_, k) => XB + 1 + k);
  const { code: b, e } = emitter();
  e(get(N), i32(-4), AND, i32(3), SHL, set(END4));
  e(get(N), i32(3), SHL, set(ENDN));
  for (let k = 0; k < K; k++) e(V128_ZERO, set(LO[k]!), V128_ZERO, set(HI[k]!));
  e(i32(0), set(I));
  e(BLOCK, LOOP);
  e(get(I), get(END4), GE_S, brIf(1));
  e(get(A), get(I), ADD, v128Load(0), set(XA));
  e(get(A), get(I), ADD, v128Load(16), set(XB));
  for (let k = 0; k < K; k++) {
    e(get(LO[k]!), get(B[k]!), get(I), ADD, v128Load(0), get(XA), F64X2_MUL, F64X2_ADD);
    e(set(LO[k]!));
    e(get(HI[k]!), get(B[k]!), get(I), ADD, v128Load(16), get(XB), F64X2_MUL, F64X2_ADD);
    e(set(HI[k]!));
  }
  e(get(I), i32(32), ADD, set(I), br(0), END, END);
  // r0 = lane 0 of lo, then the last n mod 4 rows added to it one by one
  for (let k = 0; k < K; k++) e(get(LO[k]!), lane(0), set(R0[k]!));
  e(BLOCK, LOOP);
  e(get(I), get(ENDN), GE_S, brIf(1));
  for (let k = 0; k < K; k++) {
    e(get(R0[k]!), get(B[k]!), get(I), ADD, f64Load(), get(A), get(I), ADD, f64Load(), F64_MUL);
    e(F64_ADD, set(R0[k]!));
  }
  e(get(I), i32(8), ADD, set(I), br(0), END, END);
  // (r0 + r1) + (r2 + r3)
  const total = (k: number) => [
    ...get(R0[k]!),
    ...get(LO[k]!),
    ...lane(1),
    ...F64_ADD,
    ...get(HI[k]!),
    ...lane(0),
    ...get(HI[k]!),
    ...lane(1),
    ...F64_ADD,
    ...F64_ADD,
  ];
  if (K === 1) e(total(0));
  else for (let k = 0; k < K; k++) e(i32(0), total(k), f64Store(8 * k));
  return body(
    [
      [3, I32],
      [2 * K + 2, V128],
      [K, F64],
    ],
    b,
  );
}
