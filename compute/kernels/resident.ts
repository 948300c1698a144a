/**
 * Datasets resident in WebAssembly memory, so that the SIMD kernels read the matrix in place.
 *
 * Why: every wasm kernel used to copy the columns it reads into its own module memory first. On a
 * fast host that copy is half of a column-sum pass (200 × 2,000: 47 of 94 µs; 500 × 20,000: 2.9 of
 * 4.2 ms, measured 23 Nov 2026 on the AMD EPYC CI VM), and numpy's `X.mean(0)` pays no copy.
 * The compute loaders (the worker's `loadDataset` in src/workers/child-io.ts, the CLI's CSV
 * reader) therefore place the matrix in a WebAssembly.Memory of its own, one per dataset:
 *
 *   [ data: n·p float64 at byte 0 | scratch: SCRATCH_BASE + 16·(n + p) bytes ]
 *
 * Not a shared memory: V8 copies out of a SharedArrayBuffer with relaxed-atomic word copies,
 * 1.75× slower than memcpy at 3.2 MB (113 vs 65 µs), which every path that still copies columns
 * would have paid. The worker-thread paths copy the matrix into a SharedArrayBuffer as before.
 *
 * Rules:
 * - The memory never grows (initial = maximum), so `data` is never detached. Its buffer cannot be
 *   transferred (postMessage copies it; nothing transfers a dataset's buffer).
 * - Only the thread that allocated the memory knows it (a per-thread WeakMap); elsewhere the
 *   array is an ordinary one and the kernels copy.
 * - The scratch region holds a kernel's inputs and outputs for the length of one synchronous
 *   call on that thread, so two kernels never see each other's scratch.
 * - Kernels never write to the data region.
 * - A subarray of a resident array is resident (its byteOffset locates it).
 *
 * The kernels' modules import an unshared memory of any size, so the module a kernel compiles for
 * its own arena is instantiated on the resident memory as it is. Their byte offsets are i32 with
 * signed compares: resident memories stay below 2 GiB. Matrices above 512 MB (RESIDENT_MAX_DATA),
 * hosts without wasm SIMD and OMICSELECTOR_NO_SIMD=1 keep plain arrays, and every kernel keeps
 * its copying path.
 */
import { type Dataset } from '../core/dataset';
import { PAGE, simdDisabled, wasm, type WasmMemory } from './wasm-asm';

/** 2 GiB in pages: the kernels' signed i32 byte offsets. */
const RESIDENT_MAX_PAGES = 32768;
/**
 * Larger matrices stay where the loader put them: making one resident holds two copies until
 * the loader's buffer is collected (a 450,000-CpG × 500 matrix is 1.8 GB), and above
 * IN_PLACE_MAX_BYTES only the moments and predictor kernels read in place anyway.
 */
const RESIDENT_MAX_DATA = 512 << 20;
/** Scratch bytes beyond the per-sample and per-feature share. */
const SCRATCH_BASE = 262144;
/**
 * Matrices up to this size are read in place by the streaming kernels (column sums, shifted
 * sums); larger ones keep their copying path. Measured on the CI VM (AMD EPYC, 23 Nov 2026,
 * column sums of the whole matrix, µs per call): 3.2 MB in place 45 vs copy + kernel 94;
 * 16 MB 362–479 vs 522–569; 32 MB 2,008 vs 1,499; 80 MB 4,204–5,123 vs 4,377. Once the
 * matrix no longer stays in the last-level cache between calls, the kernels' column-interleaved
 * reads from DRAM (two to four columns per pass) lose to memcpy's sequential stream into L2.
 */
export const IN_PLACE_MAX_BYTES = 16 << 20;

export interface Resident {
  memory: WasmMemory;
  /** Bytes of the matrix (n·p·8). */
  dataBytes: number;
  /** Float64 view of the whole memory (scratch included). */
  heap: Float64Array;
  /** Byte offset and size of the scratch region (16-byte aligned). */
  scratchByte: number;
  scratchBytes: number;
}

const homes = new WeakMap<ArrayBufferLike, Resident>();
/** Kernel instances per resident memory, keyed by the module's compile function. */
const instances = new WeakMap<
  WasmMemory,
  Map<() => object | null, Record<string, unknown> | null>
>();

/** Scratch bytes for an n × p matrix: room for two n-vectors and two p-vectors, plus a base. */
function scratchBytesFor(n: number, p: number): number {
  return SCRATCH_BASE + 16 * (n + p);
}

/**
 * A copy of column-major `data` (n × p) in its own resident memory, or null when it cannot be
 * resident (no wasm, SIMD disabled, above RESIDENT_MAX_DATA, or the memory not granted).
 */
export function residentCopy(data: Float64Array, n: number, p: number): Float64Array | null {
  if (!wasm || simdDisabled() || data.length !== n * p || n * p * 8 > RESIDENT_MAX_DATA) {
    return null;
  }
  const dataBytes = Math.ceil((n * p * 8) / 16) * 16;
  const scratchBytes = scratchBytesFor(n, p);
  const pages = Math.ceil((dataBytes + scratchBytes) / PAGE);
  if (pages > RESIDENT_MAX_PAGES - 1) return null;
  let memory: WasmMemory;
  try {
    memory = new wasm.Memory({ initial: pages, maximum: pages });
  } catch {
    return null; // address space or the embedder's limit: the plain array serves
  }
  const resident = new Float64Array(memory.buffer, 0, n * p);
  resident.set(data);
  homes.set(memory.buffer, {
    memory,
    dataBytes: n * p * 8,
    heap: new Float64Array(memory.buffer),
    scratchByte: dataBytes,
    scratchBytes: pages * PAGE - dataBytes,
  });
  return resident;
}

/** The resident memory holding `data` on this thread, or null. */
export function residentOf(data: Float64Array): Resident | null {
  return homes.get(data.buffer) ?? null;
}

/** residentOf(data) when the matrix is small enough for the streaming kernels to read in place. */
export function inPlaceOf(data: Float64Array): Resident | null {
  const home = homes.get(data.buffer);
  return home && home.dataBytes <= IN_PLACE_MAX_BYTES ? home : null;
}

/** The dataset with its matrix resident (the same object when it already is, or cannot be). */
export function residentDataset(ds: Dataset): Dataset {
  if (residentOf(ds.data)) return ds;
  const data = residentCopy(ds.data, ds.nSamples, ds.nFeatures);
  return data ? { ...ds, data } : ds;
}

/** A kernel module (lazyModule's compile function) instantiated on a resident memory, cached. */
export function residentExports(
  compile: () => object | null,
  r: Resident,
): Record<string, unknown> | null {
  let byModule = instances.get(r.memory);
  if (!byModule) instances.set(r.memory, (byModule = new Map()));
  const cached = byModule.get(compile);
  if (cached !== undefined) return cached;
  const mod = compile();
  let exports: Record<string, unknown> | null = null;
  if (mod && wasm) {
    try {
      exports = new wasm.Instance(mod, { env: { mem: r.memory } }).exports;
    } catch {
      exports = null;
    }
  }
  byModule.set(compile, exports);
  return exports;
}

/**
 * Columns [j0, j1) (at least two) in kernel calls of an even number of columns, at most maxCols
 * (even), for kernels that take two columns per pass and cannot borrow a padding column from a
 * resident matrix: an odd last column is run as the pair ending at it. `call(start, count)` runs
 * the kernel on `count` columns from `start`; `keep(skip, at, m)` then takes its outputs for
 * columns at … at + m − 1, which begin at output column `skip` (1 for that last pair, whose
 * first column was already done: each column has its own accumulators, so the same bits).
 */
export function evenColumnCalls(
  j0: number,
  j1: number,
  maxCols: number,
  call: (start: number, count: number) => void,
  keep: (skip: number, at: number, m: number) => void,
): void {
  for (let j = j0; j < j1;) {
    let m = Math.min(maxCols, j1 - j);
    if (m === 1) {
      call(j - 1, 2);
      keep(1, j, 1);
      return;
    }
    m -= m & 1;
    call(j, m);
    keep(0, j, m);
    j += m;
  }
}
