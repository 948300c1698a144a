/**
 * The wasm SIMD KKT product (compute/linear/simd.ts) against the JavaScript loop: same values up
 * to summation order (1e-13 relative to ‖x_j‖·‖r‖), remainder columns and odd n handled, and plain
 * Float64Arrays left to the JavaScript loop.
 */
import { absDotAll } from '../../../../compute/linear/design';
import { absDotAllWasm, wasmDesignBuffer } from '../../../../compute/linear/simd';
import { Rng } from '../../../../compute/core/rng';

describe('wasm SIMD |Xᵀr|', () => {
  it.each([
    [7, 13],
    [50, 40],
    [101, 203],
  ])('n = %i, p = %i matches the JavaScript loop', (n, p) => {
    const rng = new Rng(n * p);
    const x = wasmDesignBuffer(n * p, n + p);
    expect(x).not.toBeNull(); // Node 20 has wasm SIMD
    const plain = new Float64Array(n * p);
    for (let i = 0; i < n * p; i++) x![i] = plain[i] = rng.normal();
    const r = Float64Array.from({ length: n }, () => rng.normal());
    const fast = new Float64Array(p).fill(-1);
    const slow = new Float64Array(p).fill(-1);
    absDotAll(x!, n, p, r, 0.5, fast);
    absDotAll(plain, n, p, r, 0.5, slow);
    let rn = 0;
    for (const v of r) rn += v * v;
    for (let j = 0; j < p; j++) {
      let xn = 0;
      for (let i = 0; i < n; i++) xn += plain[j * n + i]! ** 2;
      expect(Math.abs(fast[j]! - slow[j]!)).toBeLessThanOrEqual(1e-13 * Math.sqrt(xn * rn));
      expect(fast[j]).toBeGreaterThanOrEqual(0);
    }
    // the kernel itself covers the full blocks of four columns
    expect(absDotAllWasm(x!, n, p, r, 0.5, new Float64Array(p))).toBe(p - (p % 4));
  });

  it('leaves other arrays (and views not at the start of the buffer) to the JavaScript loop', () => {
    const plain = new Float64Array(40);
    expect(absDotAllWasm(plain, 10, 4, new Float64Array(10), 1, new Float64Array(4))).toBe(0);
    const x = wasmDesignBuffer(48, 20)!;
    const view = x.subarray(8);
    expect(absDotAllWasm(view, 10, 4, new Float64Array(10), 1, new Float64Array(4))).toBe(0);
  });
});
