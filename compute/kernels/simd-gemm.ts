/**
 * Float32 cross products on packed panels with WebAssembly SIMD, for *screening* squared
 * Euclidean distances (kNN): callers bound the error with `panelDotErrorFactor` and recompute in
 * float64 whatever the bound cannot decide.
 *
 * Why not tfjs matMul: it sums each product over all p features in float32, so its rigorous error
 * bound grows with p ((p + 3)·2⁻²⁴ relative); here each product is summed in float32 over chunks
 * of `CHUNK` features only and the chunk sums are added in float64, so the bound is ~p/CHUNK times
 * tighter (≈ 0.3 instead of ≈ 50 on a squared distance of 40,000 at p = 20,000) and almost no
 * pair needs an exact recomputation. A symmetric product (queries = training rows) computes only
 * its upper panel triangle. Rows are split over worker threads that share one WebAssembly memory.
 *
 * Layout: samples in panels of 8; panel P holds, for each feature j, the 8 values of its samples
 * (x_j − center_j as float32) contiguously: P·p·8 + j·8 + lane. The micro-kernel takes 4 rows of
 * one panel (A side, scalar splats) against the 8 samples of another (B side, two f32x4 loads):
 * 8 accumulators, 16 multiply-adds per feature from 6 loads.
 */
import { checkAbort } from '../core/method';
import { defaultThreads, runWithCaller } from '../core/parallel';
import {
  ADD,
  BLOCK,
  body,
  br,
  brIf,
  END,
  F64X2_ADD,
  GE_U,
  get,
  I32,
  i32,
  LOOP,
  LT_U,
  moduleBytes,
  MUL,
  set,
  uleb,
  V128,
  V128_ZERO,
  emitter,
  F32X4_ADD,
  F32X4_MUL,
  load32Splat as splat32,
  simdOp as simd,
  v128LoadA16 as load,
  v128StoreA16 as store,
  compileModule,
} from './wasm-asm';
import { packFullPanels } from './simd-pack';

// TypeScript's WebAssembly typings come with lib.dom, which this project does not load.
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Features summed in float32 before a float64 accumulation (the error bound scales with it). */
export const CHUNK = 128;
/** Multiply-adds from which the product is split over worker threads. */
const THREAD_WORK = 3e8;
/**
 * The same for the screened Grams of the ridge and logistic mixed-precision solves (n²p/2). Since
 * the calling thread takes part and the threads claim row groups from a shared counter
 * (runPanels), a busy second core costs little: ridge fit + predict at 200 × 2,000 (4·10⁷),
 * median of 250 calls on the AMD EPYC VM, 23 Nov 2026: 3.2 ms on one thread, 2.5 ms on two;
 * with the other core running a busy loop, 3.3 vs 3.4 ms. (With the older split — every share on
 * a worker, the caller waiting — two threads had cost 25–40 % on the loaded VM, hence 10⁸ then.)
 */
export const SCREEN_THREAD_WORK = 1e7;
const PANEL = 8;

type PanelFn = (
  aPtr: number,
  bPtr: number,
  bStride: number,
  nB: number,
  k: number,
  cPtr: number,
  ldc: number,
) => void;

let compiledModule: object | null | undefined;
let kernelKind: 'fma' | 'mul-add' | null = null;

function tryModule(fma: boolean): object | null {
  try {
    const mod = compileModule(panelModule(fma));
    // Smoke test: shared memories and SIMD must both work.
    const mem = new wasm!.Memory({ initial: 1, maximum: 1, shared: true });
    new wasm!.Instance(mod, { env: { mem } });
    return mod;
  } catch {
    return null;
  }
}

/**
 * The fused multiply-add kernel (relaxed SIMD f32x4.relaxed_madd: vfmadd on x64 — ~1.5× the
 * separate multiply and add) where the runtime has it: standard from V8 11.4, behind
 * --experimental-wasm-relaxed-simd in Node 20's V8 11.3, which we then switch on (it only adds
 * the opcodes). FMA or not changes rounding only within `panelDotErrorFactor`.
 */
function compiled(): object | null {
  if (compiledModule !== undefined) return compiledModule;
  if (!wasm || process.env.OMICSELECTOR_NO_SIMD === '1') return (compiledModule = null);
  let mod: object | null = null;
  if (process.env.OMICSELECTOR_NO_FMA !== '1') {
    mod = tryModule(true);
    if (!mod) {
      try {
        (require('node:v8') as typeof import('node:v8')).setFlagsFromString(
          '--experimental-wasm-relaxed-simd',
        );
        mod = tryModule(true);
      } catch {
        mod = null;
      }
    }
  }
  if (mod) kernelKind = 'fma';
  else if ((mod = tryModule(false))) kernelKind = 'mul-add';
  return (compiledModule = mod);
}

/** Which panel kernel runs here: 'fma', 'mul-add', or null (no WebAssembly SIMD). */
export function panelKernel(): 'fma' | 'mul-add' | null {
  compiled();
  return kernelKind;
}

/** True when the SIMD panel kernel can run here. */
export function simdGemmAvailable(): boolean {
  return compiled() !== null;
}

/**
 * |computed − exact| ≤ factor · ‖x‖‖y‖ for the centred dot products of `centredScreen`: inputs
 * rounded to float32 (2u), float32 products summed over ≤ CHUNK terms (γ_{CHUNK+1}), chunk sums
 * added in float64 (γ_c with c = ⌈p/CHUNK⌉, u = 2⁻⁵³) — with Σ|x_j y_j| ≤ ‖x‖‖y‖.
 */
export function panelDotErrorFactor(p: number): number {
  const chunks = Math.ceil(p / CHUNK);
  return (CHUNK + 3) * 2 ** -24 * 1.02 + (chunks + 2) * 2 ** -53 * 1.05;
}

export interface ScreenResult {
  /** Row-major products, row a at a · ld: (x_a − c)·(y_i − c) for i < ny. */
  dots: Float64Array;
  ld: number;
  /** Squared norms of the centred float64 rows. */
  xNorms: Float64Array;
  yNorms: Float64Array;
}

export interface PanelTask {
  memory: WasmMemory;
  /** Byte offsets: A panels, B panels, C (row-major f64, ldc bytes per row). */
  aBase: number;
  bBase: number;
  cBase: number;
  ldc: number;
  p: number;
  /** Panels on the B side. */
  nB: number;
  /** Blocks of 4 rows of A this task computes: [h0, h1). */
  h0: number;
  h1: number;
  /** Symmetric (A = B): only B panels from the A block's own panel on. */
  upper: boolean;
  /** Float64 panels of 4 (f64Panel) instead of float32 panels of 8. */
  f64?: boolean;
  /** f64 only: fused multiply-adds (f64PanelFma) where the runtime has them. */
  fused?: boolean;
  /**
   * Zero this task's C rows (from the first computed column) before accumulating: a reused
   * output band is cleared by the threads that fill it.
   */
  zeroFirst?: boolean;
  /**
   * Shared claims (runWithCaller): [h0, h1) is then split into groups of `group` row blocks that
   * each copy of the task takes in turn with Atomics.add on claims[0], until none is left.
   */
  claims?: Int32Array;
  group?: number;
}

/**
 * Runs one row range of the panel product (exported for worker threads), or with `claims` the
 * groups of it this copy claims. Each group is one panelRange: its rows are written by one thread
 * only, and reuse a B chunk over `group` row blocks.
 */
export function panelBlock(task: PanelTask): number {
  const { claims, group } = task;
  if (!claims || !group) return panelRange(task);
  let done = 0;
  for (;;) {
    const h0 = task.h0 + Atomics.add(claims, 0, 1) * group;
    if (h0 >= task.h1) return done;
    done += panelRange({ ...task, h0, h1: Math.min(task.h1, h0 + group) });
  }
}

function panelRange(task: PanelTask): number {
  const mod = compiled();
  if (!mod || !wasm) throw new Error('WebAssembly SIMD is not available');
  const inst = new wasm.Instance(mod, { env: { mem: task.memory } });
  const { aBase, bBase, cBase, ldc, p, nB, h0, h1, upper, f64 } = task;
  const name = !f64 ? 'f32Panel' : task.fused && kernelKind === 'fma' ? 'f64PanelFma' : 'f64Panel';
  const fn = inst.exports[name] as PanelFn;
  // Blocks of 4 rows: half an f32 panel (8 lanes) or a whole f64 panel (4 lanes).
  const perPanel = f64 ? 1 : 2;
  const colBytes = f64 ? 32 : 64;
  const pp = padded(p);
  const stride = pp * 32;
  if (task.zeroFirst) {
    const c = new Float64Array(task.memory.buffer);
    for (let h = h0; h < h1; h++) {
      const first = upper ? Math.floor(h / perPanel) : 0;
      for (let r = 0; r < 4; r++) {
        const at = (cBase + (h * 4 + r) * ldc) / 8 + (first * colBytes) / 8;
        c.fill(0, at, at + ((nB - first) * colBytes) / 8);
      }
    }
  }
  for (let j0 = 0; j0 < pp; j0 += CHUNK) {
    const k = Math.min(CHUNK, pp - j0);
    for (let h = h0; h < h1; h++) {
      const panel = Math.floor(h / perPanel);
      const first = upper ? panel : 0;
      if (first >= nB) continue;
      fn(
        aBase + panel * stride + j0 * 32 + (h % perPanel) * 16,
        bBase + first * stride + j0 * 32,
        stride,
        nB - first,
        k,
        cBase + h * 4 * ldc + first * colBytes,
        ldc,
      );
    }
  }
  return h1 - h0;
}

/** Features rounded up to even (the packers write feature pairs; the kernel takes any k). */
const padded = (p: number): number => p + (p & 1);

let spare: WasmMemory | null = null;

/** Largest memory kept for the next call (larger ones are left to the garbage collector). */
const KEEP_BYTES = 2 ** 28;

function release(memory: WasmMemory): void {
  if (memory.buffer.byteLength <= KEEP_BYTES) spare = memory;
}

/** Largest arena (bytes): i32 byte offsets must stay below 2³¹. */
const MAX_BYTES = 2 ** 31 - 65536;

function acquire(bytes: number): WasmMemory | null {
  if (bytes > MAX_BYTES) return null;
  const pages = Math.ceil(bytes / 65536);
  if (spare && spare.buffer.byteLength >= pages * 65536) {
    const m = spare;
    spare = null;
    return m;
  }
  try {
    return new wasm!.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null; // out of (virtual) memory: the caller's float64 path runs
  }
}

/**
 * Packs (x − center) of column-major x (n × p) into panels at `off` (float32 index; features
 * padded to `pp` with zeros); returns the centred float64 squared norms, each summed over j in
 * order. Blocks of 16 features: 16 columns' cache lines are read whole while panels are written.
 * `stage` (a free byte range of the memory under f32): the full panels by the wasm SIMD kernel of
 * simd-pack.ts (the same bits), only the last, partial panel here. `squares` (without norms):
 * squares.values[j] = Σ_s (x_js − c_j)² in stats/simd_colsums.ts sum8's order — the SIMD kernel's
 * full-panel total plus the partial panel's samples summed in order — and `filled` set, when the
 * SIMD kernel packed (else untouched).
 */
function pack(
  f32: Float32Array,
  off: number,
  x: Float64Array,
  n: number,
  p: number,
  pp: number,
  center: Float64Array,
  stage?: { memory: WasmMemory; byte: number; bytes: number },
  /** False: the SIMD packer skips the full panels' norms (their entries are then not set). */
  withNorms = true,
  squares?: SquaresOut,
): Float64Array {
  const norms = new Float64Array(n);
  const nP = Math.ceil(n / PANEL);
  const simd =
    stage !== undefined &&
    packFullPanels(
      stage.memory,
      stage.byte,
      stage.bytes,
      off * 4,
      x,
      n,
      p,
      pp,
      center,
      withNorms ? norms : null,
      withNorms ? null : (squares?.values ?? null),
    );
  const sq = simd && !withNorms && squares ? squares.values : null;
  if (sq) squares!.filled = true;
  const full = simd ? 0 : Math.floor(n / PANEL);
  const first = Math.floor(n / PANEL);
  for (let j0 = 0; j0 < p; j0 += 16) {
    const j1 = Math.min(p, j0 + 16);
    for (let P = 0; P < full; P++) {
      const s0 = P * PANEL;
      let o = off + P * pp * PANEL + j0 * PANEL;
      let n0 = norms[s0]!,
        n1 = norms[s0 + 1]!,
        n2 = norms[s0 + 2]!,
        n3 = norms[s0 + 3]!,
        n4 = norms[s0 + 4]!,
        n5 = norms[s0 + 5]!,
        n6 = norms[s0 + 6]!,
        n7 = norms[s0 + 7]!;
      for (let j = j0; j < j1; j++, o += PANEL) {
        const c = center[j]!;
        const i = j * n + s0;
        const v0 = x[i]! - c;
        const v1 = x[i + 1]! - c;
        const v2 = x[i + 2]! - c;
        const v3 = x[i + 3]! - c;
        const v4 = x[i + 4]! - c;
        const v5 = x[i + 5]! - c;
        const v6 = x[i + 6]! - c;
        const v7 = x[i + 7]! - c;
        f32[o] = v0;
        f32[o + 1] = v1;
        f32[o + 2] = v2;
        f32[o + 3] = v3;
        f32[o + 4] = v4;
        f32[o + 5] = v5;
        f32[o + 6] = v6;
        f32[o + 7] = v7;
        n0 += v0 * v0;
        n1 += v1 * v1;
        n2 += v2 * v2;
        n3 += v3 * v3;
        n4 += v4 * v4;
        n5 += v5 * v5;
        n6 += v6 * v6;
        n7 += v7 * v7;
      }
      norms[s0] = n0;
      norms[s0 + 1] = n1;
      norms[s0 + 2] = n2;
      norms[s0 + 3] = n3;
      norms[s0 + 4] = n4;
      norms[s0 + 5] = n5;
      norms[s0 + 6] = n6;
      norms[s0 + 7] = n7;
    }
    // The last, partial panel: its missing lanes stay 0 (fresh or zero-filled memory).
    for (let P = first; P < nP; P++) {
      const s0 = P * PANEL;
      for (let j = j0; j < j1; j++) {
        const o = off + P * pp * PANEL + j * PANEL;
        let e = 0; // the partial panel's squares, in order (sum8's tail)
        for (let l = 0; l < PANEL; l++) {
          if (s0 + l >= n) {
            f32[o + l] = 0;
            continue;
          }
          const v = x[j * n + s0 + l]! - center[j]!;
          f32[o + l] = v;
          norms[s0 + l] += v * v;
          e += v * v;
        }
        if (sq) sq[j] = sq[j]! + e;
      }
    }
  }
  // Padding features (pp > p) are zero on every panel: they add exact zeros.
  for (let P = 0; P < nP; P++) f32.fill(0, off + (P * pp + p) * PANEL, off + (P + 1) * pp * PANEL);
  return norms;
}

/** Runs `blocks` row blocks of a panel product, on worker threads when the work is large. */
async function runPanels(
  base: Omit<PanelTask, 'h0' | 'h1'>,
  blocks: number,
  work: number,
  opts: { threads?: number; signal?: AbortSignal; minThreadWork?: number },
  /** First row block (the range is [hStart, hStart + blocks)). */
  hStart = 0,
): Promise<void> {
  const threads =
    work < (opts.minThreadWork ?? THREAD_WORK)
      ? 1
      : Math.max(1, Math.min(opts.threads ?? defaultThreads(), blocks));
  const hEnd = hStart + blocks;
  if (threads === 1) {
    panelBlock({ ...base, h0: hStart, h1: hEnd });
    return;
  }
  // The calling thread and threads − 1 workers claim groups of row blocks from a shared counter:
  // no thread waits on another's share, and a core busy with other work simply claims fewer.
  // About 4 groups per thread, so that the last claims even out; each group reuses a B chunk
  // over its row blocks.
  const group = Math.max(1, Math.ceil(blocks / (4 * threads)));
  const task: PanelTask = {
    ...base,
    h0: hStart,
    h1: hEnd,
    claims: new Int32Array(new SharedArrayBuffer(4)),
    group,
  };
  checkAbort(opts.signal);
  await runWithCaller(__filename, 'panelBlock', task, threads, panelBlock);
}

/** Options of the float64 cross products. */
export interface F64Options {
  /** Fused multiply-adds where the runtime has them (not for SVC: see panelModule). */
  fused?: boolean;
  /** Products of x_j − center_j (both operands), without a centred copy of the data. */
  center?: Float64Array;
}

/**
 * Packs column-major float64 x (n × p), minus center_j when given, into float64 panels of 4 at
 * `off` (float64 index).
 */
function packF64(
  f: Float64Array,
  off: number,
  x: Float64Array,
  n: number,
  p: number,
  pp: number,
  center?: Float64Array,
): void {
  const nP = Math.ceil(n / 4);
  const full = Math.floor(n / 4);
  for (let j0 = 0; j0 < p; j0 += 16) {
    const j1 = Math.min(p, j0 + 16);
    for (let P = 0; P < full; P++) {
      const s0 = P * 4;
      let o = off + P * pp * 4 + j0 * 4;
      for (let j = j0; j < j1; j++, o += 4) {
        const i = j * n + s0;
        const c = center ? center[j]! : 0;
        f[o] = x[i]! - c;
        f[o + 1] = x[i + 1]! - c;
        f[o + 2] = x[i + 2]! - c;
        f[o + 3] = x[i + 3]! - c;
      }
    }
    for (let P = full; P < nP; P++) {
      const s0 = P * 4;
      for (let j = j0; j < j1; j++) {
        const o = off + P * pp * 4 + j * 4;
        const c = center ? center[j]! : 0;
        for (let l = 0; l < 4; l++) f[o + l] = s0 + l < n ? x[j * n + s0 + l]! - c : 0;
      }
    }
  }
  for (let P = 0; P < nP; P++) f.fill(0, off + (P * pp + p) * 4, off + (P + 1) * pp * 4);
}

/**
 * Float64 cross products C[a][b] = Σ_j x_ja · y_jb (row-major nx × ny) of column-major x and y
 * with the SIMD panel kernel (two-lane f64 multiplies and adds, or with `fused` FMA where the
 * runtime has it: each entry is the dot product summed in feature chunks, to float64 rounding). `y === x` (nx = ny) computes the
 * upper panel triangle and mirrors it, so C is exactly symmetric. Null without WebAssembly SIMD
 * or when the operands do not fit one 2 GB WebAssembly memory. The same entries with or without
 * threads, and from `crossF64Sync`.
 */
export async function crossF64(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  opts: F64Options & { threads?: number; signal?: AbortSignal; minThreadWork?: number } = {},
): Promise<Float64Array | null> {
  const job = prepareF64(x, nx, y, ny, p, opts);
  if (!job) return null;
  try {
    await runPanels(job.task, job.blocks, job.work, opts);
    return job.result();
  } finally {
    release(job.task.memory);
  }
}

/** crossF64 on the calling thread. */
export function crossF64Sync(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  opts: F64Options = {},
): Float64Array | null {
  const job = prepareF64(x, nx, y, ny, p, opts);
  if (!job) return null;
  try {
    panelBlock({ ...job.task, h0: 0, h1: job.blocks });
    return job.result();
  } finally {
    release(job.task.memory);
  }
}

function prepareF64(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  { fused = false, center }: F64Options,
): {
  task: Omit<PanelTask, 'h0' | 'h1'>;
  blocks: number;
  work: number;
  result: () => Float64Array;
} | null {
  if (!simdGemmAvailable() || p === 0 || nx === 0 || ny === 0) return null;
  const symmetric = x === y && nx === ny;
  const nPA = Math.ceil(nx / 4);
  const nPB = Math.ceil(ny / 4);
  const ldN = nPB * 4;
  const pp = padded(p);
  const aBytes = nPA * pp * 32;
  const bBytes = symmetric ? 0 : nPB * pp * 32;
  const cBytes = nPA * 4 * ldN * 8;
  const memory = acquire(aBytes + bBytes + cBytes);
  if (!memory) return null;
  const f = new Float64Array(memory.buffer);
  packF64(f, 0, x, nx, p, pp, center);
  if (!symmetric) packF64(f, aBytes / 8, y, ny, p, pp, center);
  const cBase = aBytes + bBytes;
  const c = new Float64Array(memory.buffer, cBase, nPA * 4 * ldN);
  c.fill(0);
  const task = {
    memory,
    aBase: 0,
    bBase: symmetric ? 0 : aBytes,
    cBase,
    ldc: ldN * 8,
    p,
    nB: nPB,
    upper: symmetric,
    f64: true,
    fused,
  };
  const result = (): Float64Array => {
    const out = new Float64Array(nx * ny);
    for (let a = 0; a < nx; a++) {
      out.set(c.subarray(a * ldN, a * ldN + ny), a * ny);
      if (symmetric) {
        // Row a computed columns from its own panel on; the rest is the transpose.
        const first = a - (a % 4);
        for (let i = 0; i < first; i++) out[a * ny + i] = out[i * ny + a]!;
      }
    }
    return out;
  };
  return { task, blocks: nPA, work: (symmetric ? 0.5 : 1) * nx * ny * p, result };
}

interface ScreenOptions {
  threads?: number;
  signal?: AbortSignal;
  minThreadWork?: number;
}

/**
 * The column statistics' second pass, taken by the packing (see pack): values[j] = Σ_s (x_js −
 * c_j)² for the centre c, in stats/simd_colsums.ts sum8's order; `filled` says it was taken.
 */
export interface SquaresOut {
  values: Float64Array;
  filled: boolean;
}

/**
 * Products of the centred samples of column-major x (nx × p) and y (ny × p), screened in float32
 * (error ≤ panelDotErrorFactor(p)·‖x_a − c‖‖y_i − c‖). `y === x` (same array, nx = ny) computes
 * the upper panel triangle once and mirrors it (the mirrored entries are the same sums).
 * Returns null when WebAssembly SIMD is unavailable.
 */
export async function centredScreen(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  center: Float64Array,
  opts: ScreenOptions & {
    /**
     * Where to write the products (nx · ny, ld = ny) instead of a fresh padded array: callers
     * that want the plain nx × ny matrix skip a copy of it. Called once the product is done.
     */
    into?: () => Float64Array;
  } = {},
): Promise<ScreenResult | null> {
  const product = await screenProduct(x, nx, y, ny, p, center, opts);
  if (!product) return null;
  try {
    const { c, ldN, symmetric, xNorms, yNorms } = product;
    const ld = opts.into ? ny : ldN;
    const dots = opts.into?.() ?? new Float64Array(nx * ldN);
    if (ld === ldN) dots.set(c.subarray(0, nx * ldN));
    else for (let a = 0; a < nx; a++) dots.set(c.subarray(a * ldN, a * ldN + ny), a * ld);
    if (symmetric) {
      // Row a computed columns from its own panel on; the rest is the transpose.
      for (let a = 0; a < nx; a++) {
        const first = a - (a % PANEL);
        for (let i = 0; i < first; i++) dots[a * ld + i] = dots[i * ld + a]!;
      }
    }
    return { dots, ld, xNorms, yNorms };
  } finally {
    product.release();
  }
}

/**
 * centredScreen's symmetric product (x with itself) left in WebAssembly memory, neither mirrored
 * nor copied: row a of `c` (at a · ld) holds x_a · x_t for t ≥ a − a % 8, so the upper triangle
 * (t ≥ a) is complete. For callers that read the upper triangle once (the ridge dual's
 * Cholesky): at 200 × 200 the mirror and two copies of the n × n matrix cost ~0.2 ms, a tenth
 * of the fit. Call release() when done; null without WebAssembly SIMD.
 */
export async function centredGramUpper(
  x: Float64Array,
  n: number,
  p: number,
  center: Float64Array,
  opts: ScreenOptions & { squares?: SquaresOut } = {},
): Promise<{ c: Float64Array; ld: number; release(): void } | null> {
  // no row norms: the callers of the plain Gram do not use them (~⅓ less packing work)
  const product = await screenProduct(x, n, x, n, p, center, opts, false, opts.squares);
  return product && { c: product.c, ld: product.ldN, release: product.release };
}

/** Packs, multiplies on the panel kernel (threads from opts.minThreadWork), leaves C in memory. */
async function screenProduct(
  x: Float64Array,
  nx: number,
  y: Float64Array,
  ny: number,
  p: number,
  center: Float64Array,
  opts: ScreenOptions,
  withNorms = true,
  squares?: SquaresOut,
): Promise<{
  c: Float64Array;
  ldN: number;
  symmetric: boolean;
  xNorms: Float64Array;
  yNorms: Float64Array;
  release(): void;
} | null> {
  if (!simdGemmAvailable() || p === 0) return null;
  const symmetric = x === y && nx === ny;
  const nPA = Math.ceil(nx / PANEL);
  const nPB = Math.ceil(ny / PANEL);
  const ldN = nPB * PANEL;
  const pp = padded(p);
  const aBytes = nPA * pp * PANEL * 4;
  const bBytes = symmetric ? 0 : nPB * pp * PANEL * 4;
  const cBytes = nPA * PANEL * ldN * 8;
  const memory = acquire(aBytes + bBytes + cBytes);
  if (!memory) return null;
  try {
    const f32 = new Float32Array(memory.buffer);
    const cBase = aBytes + bBytes;
    // The product's output region is free while packing: the SIMD packer's staging area.
    const stage = { memory, byte: cBase, bytes: cBytes };
    const xNorms = pack(f32, 0, x, nx, p, pp, center, stage, withNorms, squares);
    const yNorms = symmetric
      ? xNorms
      : pack(f32, aBytes / 4, y, ny, p, pp, center, stage, withNorms);
    const c = new Float64Array(memory.buffer, cBase, nPA * PANEL * ldN);
    // Each row block zeroes the part of C it computes (zeroFirst), on the thread that claims it:
    // filling all of C here took ~12 µs at 200 × 200 (V8 fills a SharedArrayBuffer slowly).
    await runPanels(
      {
        memory,
        aBase: 0,
        bBase: symmetric ? 0 : aBytes,
        cBase,
        ldc: ldN * 8,
        p,
        nB: nPB,
        upper: symmetric,
        zeroFirst: true,
      },
      nPA * 2,
      (symmetric ? 0.5 : 1) * nx * ny * p,
      opts,
    );
    return { c, ldN, symmetric, xNorms, yNorms, release: () => release(memory) };
  } catch (err) {
    release(memory);
    throw err;
  }
}

/** The upper panel triangle of a float32-screened Gram left in WebAssembly memory. */
export interface GramUpper {
  /**
   * Row a at a · ld (GramBands: row r of the current band at (r − r0) · ld): x_a · x_t for
   * t ≥ a − a % 8 (earlier entries are not computed).
   */
  c: Float64Array;
  ld: number;
  /** Squared float64 norms of the rows. */
  norms: Float64Array;
  /** The WebAssembly memory holding c (for kernels that scan it in place). */
  memory: object;
  /** Byte offset of c, and of the `extraBytes` (8-byte aligned) reserved after it for the caller. */
  cBase: number;
  extraBase: number;
  /** Hands the memory back (c must not be read afterwards). */
  release(): void;
}

/**
 * The Gram products x_a · x_t of column-major x (nx × p) for t ≥ a − a % 8, on the calling thread,
 * with the same float32 panel kernel and error bound as `centredScreen` (center 0): |computed −
 * exact| ≤ panelDotErrorFactor(p)·‖x_a‖‖x_t‖. Unlike centredScreen it neither mirrors nor copies
 * the nx² product out of WebAssembly memory (at nx = 2,000 each of those cost about as much as
 * the 100 M-multiply-add product itself): callers that scan the upper triangle once read it in
 * place and then call release(). Null when WebAssembly SIMD is unavailable or it does not fit.
 */
export function gramUpperF32(
  x: Float64Array,
  nx: number,
  p: number,
  extraBytes = 0,
): GramUpper | null {
  if (!simdGemmAvailable() || p === 0 || nx === 0) return null;
  const nP = Math.ceil(nx / PANEL);
  const ld = nP * PANEL;
  const pp = padded(p);
  const aBytes = nP * pp * PANEL * 4;
  const extraBase = aBytes + nP * PANEL * ld * 8;
  const memory = acquire(extraBase + extraBytes);
  if (!memory) return null;
  const norms = pack(new Float32Array(memory.buffer), 0, x, nx, p, pp, new Float64Array(p));
  const c = new Float64Array(memory.buffer, aBytes, nP * PANEL * ld);
  c.fill(0);
  const task = { memory, aBase: 0, bBase: 0, cBase: aBytes, ldc: ld * 8, p, nB: nP, upper: true };
  panelBlock({ ...task, h0: 0, h1: nP * 2 });
  return { c, ld, norms, memory, cBase: aBytes, extraBase, release: () => release(memory) };
}

/** Row bands of a float32-screened Gram (see gramBandsF32). */
export interface GramBands extends GramUpper {
  /** Rows a band holds (a multiple of 8). */
  maxRows: number;
  /**
   * Computes rows [r0, r0 + rows) (r0 a multiple of 8, rows ≤ maxRows), each against the columns
   * from its own panel on, on worker threads when the band is large; c is overwritten.
   */
  band(
    r0: number,
    rows: number,
    opts?: { threads?: number; signal?: AbortSignal; minThreadWork?: number },
  ): Promise<void>;
}

/**
 * gramUpperF32 band by band, for Grams too large to hold (p² float64) or to compute in one
 * synchronous call: the rows of x are packed once, each band of up to `maxRows` rows is computed
 * (same kernel, same sums and error bound as gramUpperF32) into one reused band of C and scanned
 * by the caller before the next. Null when WebAssembly SIMD is unavailable or it does not fit.
 */
export function gramBandsF32(
  x: Float64Array,
  nx: number,
  p: number,
  maxRows: number,
  extraBytes = 0,
): GramBands | null {
  if (!simdGemmAvailable() || p === 0 || nx === 0) return null;
  const nP = Math.ceil(nx / PANEL);
  const ld = nP * PANEL;
  const rowsCap = Math.min(ld, Math.ceil(maxRows / PANEL) * PANEL);
  const pp = padded(p);
  const aBytes = nP * pp * PANEL * 4;
  const cBytes = rowsCap * ld * 8;
  const extraBase = aBytes + cBytes;
  const memory = acquire(extraBase + extraBytes);
  if (!memory) return null;
  const norms = pack(new Float32Array(memory.buffer), 0, x, nx, p, pp, new Float64Array(p));
  const c = new Float64Array(memory.buffer, aBytes, rowsCap * ld);
  const base = { memory, aBase: 0, bBase: 0, ldc: ld * 8, p, nB: nP, upper: true, zeroFirst: true };
  return {
    c,
    ld,
    norms,
    memory,
    cBase: aBytes,
    extraBase,
    maxRows: rowsCap,
    async band(r0, rows, opts = {}) {
      if (r0 % PANEL !== 0 || rows > rowsCap) throw new Error('gramBandsF32: bad band');
      const h0 = r0 / 4;
      const blocks = Math.ceil(Math.min(rows, ld - r0) / 4);
      // h-th row block lands at row h·4 − r0 of the band
      const cBase = aBytes - r0 * ld * 8;
      const work = rows * (nx - r0) * p;
      await runPanels({ ...base, cBase }, blocks, work, opts, h0);
    },
    release: () => release(memory),
  };
}

// --- kernels (assembled with wasm-asm.ts; the SIMD ops below are this file's own) ---------------

const PROMOTE_LOW = simd(0x5f);
/** Lanes 2, 3 of an f32x4 moved to lanes 0, 1. */
const HIGH_HALF = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);

/**
 * f32Panel(aPtr, bPtr, bStride, nB, k, cPtr, ldc): for t < nB panels of B (bPtr + t·bStride),
 * C[r][t·8 + l] (f64 at cPtr + r·ldc + t·64 + 8l) += Σ_{j<k} A[j·8 + r]·B_t[j·8 + l] for the 4
 * rows r at aPtr (stride 32 bytes per feature), each sum in float32, one feature per loop
 * step. `fma`: relaxed_madd instead of f32x4.mul + f32x4.add.
 */
function panelFunction(fma: boolean, f64: boolean): number[] {
  const [A, B, BS, NB, K, C, LDC] = [0, 1, 2, 3, 4, 5, 6];
  const [T, PA, PB, END_, BROW, CROW, ADDR] = [7, 8, 9, 10, 11, 12, 13];
  const ACC = [14, 15, 16, 17, 18, 19, 20, 21];
  const [B0, B1, S] = [22, 23, 24];
  // f32: lanes of 4 bytes, 8 per panel; f64: 8 bytes, 4 per panel — 32 bytes per feature either way.
  const width = f64 ? 8 : 4;
  const splat = (off: number) => (f64 ? simd(0x0a, 3, ...uleb(off)) : splat32(off));
  const MULV = f64 ? simd(0xf2) : F32X4_MUL;
  const ADDV = f64 ? F64X2_ADD : F32X4_ADD;
  const MADD = simd(f64 ? 0x107 : 0x105);
  const { code: b, e } = emitter();
  e(get(B), set(BROW), get(C), set(CROW), i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(NB), GE_U, brIf(1));
  for (const a of ACC) e(V128_ZERO, set(a));
  e(get(A), set(PA), get(BROW), set(PB), get(A), get(K), i32(32), MUL, ADD, set(END_));
  e(LOOP);
  // One feature per loop step. With two, TurboFan hoisted both steps' loads and, out of x64's 16
  // xmm registers, spilled two of the eight accumulators to the stack (seen with
  // --print-wasm-code): 500 × 20,000 products 24–28 % slower. The sums are the same either way.
  e(get(PB), load(0), set(B0), get(PB), load(16), set(B1));
  for (let r = 0; r < 4; r++) {
    e(get(PA), splat(width * r), set(S));
    if (fma) {
      e(get(S), get(B0), get(ACC[2 * r]!), MADD, set(ACC[2 * r]!));
      e(get(S), get(B1), get(ACC[2 * r + 1]!), MADD, set(ACC[2 * r + 1]!));
    } else {
      e(get(ACC[2 * r]!), get(S), get(B0), MULV, ADDV, set(ACC[2 * r]!));
      e(get(ACC[2 * r + 1]!), get(S), get(B1), MULV, ADDV, set(ACC[2 * r + 1]!));
    }
  }
  e(get(PA), i32(32), ADD, set(PA), get(PB), i32(32), ADD, set(PB));
  e(get(PA), get(END_), LT_U, brIf(0));
  e(END);
  // Flush the accumulators into C (f64): an f32x4 into four entries, an f64x2 into two.
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) {
      const acc = ACC[2 * r + h]!;
      e(get(CROW), get(LDC), i32(r), MUL, ADD, i32(h * (f64 ? 16 : 32)), ADD, set(ADDR));
      if (f64) {
        e(get(ADDR), get(ADDR), load(0), get(acc), F64X2_ADD, store(0));
        continue;
      }
      e(get(ADDR), get(ADDR), load(0), get(acc), PROMOTE_LOW, F64X2_ADD, store(0));
      e(get(ADDR), get(ADDR), load(16), get(acc), get(acc), HIGH_HALF, PROMOTE_LOW, F64X2_ADD);
      e(store(16));
    }
  }
  e(get(BROW), get(BS), ADD, set(BROW), get(CROW), i32(f64 ? 32 : 64), ADD, set(CROW));
  e(get(T), i32(1), ADD, set(T), br(0));
  e(END, END);
  return body(
    [
      [7, I32],
      [11, V128],
    ],
    b,
  );
}

/**
 * f32Panel(aPtr, bPtr, bStride, nB, k, cPtr, ldc): for t < nB panels of B (bPtr + t·bStride),
 * C[r][t·8 + l] (f64 at cPtr + r·ldc + t·64 + 8l) += Σ_{j<k} A[j·8 + r]·B_t[j·8 + l] for the 4
 * rows r at aPtr (stride 32 bytes per feature), each sum in float32, one feature per loop
 * step. f64Panel: the same on float64 panels of 4 (C column offset t·32). `fma`: f32Panel
 * with relaxed_madd instead of a multiply and an add; f64Panel always multiplies and adds (a
 * fused sum rounds differently from libsvm's, and SVC's SMO path follows those last bits), and
 * f64PanelFma fuses them (in the fma module; elsewhere it is f64Panel again) for callers that ask
 * (`fused`): ~10–25 % faster at 500 × 20,000 and a rounding error no larger.
 */
function panelModule(fma: boolean): Uint8Array {
  const params = [I32, I32, I32, I32, I32, I32, I32];
  // Imported memory: shared (worker threads run on it), limits 1 … 65536 pages.
  return moduleBytes(
    [
      { name: 'f32Panel', params, results: [], code: panelFunction(fma, false) },
      { name: 'f64Panel', params, results: [], code: panelFunction(false, true) },
      { name: 'f64PanelFma', params, results: [], code: panelFunction(fma, true) },
    ],
    { sharedMaxPages: 65536 },
  );
}
