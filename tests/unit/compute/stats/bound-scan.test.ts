/**
 * compute/kernels/bound-scan.ts (used by correlation_filter's Gram screen) against the plain
 * JavaScript test |c_t| ≥ quick && |c_t| + ρ·τ_t ≥ lim: the same indices, in order, for every
 * start / end remainder mod 4, with hits on both sides of the bound.
 */
import { Rng } from '../../../../compute/core/rng';
import { boundScan } from '../../../../compute/kernels/bound-scan';
import { simdGemmAvailable } from '../../../../compute/kernels/simd-gemm';

const W = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => object } })
  .WebAssembly;

describe('boundScan', () => {
  (simdGemmAvailable() ? it : it.skip)('finds exactly the entries that pass the bound', () => {
    const p = 1000;
    const memory = new W.Memory({ initial: 1, maximum: 1, shared: true });
    const scan = boundScan(memory);
    expect(scan).not.toBeNull();
    const buffer = (memory as { buffer: SharedArrayBuffer }).buffer;
    const c = new Float64Array(buffer, 0, p);
    const tau = new Float64Array(buffer, p * 8, p);
    const out = new Int32Array(buffer, p * 16, p);
    const rng = new Rng(4);
    for (let t = 0; t < p; t++) {
      c[t] = rng.normal() * 0.1;
      tau[t] = 0.5 + 0.5 * rng.random();
    }
    const rho = 0.8;
    const lim = 0.9;
    const quick = lim - rho * 1;
    let total = 0;
    for (const [from, to] of [
      [0, p],
      [1, p],
      [2, 999],
      [3, 997],
      [500, 503],
      [10, 10],
    ] as const) {
      const want: number[] = [];
      for (let t = from; t < to; t++) {
        const a = Math.abs(c[t]!);
        if (a >= quick && a + rho * tau[t]! >= lim) want.push(t);
      }
      const m = scan!(0, p * 8, from, to, rho, quick, lim, p * 16);
      expect(Array.from(out.subarray(0, m))).toEqual(want);
      total += m;
    }
    // the data have entries that pass the quick test but not the exact one, and some that pass
    let quickOnly = 0;
    for (let t = 0; t < p; t++) {
      const a = Math.abs(c[t]!);
      if (a >= quick && a + rho * tau[t]! < lim) quickOnly++;
    }
    expect(quickOnly).toBeGreaterThan(0);
    expect(total).toBeGreaterThan(0);
  });
});
