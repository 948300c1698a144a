/**
 * WebAssembly SIMD packing of the full float32 panels of simd-gemm.ts `centredScreen` (the kNN
 * screen): for every full panel of 8 samples and every feature j, the 8 values x_j[s] − c_j
 * rounded to float32 (f32x4.demote, round to nearest even, as a JavaScript Float32Array store),
 * and the squared float64 norms Σ_j (x_j[s] − c_j)², each lane one sample, features in order
 * (a multiply and an add per term, no fused multiply-add): the same bits as the JavaScript loop.
 *
 * Why: that loop cost ~50–60 CPU-ms per 500 × 20,000 kNN fit + predict (a scalar subtract,
 * float32 store and multiply-add per value), ~12 % of the call. Columns are copied by blocks into
 * a staging area of the same (shared) WebAssembly memory, which the caller lends (the product's
 * output region, unused while packing).
 *
 * A resident matrix (kernels/resident.ts, read in place) skips that staging copy: the kernel runs
 * on the dataset's own memory, reads the columns where they are and writes a block of panels into
 * its scratch region, from which they are copied into the shared memory. Half the bytes cross
 * into the SharedArrayBuffer (float32 panels instead of float64 columns), and V8 copies into one
 * at ~25 GB/s (relaxed-atomic word copies) against ~80 for an ordinary buffer. Measured on the
 * CI VM (AMD EPYC, 23 Nov 2026, the ridge screen at 200 × 2,000): staging copies 128 µs and
 * kernel 87 µs per pack, against … in place.
 */
import {
  ADD,
  V128_ZERO,
  tee,
  BLOCK,
  body,
  br,
  brIf,
  END,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_SPLAT,
  F64X2_SUB,
  f64Load,
  f64Store,
  GE_S,
  GT_S,
  get,
  I32,
  i32,
  lazyModule,
  LOOP,
  moduleBytes,
  MUL,
  set,
  SHL,
  simdDisabled,
  uleb,
  V128,
  v128Load,
  v128Store,
  wasm,
  emitter,
  sum8Total,
} from './wasm-asm';
import { inPlaceOf, residentExports, type Resident } from './resident';

const F32X4_DEMOTE_F64X2_ZERO = [0xfd, ...uleb(0x5e)];
/** v128.store64_lane: the low 8 bytes (two float32 after a demote). */
const store64Lane0 = (off: number) => [0xfd, ...uleb(0x5b), 3, ...uleb(off), 0];

type PackFn = (
  xs: number,
  n: number,
  k: number,
  cPtr: number,
  normPtr: number,
  outPtr: number,
  panelStride: number,
  full: number,
) => void;

const compiled = lazyModule(() => packModule(true));
/** For a resident matrix's own (unshared) memory. */
const compiledLocal = lazyModule(() => packModule(false));
/** One instance per memory: the screens reuse their memories, and instantiating costs µs. */
const instances = new WeakMap<object, Record<string, unknown>>();

/** Features per staged block (fewer when the staging area is small). */
const BLOCK_COLS = 64;

/**
 * Packs the full panels (samples 0 … 8·⌊n/8⌋ − 1) of (x − center) into the float32 panels at
 * byte `outByte` of `memory` (panel P at outByte + P·pp·32, feature j at + j·32), using
 * [stageByte, stageByte + stageBytes) of the same memory as scratch, and writes those samples'
 * squared norms into norms[0 … 8·⌊n/8⌋) (norms null: not computed, ~⅓ less kernel work). With
 * `squares` (and no norms), squares[j] = Σ (x_j − c_j)² over those samples, in sum8's order
 * (packsq): the second pass of the column statistics, taken while the values are in registers.
 * Returns false (nothing written) when wasm SIMD is not available, there is no full panel, or
 * the staging area is too small for 8 features.
 */
export function packFullPanels(
  memory: { readonly buffer: ArrayBuffer | SharedArrayBuffer },
  stageByte: number,
  stageBytes: number,
  outByte: number,
  x: Float64Array,
  n: number,
  p: number,
  pp: number,
  center: Float64Array,
  norms: Float64Array | null,
  squares: Float64Array | null = null,
): boolean {
  const full = Math.floor(n / 8);
  if (simdDisabled() || full === 0 || p === 0 || stageByte % 8 !== 0) return false;
  const mod = compiled();
  if (!mod || !wasm) return false;
  const sq = norms ? null : squares;
  const home = inPlaceOf(x);
  if (home && packInPlace(home, memory, outByte, x, n, p, pp, center, norms, sq)) return true;
  // stage: the norms (8 per panel), the block's centres, its squares, its columns
  let cols = BLOCK_COLS;
  while (cols >= 8 && full * 64 + cols * 16 + cols * n * 8 > stageBytes) cols >>= 1;
  if (cols < 8) return false;
  cols = Math.min(cols, p);
  let ex = instances.get(memory);
  if (!ex) {
    try {
      ex = new wasm.Instance(mod, { env: { mem: memory } }).exports;
    } catch {
      return false;
    }
    instances.set(memory, ex);
  }
  const heap = new Float64Array(memory.buffer);
  const normIdx = stageByte / 8;
  const cIdx = normIdx + full * 8;
  const sqIdx = cIdx + cols;
  const xIdx = sqIdx + cols;
  heap.fill(0, normIdx, normIdx + full * 8);
  const pack = kernelFor(ex, norms, sq);
  for (let j0 = 0; j0 < p; j0 += cols) {
    const k = Math.min(cols, p - j0);
    heap.set(x.subarray(j0 * n, (j0 + k) * n), xIdx);
    heap.set(center.subarray(j0, j0 + k), cIdx);
    const normPtr = (sq ? sqIdx : normIdx) * 8;
    pack(xIdx * 8, n, k, cIdx * 8, normPtr, outByte + j0 * 32, pp * 32, full);
    sq?.set(heap.subarray(sqIdx, sqIdx + k), j0);
  }
  norms?.set(heap.subarray(normIdx, normIdx + full * 8));
  return true;
}

/** pack (norms), packsq (squares) or pack0. */
function kernelFor(
  ex: Record<string, unknown>,
  norms: Float64Array | null,
  squares: Float64Array | null,
): PackFn {
  return (norms ? ex.pack : squares ? ex.packsq : ex.pack0) as PackFn;
}

/**
 * packFullPanels for a resident x: blocks of columns packed by the kernel on x's own memory into
 * its scratch region (panel P of the block at P · k · 32), then each panel's block copied to the
 * shared memory. False (nothing written) when the kernel or the scratch room is missing.
 */
function packInPlace(
  home: Resident,
  memory: { readonly buffer: ArrayBuffer | SharedArrayBuffer },
  outByte: number,
  x: Float64Array,
  n: number,
  p: number,
  pp: number,
  center: Float64Array,
  norms: Float64Array | null,
  squares: Float64Array | null,
): boolean {
  const full = Math.floor(n / 8);
  const ex = residentExports(compiledLocal, home);
  if (!ex) return false;
  // scratch: the norms (8 per panel), the block's centres and squares, its panels
  const normIdx = home.scratchByte / 8;
  const room = home.scratchBytes - full * 64;
  const cols = Math.min(p, Math.floor(room / (full * 32 + 16)) & ~7);
  if (cols < 8) return false;
  const cIdx = normIdx + full * 8;
  const sqIdx = cIdx + cols;
  const panelByte = (sqIdx + cols) * 8;
  const heap = home.heap;
  const f32 = new Float32Array(heap.buffer);
  const out = new Float32Array(memory.buffer);
  heap.fill(0, normIdx, normIdx + full * 8);
  const pack = kernelFor(ex, norms, squares);
  const normPtr = (squares ? sqIdx : normIdx) * 8;
  for (let j0 = 0; j0 < p; j0 += cols) {
    const k = Math.min(cols, p - j0);
    heap.set(center.subarray(j0, j0 + k), cIdx);
    pack(x.byteOffset + j0 * n * 8, n, k, cIdx * 8, normPtr, panelByte, k * 32, full);
    squares?.set(heap.subarray(sqIdx, sqIdx + k), j0);
    for (let P = 0; P < full; P++) {
      const from = panelByte / 4 + P * k * 8;
      out.set(f32.subarray(from, from + k * 8), (outByte + P * pp * 32 + j0 * 32) / 4);
    }
  }
  norms?.set(heap.subarray(normIdx, normIdx + full * 8));
  return true;
}

/**
 * pack(xs, n, k, cPtr, normPtr, outPtr, panelStride, full), pointers in bytes: k staged columns
 * (column t at xs + 8·t·n), their centres at cPtr, the running norms (8 per panel) at normPtr.
 * pack0: the same without norms (normPtr unused); packsq: pack0 that also writes each column's
 * Σ (x − c)² over the full panels at normPtr + 8t, in sum8's order (stats/simd_colsums.ts: lanes
 * over i ≡ 0…7 mod 8, tree ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))).
 */
function packModule(shared: boolean): Uint8Array {
  const fn = (name: string, mode: 'norms' | 'values' | 'squares') => ({
    name,
    params: [I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    code: body(
      [
        [6, I32],
        [14, V128],
      ],
      packCode(mode),
    ),
  });
  return moduleBytes(
    [fn('pack', 'norms'), fn('pack0', 'values'), fn('packsq', 'squares')],
    shared ? { sharedMaxPages: 65536 } : {},
  );
}

/**
 * The body of pack (`norms`), pack0 (`values` only) or packsq (`squares`). pack goes panel by
 * panel (its norms stay in registers over the columns); pack0 and packsq go column by column, reading each column as one
 * sequential stream and writing its 8-value pieces into the panels: the panel-by-panel order read
 * every column of a block 64 bytes at a time, once per panel.
 */
function packCode(mode: 'norms' | 'values' | 'squares'): number[] {
  const norms = mode === 'norms';
  const [XS, N, K, CP, NP, OUT, STRIDE, FULL] = [0, 1, 2, 3, 4, 5, 6, 7];
  // i32 locals 8 P, 9 t, 10 xp, 11 o, 12 column bytes, 13 panel norm pointer
  const [P, T, XP, O, NB, NQ] = [8, 9, 10, 11, 12, 13];
  // v128 locals 14–17 norms (samples 0–1, 2–3, 4–5, 6–7), 18 centre, 19–22 values
  const ACC = [14, 15, 16, 17];
  const C = 18;
  const V = [19, 20, 21, 22];
  // v128 locals 23 the second column's centre, 24–27 its accumulators (packsq)
  const C1 = 23;
  const ACC1 = [24, 25, 26, 27];
  const { code, e } = emitter();
  e(get(N), i32(3), SHL, set(NB)); // bytes per column
  if (mode !== 'norms') {
    // Column by column: XP the column's first value, O its slot in panel 0 (panel P at O +
    // P · stride). packsq takes two columns per pass (an odd last one alone): each column's
    // four accumulators are one add chain per panel, and one column's chains alone were
    // latency-bound.
    const sq = mode === 'squares';
    const columns = (w: 1 | 2) => {
      const cs = w === 2 ? [0, 1] : [0];
      const acc = (c: number, r: number) => (c === 0 ? ACC[r]! : ACC1[r]!);
      e(BLOCK, LOOP);
      e(get(T), i32(w), ADD, get(K), GT_S, brIf(1));
      e(get(CP), get(T), i32(8), MUL, ADD, f64Load(), F64X2_SPLAT, set(C));
      if (w === 2) e(get(CP), get(T), i32(8), MUL, ADD, f64Load(8), F64X2_SPLAT, set(C1));
      if (sq) for (const c of cs) for (let r = 0; r < 4; r++) e(V128_ZERO, set(acc(c, r)));
      e(i32(0), set(P), get(O), set(NQ));
      e(BLOCK, LOOP);
      e(get(P), get(FULL), GE_S, brIf(1));
      for (const c of cs) {
        for (let r = 0; r < 4; r++) {
          e(get(NQ), get(XP), get(P), i32(64), MUL, ADD);
          if (c === 1) e(get(NB), ADD);
          e(v128Load(16 * r), get(c === 0 ? C : C1), F64X2_SUB);
          if (sq) {
            e(tee(V[r]!), F32X4_DEMOTE_F64X2_ZERO, store64Lane0(32 * c + 8 * r));
            e(get(acc(c, r)), get(V[r]!), get(V[r]!), F64X2_MUL, F64X2_ADD, set(acc(c, r)));
          } else e(F32X4_DEMOTE_F64X2_ZERO, store64Lane0(8 * r));
        }
      }
      e(get(NQ), get(STRIDE), ADD, set(NQ));
      e(get(P), i32(1), ADD, set(P), br(0), END, END);
      if (sq) {
        // sq[t] = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)), sum8's tree (acc r: s2r, s2r+1)
        for (const c of cs) {
          const total = sum8Total([0, 1, 2, 3].map(r => acc(c, r)));
          e(get(NP), get(T), i32(8), MUL, ADD, total, f64Store(8 * c));
        }
      }
      for (let c = 0; c < w; c++) e(get(XP), get(NB), ADD, set(XP), get(O), i32(32), ADD, set(O));
      e(get(T), i32(w), ADD, set(T), br(0), END, END);
    };
    e(get(XS), set(XP), get(OUT), set(O), i32(0), set(T));
    if (sq) columns(2);
    columns(1);
    return code;
  }
  e(i32(0), set(P));
  e(BLOCK, LOOP);
  e(get(P), get(FULL), GE_S, brIf(1));
  e(get(NP), get(P), i32(64), MUL, ADD, set(NQ));
  if (norms) for (let r = 0; r < 4; r++) e(get(NQ), v128Load(16 * r), set(ACC[r]!));
  e(get(XS), get(P), i32(64), MUL, ADD, set(XP));
  e(get(OUT), get(P), get(STRIDE), MUL, ADD, set(O));
  e(i32(0), set(T));
  e(BLOCK, LOOP);
  e(get(T), get(K), GE_S, brIf(1));
  e(get(CP), get(T), i32(8), MUL, ADD, f64Load(), F64X2_SPLAT, set(C));
  for (let r = 0; r < 4; r++) {
    e(get(XP), v128Load(16 * r), get(C), F64X2_SUB, set(V[r]!));
    e(get(O), get(V[r]!), F32X4_DEMOTE_F64X2_ZERO, store64Lane0(8 * r));
    if (norms) e(get(ACC[r]!), get(V[r]!), get(V[r]!), F64X2_MUL, F64X2_ADD, set(ACC[r]!));
  }
  e(get(XP), get(NB), ADD, set(XP));
  e(get(O), i32(32), ADD, set(O));
  e(get(T), i32(1), ADD, set(T), br(0), END, END);
  if (norms) for (let r = 0; r < 4; r++) e(get(NQ), get(ACC[r]!), v128Store(16 * r));
  e(get(P), i32(1), ADD, set(P), br(0), END, END);
  return code;
}
