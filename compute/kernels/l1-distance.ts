/**
 * Range-scaled Manhattan (L1) distances between query rows and all rows of a column-major matrix:
 * D[a, i] = Σ_j |x_ij − x_{rows[a] j}| / range_j (a feature with range 0 contributes 0). This is the
 * neighbour metric of ReliefF / RReliefF.
 *
 * The float64 CPU kernel is the reference and what runs on CPU hosts: on 2 cores, tight loops over
 * worker_threads beat gpu.js webasm and tfjs wasm for L1 (compute-notes). The gpu.js twin in
 * `gpu-l1-distance.ts` runs the same formula in float32 on the GPU pool.
 *
 * Tiling: a tile of query rows (TILE × n accumulators) stays in cache while every feature column
 * streams past once, instead of sweeping the whole n × n matrix once per feature.
 */
import { checkAbort } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';

const TILE = 8;

export interface L1BlockInput {
  /** Column-major n × p matrix already divided by the feature ranges (may be SharedArrayBuffer-backed). */
  scaled: Float64Array;
  n: number;
  p: number;
  /** Query rows of this block. */
  rows: Int32Array;
  /**
   * When the query set is all rows in order (0..n−1), only columns i ≥ rows[a]'s tile start are
   * filled (the caller mirrors the lower triangle).
   */
  symmetric: boolean;
}

/** Divide each column by its range (max − min); constant columns become 0. */
export function rangeScale(
  data: Float64Array,
  n: number,
  p: number,
  shared = false,
): { scaled: Float64Array; range: Float64Array } {
  const buf = shared ? new SharedArrayBuffer(8 * n * p) : new ArrayBuffer(8 * n * p);
  const scaled = new Float64Array(buf);
  const range = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const off = j * n;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = data[off + i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const r = hi - lo;
    range[j] = r;
    const inv = r > 0 ? 1 / r : 0;
    for (let i = 0; i < n; i++) scaled[off + i] = data[off + i]! * inv;
  }
  return { scaled, range };
}

/** Distances from `rows` to all n rows (row-major rows.length × n). Exported for worker threads. */
export function l1DistanceBlock(input: L1BlockInput): Float64Array {
  const { scaled, n, p, rows, symmetric } = input;
  const m = rows.length;
  const out = new Float64Array(m * n);
  for (let t0 = 0; t0 < m; t0 += TILE) {
    const t1 = Math.min(m, t0 + TILE);
    const start = symmetric ? rows[t0]! : 0;
    for (let j = 0; j < p; j++) {
      const off = j * n;
      let t = t0;
      // Four query rows per pass over the column: four independent accumulator rows.
      for (; t + 3 < t1; t += 4) {
        const x0 = scaled[off + rows[t]!]!;
        const x1 = scaled[off + rows[t + 1]!]!;
        const x2 = scaled[off + rows[t + 2]!]!;
        const x3 = scaled[off + rows[t + 3]!]!;
        const o0 = t * n;
        const o1 = o0 + n;
        const o2 = o1 + n;
        const o3 = o2 + n;
        for (let i = start; i < n; i++) {
          const c = scaled[off + i]!;
          out[o0 + i] += Math.abs(c - x0);
          out[o1 + i] += Math.abs(c - x1);
          out[o2 + i] += Math.abs(c - x2);
          out[o3 + i] += Math.abs(c - x3);
        }
      }
      for (; t < t1; t++) {
        const x = scaled[off + rows[t]!]!;
        const o = t * n;
        for (let i = start; i < n; i++) out[o + i] += Math.abs(scaled[off + i]! - x);
      }
    }
  }
  return out;
}

/**
 * Range-scaled L1 distances from `rows` (default: all rows) to all rows, float64, spread over
 * worker threads by blocks of query rows. Returns row-major rows.length × n and the ranges used.
 */
export async function rangeScaledL1(
  data: Float64Array,
  n: number,
  p: number,
  opts: { rows?: Int32Array; threads?: number; signal?: AbortSignal } = {},
): Promise<{ dist: Float64Array; range: Float64Array; scaled: Float64Array }> {
  const threads = Math.max(1, opts.threads ?? defaultThreads());
  const all = opts.rows === undefined;
  const rows = opts.rows ?? Int32Array.from({ length: n }, (_, i) => i);
  const m = rows.length;
  const { scaled, range } = rangeScale(data, n, p, threads > 1);
  // Blocks of whole tiles; with the symmetric trick later rows are cheaper, so use more blocks
  // than threads to balance.
  const nBlocks = Math.max(1, Math.min(Math.ceil(m / TILE), threads * 4));
  const per = Math.ceil(m / nBlocks / TILE) * TILE;
  const inputs: L1BlockInput[] = [];
  for (let s = 0; s < m; s += per) {
    inputs.push({ scaled, n, p, rows: rows.slice(s, Math.min(m, s + per)), symmetric: all });
  }
  checkAbort(opts.signal);
  const blocks = await parallelMap<L1BlockInput, Float64Array>(
    __filename,
    'l1DistanceBlock',
    inputs,
    {
      threads,
      signal: opts.signal,
    },
  );
  const dist = new Float64Array(m * n);
  let s = 0;
  for (const b of blocks) {
    dist.set(b, s * n);
    s += b.length / n;
  }
  if (all) {
    // Tiles filled columns from their first row on; mirror the upper part into the lower part.
    for (let a = 0; a < n; a++) {
      const tileStart = a - (a % TILE);
      for (let i = 0; i < tileStart; i++) dist[a * n + i] = dist[i * n + a]!;
    }
  }
  return { dist, range, scaled };
}
