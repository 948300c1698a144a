/**
 * gramBandsF32 (correlation_filter's banded Gram screen) against gramUpperF32: every band entry
 * the caller may read (row r: columns from r − r mod 8 on, the row's own panel) has the same bits, on the calling
 * thread and split over two worker threads, for bands that start mid-matrix and end at its edge.
 */
import { Rng } from '../../../../compute/core/rng';
import {
  gramBandsF32,
  gramUpperF32,
  simdGemmAvailable,
} from '../../../../compute/kernels/simd-gemm';

(simdGemmAvailable() ? it : it.skip)(
  'bands equal the whole upper Gram, with and without threads',
  async () => {
    const nx = 301; // rows (the last panel partial)
    const p = 77; // summed coordinates (odd: padded)
    const rng = new Rng(9);
    const x = Float64Array.from({ length: nx * p }, () => rng.normal());
    const whole = gramUpperF32(x, nx, p)!;
    const expected = Float64Array.from(whole.c);
    const ldWhole = whole.ld;
    whole.release();
    for (const threads of [1, 2]) {
      const bands = gramBandsF32(x, nx, p, 64)!;
      expect(bands.maxRows).toBe(64);
      let checked = 0;
      for (let r0 = 0; r0 < nx; r0 += 64) {
        const rows = Math.min(64, nx - r0);
        await bands.band(r0, rows, { threads, minThreadWork: 0 });
        for (let r = r0; r < r0 + rows; r++) {
          for (let t = r - (r % 8); t < nx; t++) {
            const got = bands.c[(r - r0) * bands.ld + t]!;
            if (got !== expected[r * ldWhole + t]) throw new Error(`(${r}, ${t}): ${got}`);
            checked++;
          }
        }
      }
      bands.release();
      expect(checked).toBeGreaterThan(40_000);
    }
  },
);
