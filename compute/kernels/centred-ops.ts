/**
 * Float64 WebAssembly SIMD kernels for solving with a sample Gram matrix without forming it in
 * float64: the centred kernel product K·v = Xc(Xcᵀv) (Xc = X − 1·meanᵀ, column-major X, no
 * centred copy), and the column means and sds (the Cholesky factorisation is in cholesky.ts).
 *
 * Why: the ridge model's dual solve (compute/linear/ridge_dual.ts) preconditions conjugate
 * gradients with the float32-screened Gram and needs the float64 operator for its residuals:
 * one pass over the data per iteration, which in JavaScript (scalar dot, then axpy, per column)
 * took ~35 ms at 500 × 20,000 and here ~6–10 ms on two threads.
 *
 * K·v is deterministic whatever the thread count: the columns are cut into SLICES fixed ranges
 * (by p only), each range sums into its own output vector, and the ranges' outputs are added in
 * order on the calling thread.
 */
import { checkAbort } from '../core/method';
import { defaultThreads, runWithCaller } from '../core/parallel';
import {
  ADD,
  AND,
  BLOCK,
  body,
  br,
  brIf,
  emitter,
  END,
  F64,
  F64_ADD,
  F64_DIV,
  F64_MUL,
  F64_SQRT,
  F64_SUB,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_SPLAT,
  F64X2_SUB,
  f64,
  f64Load,
  f64Store,
  GE_S,
  GT_S,
  get,
  I32,
  i32,
  IF,
  lane,
  lazyModule,
  LOOP,
  moduleBytes,
  MUL,
  set,
  RETURN,
  SHL,
  SUB,
  tee,
  simdDisabled,
  SpareMemory,
  sum8Total,
  V128,
  V128_ZERO,
  v128Load,
  v128Store,
  wasm,
  type WasmFunction,
  type WasmMemory,
} from './wasm-asm';
import { inPlaceOf } from './resident';

/** Fixed column ranges of K·v (see the file comment). */
const SLICES = 8;
/** Matrix entries from which K·v runs on worker threads (below, a pass costs well under 1 ms). */
const THREAD_ENTRIES = 2e6;

type KvFn = (
  x: number,
  n: number,
  j0: number,
  j1: number,
  mean: number,
  v: number,
  s: number,
  out: number,
  axpy: number,
) => void;
type StatsFn = (
  x: number,
  n: number,
  j0: number,
  j1: number,
  mean: number,
  sd: number,
  nf: number,
) => void;

const functions = (pairs: boolean): WasmFunction[] => [
  {
    name: 'kv',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    code: kvBody(pairs),
  },
  {
    name: 'stats',
    params: [I32, I32, I32, I32, I32, I32, F64],
    results: [],
    code: statsBody(),
  },
];
/**
 * For the shared memories of the copies (worker threads share them): matrices from 2·10⁶ entries,
 * streamed from DRAM, where K·v's two-column step measured half the speed of one column at a
 * time (see kvBody).
 */
const compiled = lazyModule(() => moduleBytes(functions(false), { sharedMaxPages: 65536 }));
/** For a resident dataset's own (unshared) memory: small matrices, read in place. */
const compiledLocal = lazyModule(() => moduleBytes(functions(true)));

interface Kernels {
  kv: KvFn;
  stats: StatsFn;
}

/**
 * One instance per memory object on this thread: a pass makes SLICES calls, and instantiating the
 * module for each would cost more than a small slice's work. (A worker receives a new memory
 * object with every task, so there the instance is made per task.)
 */
const instances = new WeakMap<WasmMemory, Kernels>();

function instance(memory: WasmMemory): Kernels {
  let k = instances.get(memory);
  if (!k) {
    // a resident dataset's memory (CentredColumns in place) is not shared
    const mod = memory.buffer instanceof SharedArrayBuffer ? compiled() : compiledLocal();
    const ex = new wasm!.Instance(mod!, { env: { mem: memory } }).exports;
    k = {
      kv: ex.kv as KvFn,
      stats: ex.stats as StatsFn,
    };
    instances.set(memory, k);
  }
  return k;
}

/** The largest released copy's memory up to 256 MB, reused by the next copy that fits in it. */
const spare = new SpareMemory(2 ** 28);

export interface ThreadOptions {
  threads?: number;
  signal?: AbortSignal;
  /** Matrix entries from which the work goes to worker threads (default THREAD_ENTRIES). */
  minThreadEntries?: number;
}

/** One column range of K·v (exported for worker threads). */
export interface KvTask {
  memory: WasmMemory;
  x: number;
  n: number;
  j0: number;
  j1: number;
  mean: number;
  v: number;
  s: number;
  out: number;
  axpy: boolean;
}

/** Column means (into `mean`) and sds (into `s`) of one column range (exported for worker threads). */
export function statsSlice(t: KvTask): number {
  instance(t.memory).stats(t.x, t.n, t.j0, t.j1, t.mean, t.s, t.n);
  return t.j1 - t.j0;
}

export function kvSlice(t: KvTask): number {
  new Float64Array(t.memory.buffer, t.out, t.n).fill(0);
  instance(t.memory).kv(t.x, t.n, t.j0, t.j1, t.mean, t.v, t.s, t.out, t.axpy ? 1 : 0);
  return t.j1 - t.j0;
}

/** A pass's slices, claimed one by one from a shared counter by every copy (runWithCaller). */
export interface ClaimedSlices {
  fn: 'kvSlice' | 'statsSlice';
  tasks: KvTask[];
  claims: Int32Array;
}

/** Runs the slices of `t` this copy claims (exported for worker threads). */
export function claimedSlices(t: ClaimedSlices): number {
  const run = t.fn === 'kvSlice' ? kvSlice : statsSlice;
  let done = 0;
  for (let i = Atomics.add(t.claims, 0, 1); i < t.tasks.length; i = Atomics.add(t.claims, 0, 1)) {
    done += run(t.tasks[i]!);
  }
  return done;
}

/**
 * Column-major X (n × p) with its column centres, for repeated float64 products with
 * Xc = X − 1·centerᵀ. Two homes:
 * - a copy in a shared WebAssembly memory, which worker threads can share;
 * - in place, for a small resident matrix (kernels/resident.ts; below THREAD_ENTRIES, so one
 *   thread): the kernels run on the dataset's own memory, their vectors in its scratch region,
 *   written and read back within each synchronous call (the scratch rule). This saves the copy:
 *   ~0.1 ms of a 200 × 2,000 ridge fit's ~2.1 (CI VM, AMD EPYC, 23 Nov 2026).
 * Null without WebAssembly SIMD or when it does not fit one memory. Call release() when done.
 */
export class CentredColumns {
  private readonly f: Float64Array;
  private readonly slices: Array<[number, number]> = [];
  /** The centre, kept here in place mode (the scratch region does not keep it between calls). */
  private center: Float64Array;

  private constructor(
    private memory: WasmMemory | null,
    private readonly n: number,
    readonly p: number,
    /** Byte offset of X, and the first double of the vectors (centre, v, s, slice outputs). */
    private readonly xByte: number,
    private readonly base: number,
    /** The matrix read where it lies (a small resident one), not copied. */
    readonly inPlace: boolean,
  ) {
    this.f = new Float64Array(memory!.buffer);
    this.center = new Float64Array(p);
    const per = Math.ceil(p / SLICES);
    for (let j0 = 0; j0 < p; j0 += per) this.slices.push([j0, Math.min(p, j0 + per)]);
  }

  /** X in place when it is a small resident matrix, else copied; the centre is 0 until setCenter. */
  static create(x: Float64Array, n: number, p: number): CentredColumns | null {
    const vectors = 2 * p + n + SLICES * n; // centre, v, s, one output per slice
    if (simdDisabled() || !compiled()) return null;
    const home = n * p < THREAD_ENTRIES ? inPlaceOf(x) : null;
    if (home && vectors * 8 <= home.scratchBytes && compiledLocal()) {
      return new CentredColumns(home.memory, n, p, x.byteOffset, home.scratchByte >> 3, true);
    }
    const memory = spare.takeOrCreate(8 * (n * p + vectors), true);
    if (!memory) return null;
    const ops = new CentredColumns(memory, n, p, 0, n * p, false);
    ops.f.set(x, 0);
    ops.f.fill(0, ops.meanAt, ops.vAt);
    return ops;
  }

  setCenter(center: Float64Array): void {
    this.center = Float64Array.from(center.subarray(0, this.p));
    if (!this.inPlace) this.f.set(center, this.meanAt);
  }

  /**
   * Column means and population sds, bit for bit those of columnMeanSd (compute/linear/model.ts):
   * the same four partial sums (lanes of two f64x2 accumulators), tails and order of additions.
   */
  async meanSd(opts: ThreadOptions = {}): Promise<{ mean: Float64Array; sd: Float64Array }> {
    // The sds land in the s slot, the means in the centre slot (then restored).
    const tasks = this.tasks(false);
    if (this.inPlace) this.runHere('statsSlice', tasks);
    else await this.run('statsSlice', tasks, opts);
    const mean = this.f.slice(this.meanAt, this.meanAt + this.p);
    const sd = this.f.slice(this.sAt, this.sAt + this.p);
    if (!this.inPlace) this.f.set(this.center, this.meanAt);
    return { mean, sd };
  }

  private tasks(axpy: boolean): KvTask[] {
    return this.slices.map(([j0, j1], i) => ({
      memory: this.memory!,
      x: this.xByte,
      n: this.n,
      j0,
      j1,
      mean: this.meanAt * 8,
      v: this.vAt * 8,
      s: this.sAt * 8,
      out: this.outAt(i) * 8,
      axpy,
    }));
  }

  /** The slices on this thread, now (in place: synchronously, with the inputs just written). */
  private runHere(fn: 'kvSlice' | 'statsSlice', tasks: KvTask[]): void {
    if (!this.memory) throw new Error('CentredColumns used after release()');
    for (const t of tasks) (fn === 'kvSlice' ? kvSlice : statsSlice)(t);
  }

  private async run(
    fn: 'kvSlice' | 'statsSlice',
    tasks: KvTask[],
    opts: ThreadOptions,
  ): Promise<void> {
    if (!this.memory) throw new Error('CentredColumns used after release()');
    const small = this.n * this.p < (opts.minThreadEntries ?? THREAD_ENTRIES);
    const threads = small ? 1 : (opts.threads ?? defaultThreads());
    if (threads <= 1) this.runHere(fn, tasks);
    else {
      // The caller takes slices too, claimed from a shared counter: one message per worker and
      // pass instead of one per slice, and nobody idles while another thread finishes its share.
      // Each slice still sums into its own output, so the result does not depend on who ran it.
      checkAbort(opts.signal);
      const claimed: ClaimedSlices = {
        fn,
        tasks,
        claims: new Int32Array(new SharedArrayBuffer(4)),
      };
      await runWithCaller(__filename, 'claimedSlices', claimed, threads, claimedSlices);
    }
  }

  private get meanAt(): number {
    return this.base;
  }
  private get vAt(): number {
    return this.meanAt + this.p;
  }
  private get sAt(): number {
    return this.vAt + this.n;
  }
  private outAt(slice: number): number {
    return this.sAt + this.p + slice * this.n;
  }

  /** Xcᵀv (p), and with `both` also Xc(Xcᵀv) (n). */
  async times(
    v: Float64Array,
    both: boolean,
    opts: ThreadOptions = {},
  ): Promise<{ xtv: Float64Array; kv: Float64Array | null }> {
    const { f } = this;
    const tasks = this.tasks(both);
    if (this.inPlace) {
      // written, run and read in one synchronous stretch: the scratch region is shared
      f.set(this.center, this.meanAt);
      f.set(v, this.vAt);
      this.runHere('kvSlice', tasks);
      return this.products(tasks.length, both);
    }
    f.set(v, this.vAt);
    await this.run('kvSlice', tasks, opts);
    return this.products(tasks.length, both);
  }

  /** Xcᵀv from the s slot, and the slices' K·v outputs added in order. */
  private products(slices: number, both: boolean): { xtv: Float64Array; kv: Float64Array | null } {
    const { n, p, f } = this;
    const xtv = f.slice(this.sAt, this.sAt + p);
    if (!both) return { xtv, kv: null };
    const kv = f.slice(this.outAt(0), this.outAt(0) + n);
    for (let s = 1; s < slices; s++) {
      const o = this.outAt(s);
      for (let i = 0; i < n; i++) kv[i] = kv[i]! + f[o + i]!;
    }
    return { xtv, kv };
  }

  release(): void {
    if (this.memory && !this.inPlace) spare.give(this.memory);
    this.memory = null;
  }
}

/**
 * kv(x, n, j0, j1, mean, v, s, out, axpy): for columns j0 ≤ j < j1 of column-major x (n rows),
 * s[j] = Σ_i (x_ij − mean_j)·v_i (four f64x2 partial sums over i ≡ 0…7 mod 8, then the tail in
 * order), and with axpy ≠ 0 out_i += s[j]·(x_ij − mean_j), column after column. Columns go two
 * per step: their two dot products one after the other (each column read as one sequential
 * stream), then one loop adds both columns' terms to out (in the same order, two adds per load
 * and store of out): the same bits as one column at a time (ridge coefficients at α = 0.01, 1
 * and 100 checked against the one-column kernel). Only with `pairs` (the in-place module: small
 * matrices). Measured on the CI VM (AMD EPYC, 23 Nov 2026, one thread, µs per K·v / per Xcᵀv):
 * 200 × 2,000 in place 118 / 62 one column at a time, 108 / 57 two (four: 110–111; the two dot
 * products interleaved in one loop, two streams: 144–146); 256 × 2,000 149 / 77 against 139 / 72;
 * 500 × 2,000 293 / 148 against 300 / 144; but 500 × 20,000 (a copy streamed from DRAM) 3,529 /
 * 2,713 against 6,552 / 5,238, twice as slow even without the axpy half, for reasons not found.
 */
function kvBody(pairs: boolean): number[] {
  const [X, N, J0, J1, MEAN, V, S, OUT, AXPY] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [J, I, END8, ENDN] = [9, 10, 11, 12];
  const COL = [13, 14];
  const M = [15, 16];
  const T = [17, 18];
  const ACC = [19, 20, 21, 22];
  const SC = [23, 24];
  const MS = [25, 26];
  const { code: c, e } = emitter();
  /** s[J + q] = the dot of column q of the step (COL[q], centre MS[q] / M[q]) into SC[q]. */
  const dot = (q: number) => {
    e(get(MEAN), get(J), i32(3), SHL, ADD, f64Load(8 * q), set(MS[q]!));
    e(get(MS[q]!), F64X2_SPLAT, set(M[q]!));
    for (const a of ACC) e(V128_ZERO, set(a));
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(END8), GE_S, brIf(1));
    ACC.forEach((acc, k) => {
      const at = 16 * k;
      e(get(acc), get(COL[q]!), get(I), ADD, v128Load(at), get(M[q]!), F64X2_SUB);
      e(get(V), get(I), ADD, v128Load(at), F64X2_MUL, F64X2_ADD, set(acc));
    });
    e(get(I), i32(64), ADD, set(I), br(0), END, END);
    const [a0, a1, a2, a3] = ACC as [number, number, number, number];
    e(get(a0), get(a1), F64X2_ADD, get(a2), get(a3), F64X2_ADD, F64X2_ADD, set(a0));
    e(get(a0), lane(0), get(a0), lane(1), F64_ADD, set(SC[q]!));
    e(BLOCK, LOOP);
    e(get(I), get(ENDN), GE_S, brIf(1));
    e(get(SC[q]!), get(COL[q]!), get(I), ADD, f64Load(), get(MS[q]!), F64_SUB);
    e(get(V), get(I), ADD, f64Load(), F64_MUL, F64_ADD, set(SC[q]!));
    e(get(I), i32(8), ADD, set(I), br(0), END, END);
    e(get(S), get(J), i32(3), SHL, ADD, get(SC[q]!), f64Store(8 * q));
  };
  const columns = (w: 1 | 2) => {
    const cs = w === 2 ? [0, 1] : [0];
    e(BLOCK, LOOP);
    e(get(J), i32(w), ADD, get(J1), GT_S, brIf(1));
    e(get(X), get(J), get(N), MUL, i32(3), SHL, ADD, set(COL[0]!));
    if (w === 2) e(get(COL[0]!), get(ENDN), ADD, set(COL[1]!));
    for (const q of cs) dot(q);
    e(get(AXPY), IF);
    for (const q of cs) e(get(SC[q]!), F64X2_SPLAT, set(T[q]!));
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(END8), GE_S, brIf(1));
    for (let k = 0; k < 4; k++) {
      const at = 16 * k;
      e(get(OUT), get(I), ADD, get(OUT), get(I), ADD, v128Load(at));
      for (const q of cs) {
        e(get(T[q]!), get(COL[q]!), get(I), ADD, v128Load(at), get(M[q]!), F64X2_SUB);
        e(F64X2_MUL, F64X2_ADD);
      }
      e(v128Store(at));
    }
    e(get(I), i32(64), ADD, set(I), br(0), END, END);
    e(BLOCK, LOOP);
    e(get(I), get(ENDN), GE_S, brIf(1));
    e(get(OUT), get(I), ADD, get(OUT), get(I), ADD, f64Load());
    for (const q of cs) {
      e(get(SC[q]!), get(COL[q]!), get(I), ADD, f64Load(), get(MS[q]!), F64_SUB, F64_MUL, F64_ADD);
    }
    e(f64Store(), get(I), i32(8), ADD, set(I), br(0), END, END);
    e(END); // if
    e(get(J), i32(w), ADD, set(J), br(0), END, END);
  };
  e(get(N), i32(-8), AND, i32(3), SHL, set(END8));
  e(get(N), i32(3), SHL, set(ENDN));
  e(get(J0), set(J));
  if (pairs) columns(2);
  columns(1);
  return body(
    [
      [6, I32],
      [8, V128],
      [4, F64],
    ],
    c,
  );
}

/**
 * stats(x, n, j0, j1, mean, sd, nf): for columns j0 ≤ j < j1 of column-major x (n rows; nf = n as
 * f64), mean_j = sum8(column) / nf and sd_j = √(sum8 of (x_ij − mean_j)² / nf), sum8 being
 * stats/simd_colsums.ts's order of additions (partial sums over i ≡ 0…7 mod 8 in the lanes of
 * four f64x2 accumulators, the tail apart, ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)) + e):
 * columnMeanSd's arithmetic. Software-pipelined: one loop takes column j's second pass (from L1)
 * and column j + 1's first, so no column waits for its own mean. Measured on the CI VM (AMD
 * EPYC, 23 Nov 2026, 200 × 2,000, µs): two passes per column with four partial sums 125, with
 * eight 109, pipelined ….
 */
function statsBody(): number[] {
  const [X, N, J0, J1, MEAN, SD, NF] = [0, 1, 2, 3, 4, 5, 6];
  const [J, COL, I, END8, ENDN, NEXT] = [7, 8, 9, 10, 11, 12];
  const [M, D] = [13, 14];
  const SQ = [15, 16, 17, 18]; // column j's squares
  const SM = [19, 20, 21, 22]; // column j + 1's sums
  const [E, MS, DS, ES] = [23, 24, 25, 26];
  const { code: c, e } = emitter();
  /** The total of four accumulators and a tail, in sum8's order, onto the stack. */
  const total = (acc: number[], tail: number) => e(sum8Total(acc), get(tail), F64_ADD);
  /** The mean of the column at NEXT (j + 1) from SM and ES: into MS, M and mean[j + 1]. */
  const storeMean = () => {
    total(SM, ES);
    e(get(NF), F64_DIV, set(MS), get(MS), F64X2_SPLAT, set(M));
    e(get(MEAN), get(J), i32(3), SHL, ADD, get(MS), f64Store(8));
  };
  /** One sweep over the rows: squares of column COL (`squares`), sums of column NEXT (`sums`). */
  const sweep = (squares: boolean, sums: boolean) => {
    if (squares) for (const acc of SQ) e(V128_ZERO, set(acc));
    if (sums) for (const acc of SM) e(V128_ZERO, set(acc));
    e(i32(0), set(I));
    e(BLOCK, LOOP);
    e(get(I), get(END8), GE_S, brIf(1));
    for (let q = 0; q < 4; q++) {
      const at = 16 * q;
      if (sums) e(get(SM[q]!), get(NEXT), get(I), ADD, v128Load(at), F64X2_ADD, set(SM[q]!));
      if (squares) {
        e(get(SQ[q]!), get(COL), get(I), ADD, v128Load(at), get(M), F64X2_SUB);
        e(tee(D), get(D), F64X2_MUL, F64X2_ADD, set(SQ[q]!));
      }
    }
    e(get(I), i32(64), ADD, set(I), br(0), END, END);
    if (squares) e(f64(0), set(E));
    if (sums) e(f64(0), set(ES));
    e(BLOCK, LOOP);
    e(get(I), get(ENDN), GE_S, brIf(1));
    if (sums) e(get(ES), get(NEXT), get(I), ADD, f64Load(), F64_ADD, set(ES));
    if (squares) {
      e(get(E), get(COL), get(I), ADD, f64Load(), get(MS), F64_SUB, tee(DS), get(DS), F64_MUL);
      e(F64_ADD, set(E));
    }
    e(get(I), i32(8), ADD, set(I), br(0), END, END);
  };
  /** sd[j] from SQ and E (before the mean of column j + 1 replaces MS). */
  const storeSd = () => {
    total(SQ, E);
    e(get(NF), F64_DIV, F64_SQRT, set(DS));
    e(get(SD), get(J), i32(3), SHL, ADD, get(DS), f64Store());
  };
  e(get(N), i32(-8), AND, i32(3), SHL, set(END8));
  e(get(N), i32(3), SHL, set(ENDN));
  e(get(J0), get(J1), GE_S, IF, RETURN, END);
  // the first column's mean, as if it were the "next" column of j0 − 1
  e(get(J0), i32(1), SUB, set(J));
  e(get(X), get(J0), get(N), MUL, i32(3), SHL, ADD, set(NEXT));
  sweep(false, true);
  storeMean();
  e(get(J0), set(J));
  e(BLOCK, LOOP);
  e(get(J), i32(1), ADD, get(J1), GE_S, brIf(1));
  e(get(NEXT), set(COL), get(COL), get(ENDN), ADD, set(NEXT));
  sweep(true, true);
  storeSd();
  storeMean();
  e(get(J), i32(1), ADD, set(J), br(0), END, END);
  // the last column's second pass alone
  e(get(NEXT), set(COL));
  sweep(true, false);
  storeSd();
  return body(
    [
      [6, I32],
      [10, V128],
      [4, F64],
    ],
    c,
  );
}
