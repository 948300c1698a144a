/**
 * Range-scaled L1 distance kernels. The float64 CPU kernel must equal a naive double loop to 1e-12;
 * the gpu.js twin (float32) within 1e-5 relative on the modes that run on this host (cpu, webasm).
 */
import { Rng } from '../../../../compute/core/rng';
import { gpuJsAvailable, l1DistanceGpuJs } from '../../../../compute/kernels/gpu-l1-distance';
import { rangeScale, rangeScaledL1 } from '../../../../compute/kernels/l1-distance';

function naive(data: Float64Array, n: number, p: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * n);
  for (let j = 0; j < p; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, data[j * n + i]!);
      hi = Math.max(hi, data[j * n + i]!);
    }
    if (hi === lo) continue;
    rows.forEach((r, a) => {
      for (let i = 0; i < n; i++) {
        out[a * n + i] += Math.abs(data[j * n + i]! - data[j * n + r]!) / (hi - lo);
      }
    });
  }
  return out;
}

const rng = new Rng(3);
const n = 37;
const p = 23;
const data = Float64Array.from({ length: n * p }, () => rng.normal());
data.fill(2, 5 * n, 6 * n); // constant feature

describe('range-scaled L1 kernel', () => {
  it('all rows (symmetric path) equals the naive loop', async () => {
    const { dist } = await rangeScaledL1(data, n, p, { threads: 1 });
    const ref = naive(
      data,
      n,
      p,
      Array.from({ length: n }, (_, i) => i),
    );
    ref.forEach((v, i) => expect(Math.abs(dist[i]! - v)).toBeLessThan(1e-12));
  });

  it('a subset of query rows equals the naive loop, also split in blocks', async () => {
    const rows = [3, 4, 10, 11, 12, 20, 36];
    const { dist } = await rangeScaledL1(data, n, p, { rows: Int32Array.from(rows), threads: 3 });
    const ref = naive(data, n, p, rows);
    ref.forEach((v, i) => expect(Math.abs(dist[i]! - v)).toBeLessThan(1e-12));
  });

  const modes = gpuJsAvailable() ? (['cpu', 'webasm'] as const) : [];
  it.each(modes)('gpu.js %s mode agrees in float32', mode => {
    const { scaled } = rangeScale(data, n, p);
    const rows = Int32Array.from([0, 7, 36]);
    const { dist, mode: ran } = l1DistanceGpuJs(scaled, n, p, rows, mode);
    expect(ran).toBe(mode);
    const ref = naive(data, n, p, Array.from(rows));
    ref.forEach((v, i) =>
      expect(Math.abs(dist[i]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, v)),
    );
  });
});
