/**
 * A minimal WebAssembly assembler for the small hand-written SIMD kernels in compute/ (no
 * toolchain, no binary blob): opcode helpers, one-memory module wrapper, and the runtime's
 * WebAssembly API typed without lib.dom.
 *
 * Scalar f64 ops in wasm are IEEE-754 double operations with round-to-nearest, exactly as in
 * JavaScript, and wasm has no fused multiply-add, so a kernel that performs the same operations in
 * the same order as a JavaScript loop returns the same bits.
 */
import { setFlagsFromString } from 'v8';

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export const PAGE = 65536;
/** i32 byte offsets: memories stay below 2 GiB. */
export const MAX_BYTES = 2 ** 31 - PAGE;

/**
 * One released WebAssembly memory kept per thread for a kernel's next call: a fresh memory pays
 * its creation and a page fault on the first write of every page (mrmr's pool: ~2 of 7.2 ms at
 * 200 × 2,000; a 500 × 20,000 matrix copy: ~40 ms, four times the copy itself).
 */
export class SpareMemory {
  private kept: WasmMemory | null = null;

  constructor(private readonly keepBytes: number) {}

  /** The kept memory, taken out, when its size is within [minBytes, maxBytes]; else null. */
  take(minBytes: number, maxBytes = Infinity): WasmMemory | null {
    const m = this.kept;
    if (!m || m.buffer.byteLength < minBytes || m.buffer.byteLength > maxBytes) return null;
    this.kept = null;
    return m;
  }

  /**
   * The kept memory when it holds `bytes`, else a new fixed-size one (shared or not); null above
   * MAX_BYTES or when the memory is not granted (the caller's other path runs).
   */
  takeOrCreate(bytes: number, shared: boolean): WasmMemory | null {
    if (bytes > MAX_BYTES || !wasm) return null;
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    const kept = this.take(pages * PAGE);
    if (kept) return kept;
    try {
      return new wasm.Memory({ initial: pages, maximum: pages, shared });
    } catch {
      return null;
    }
  }

  /** Keeps `m` if it is the larger of it and the kept one, up to keepBytes. */
  give(m: WasmMemory): void {
    const bytes = m.buffer.byteLength;
    if (bytes <= this.keepBytes && (!this.kept || this.kept.buffer.byteLength < bytes)) {
      this.kept = m;
    }
  }
}

/** SIMD kernels are off when OMICSELECTOR_NO_SIMD=1 (the JavaScript loops run). */
export const simdDisabled = (): boolean => process.env.OMICSELECTOR_NO_SIMD === '1';

export function uleb(v: number): number[] {
  const o: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    o.push(b);
  } while (v);
  return o;
}

export function sleb(v: number): number[] {
  const o: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
}

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, c => c.charCodeAt(0))];

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export const get = (i: number) => [0x20, ...uleb(i)];
export const set = (i: number) => [0x21, ...uleb(i)];
export const tee = (i: number) => [0x22, ...uleb(i)];
export const i32 = (v: number) => [0x41, ...sleb(v)];
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const SHL = [0x74];
export const SHR_S = [0x75];
export const AND = [0x71];
export const EQ = [0x46];
export const LT_S = [0x48];
export const LT_U = [0x49];
export const GT_S = [0x4a];
export const GE_S = [0x4e];
export const GE_U = [0x4f];
export const v128Load = (off = 0) => [0xfd, 0x00, 3, ...uleb(off)];
export const v128Store = (off = 0) => [0xfd, 0x0b, 3, ...uleb(off)];
export const f64Load = (off = 0) => [0x2b, 3, ...uleb(off)];
export const i32Load = (off = 0) => [0x28, 2, ...uleb(off)];
export const i32Store = (off = 0) => [0x36, 2, ...uleb(off)];
export const f64Store = (off = 0) => [0x39, 3, ...uleb(off)];
export const F64X2_SPLAT = [0xfd, 0x14];
/** A SIMD instruction (0xfd prefix) with its immediates. */
export const simdOp = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
/** v128.load / v128.store with the 16-byte alignment hint. */
export const v128LoadA16 = (off = 0) => simdOp(0x00, 4, ...uleb(off));
export const v128StoreA16 = (off = 0) => simdOp(0x0b, 4, ...uleb(off));
/** v128.load32_splat: one f32 from memory into all four lanes. */
export const load32Splat = (off = 0) => simdOp(0x09, 2, ...uleb(off));
export const F32X4_ADD = simdOp(0xe4);
export const F32X4_MUL = simdOp(0xe6);
export const f32x4Lane = (l: number) => simdOp(0x1f, l);
export const F32_ADD = [0x92];
export const f32Store = (off = 0) => [0x38, 2, ...uleb(off)];
export const F64X2_ADD = [0xfd, ...uleb(0xf0)];
export const F64X2_SUB = [0xfd, ...uleb(0xf1)];
export const F64X2_MUL = [0xfd, ...uleb(0xf2)];
export const lane = (l: number) => [0xfd, 0x21, l];
/** v128.and; v128.andnot (a & ~b). */
export const V128_AND = simdOp(0x4e);
export const V128_ANDNOT = simdOp(0x4f);
/** select (t, f, cond): t when cond ≠ 0. */
export const SELECT = [0x1b];
export const EQZ = [0x45];
export const F64_EQ = [0x61];
export const F64_NE = [0x62];
export const F64_LT = [0x63];
export const F64_GT = [0x64];
export const F64_ABS = [0x99];
export const F64_NEG = [0x9a];
export const F64_SQRT = [0x9f];
export const F64_ADD = [0xa0];
export const F64_SUB = [0xa1];
export const F64_MUL = [0xa2];
export const F64_DIV = [0xa3];
export const f64 = (v: number) => {
  const b = new Uint8Array(new Float64Array([v]).buffer);
  return [0x44, ...Array.from(b)];
};
export const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
/** `if` with an f64 result (then … else … end). */
export const IF_F64 = [0x04, F64];
export const IF = [0x04, 0x40];
export const ELSE = [0x05];
export const END = [0x0b];
export const RETURN = [0x0f];
export const br = (d: number) => [0x0c, d];
export const brIf = (d: number) => [0x0d, d];

/**
 * sum8's total of four f64x2 accumulators holding the partial sums (s0 s1), (s2 s3), (s4 s5),
 * (s6 s7): ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)), left on the stack (acc[0] is
 * overwritten). The order of stats/simd_colsums.ts `sum8`, which the column sums, the column
 * statistics (centred-ops.ts) and the packing's squares (simd-pack.ts) all reproduce to the bit.
 */
export function sum8Total(acc: readonly number[]): number[] {
  const [a0, a1, a2, a3] = acc as [number, number, number, number];
  return [
    ...[get(a0), get(a2), F64X2_ADD, get(a1), get(a3), F64X2_ADD, F64X2_ADD, set(a0)].flat(),
    ...[get(a0), lane(0), get(a0), lane(1), F64_ADD].flat(),
  ];
}

/** A code buffer and `e(...instructions)`, which appends each instruction's bytes to it. */
export function emitter(): { code: number[]; e: (...xs: number[][]) => void } {
  const code: number[] = [];
  return {
    code,
    e: (...xs) => {
      for (const x of xs) code.push(...x);
    },
  };
}

/** A function body: locals as [count, type] runs, then the code (END appended). */
export function body(locals: [number, number][], code: number[]): number[] {
  const fn = [
    ...uleb(locals.length),
    ...locals.flatMap(([c, t]) => [...uleb(c), t]),
    ...code,
    ...END,
  ];
  return [...uleb(fn.length), ...fn];
}

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  /** From `body`. */
  code: number[];
}

/**
 * A module importing one memory (env.mem) and exporting the functions; functions with the same
 * signature share one type. `sharedMaxPages`: import a shared memory (limits 1 … max pages), for
 * kernels that several worker threads run on one memory.
 */
export function moduleBytes(
  fns: WasmFunction[],
  opts: { sharedMaxPages?: number } = {},
): Uint8Array {
  const types: number[][] = [];
  const typeKeys: string[] = [];
  const typeOf = fns.map(f => {
    const t = [0x60, ...vec(f.params.map(p => [p])), ...vec(f.results.map(r => [r]))];
    const key = t.join(',');
    let i = typeKeys.indexOf(key);
    if (i < 0) {
      i = types.length;
      types.push(t);
      typeKeys.push(key);
    }
    return i;
  });
  const limits =
    opts.sharedMaxPages === undefined
      ? [0x00, ...uleb(1)]
      : [0x03, ...uleb(1), ...uleb(opts.sharedMaxPages)];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, ...limits]])),
    ...section(3, vec(typeOf.map(i => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map(f => f.code))),
  ]);
}

/**
 * `new WebAssembly.Module(bytes)` compiled by V8's optimising compiler (TurboFan) at once.
 *
 * Why: V8 compiles wasm with its baseline compiler (Liftoff) and moves a function to TurboFan
 * only after it has run ~1.8 MB of code (--wasm-tiering-budget), in the background, for its later
 * calls: a call in progress never switches. Our kernels are small, and a job calls most of them
 * a few times, so they ran unoptimised for all or most of a job. Measured on the CI VM (AMD EPYC,
 * 23 Nov 2026): the top-k bucket kernel (stats/top_buckets.ts) took 13–16 µs per call for its
 * first 80–400 calls, 5.5–6.5 µs from the first call when compiled this way; compiling costs
 * ~2 ms more per module, once per thread. The flags are set only for this synchronous compile,
 * so other modules (tfjs-backend-wasm's) keep V8's default. V8's flags are process-wide: a
 * worker thread compiling at the same moment may see them flipped back early, and then its module
 * compiles as before (baseline first), a speed difference only. Throws what the constructor
 * throws (no SIMD support, …).
 */
export function compileModule(bytes: Uint8Array): object {
  if (!wasm) throw new Error('no WebAssembly in this runtime');
  // eager as well: V8 compiles a wasm function lazily, at its first call, by default
  setFlagsFromString('--no-liftoff');
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    return new wasm.Module(bytes);
  } finally {
    setFlagsFromString('--wasm-lazy-compilation');
    setFlagsFromString('--liftoff');
  }
}

/** Compiles once (compileModule); null when the runtime has no WebAssembly (SIMD) support. */
export function lazyModule(build: () => Uint8Array): () => object | null {
  let mod: object | null | undefined;
  return () => {
    if (mod !== undefined) return mod;
    if (!wasm) return (mod = null);
    try {
      mod = compileModule(build());
    } catch {
      mod = null;
    }
    return mod;
  };
}

/** A kernel module's instance on its own memory, with float64 and int32 views of that memory. */
export interface Arena {
  exports: Record<string, unknown>;
  f64: Float64Array;
  i32: Int32Array;
}

/**
 * One arena per kernel module and thread, kept between calls and replaced by a larger one when a
 * call needs more bytes (the memory never grows, so the views stay valid): the kernels that copy
 * their inputs into wasm memory (column sums, shifted sums, the top-k pass) reuse it instead of
 * paying a fresh memory's creation and page faults per call.
 */
export class ThreadArena {
  private kept: Arena | null = null;

  constructor(private readonly compile: () => object | null) {}

  /** The kept arena when it holds `bytes`, else a new one; null without wasm SIMD or memory. */
  get(bytes: number): Arena | null {
    if (this.kept && this.kept.f64.byteLength >= bytes) return this.kept;
    const mod = this.compile();
    if (!mod || !wasm) return null;
    try {
      const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
      const buffer = memory.buffer;
      // (not destructured into `exports`: that name would shadow CommonJS's in the compiled file)
      const instance = new wasm.Instance(mod, { env: { mem: memory } });
      this.kept = {
        exports: instance.exports,
        f64: new Float64Array(buffer),
        i32: new Int32Array(buffer),
      };
      return this.kept;
    } catch {
      return null;
    }
  }
}
