/**
 * The unit-column pool behind mRMR FCQ. Tolerance: none — the WebAssembly f64x2 kernel, the
 * JavaScript fallback and the plain loop (`dotJs` over `standardize`d columns) must give the same
 * bits, and the F pass that standardises columns on the side must leave F unchanged.
 */
import { quietContext } from '../../../../compute/core/method';
import { parseArgs } from '../../../../compute/core/args';
import { Rng } from '../../../../compute/core/rng';
import { dotJs, standardize, UnitColumnPool } from '../../../../compute/kernels/unit-dot';
import { fClassif, mrmr, type MrmrArgs } from '../../../../compute/selectors/mrmr';
import { synthClasses, synthContinuous } from './fixture';

function matrix(n: number, p: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const scale = 10 ** ((j % 5) - 2);
    for (let i = 0; i < n; i++) x[j * n + i] = j === 3 ? 2.5 : scale * rng.normal() + j;
  }
  return x;
}

function withoutSimd<T>(f: () => T): T {
  const old = process.env.OMICSELECTOR_NO_SIMD;
  process.env.OMICSELECTOR_NO_SIMD = '1';
  try {
    return f();
  } finally {
    if (old === undefined) delete process.env.OMICSELECTOR_NO_SIMD;
    else process.env.OMICSELECTOR_NO_SIMD = old;
  }
}

const bits = (a: ArrayLike<number>) => Array.from(a, v => (Object.is(v, -0) ? '-0' : String(v)));

describe('UnitColumnPool', () => {
  it.each([1, 2, 3, 4, 5, 7, 8, 37, 200])(
    'wasm and JavaScript dots equal the plain loop bit for bit (n = %i)',
    n => {
      const p = 11;
      const data = matrix(n, p, n);
      // Reference: each column standardised alone, then the plain four-sum loop.
      const z = new Float64Array(n * p);
      const constant = new Uint8Array(p);
      for (let j = 0; j < p; j++) if (standardize(data, j * n, n, z, j * n)) constant[j] = 1;
      const simd = new UnitColumnPool(data, n, p, 1); // grows from one column
      const js = withoutSimd(() => new UnitColumnPool(data, n, p, 1));
      expect(simd.simd).toBe(true);
      expect(js.simd).toBe(false);
      // Build in a scrambled order so slots differ from column indices.
      for (const j of [5, 0, 10, 3, 7, 1, 2, 9, 4, 8, 6]) {
        simd.ensure(j);
        js.ensure(j);
      }
      expect(Array.from(simd.constant)).toEqual(Array.from(constant));
      for (let j = 0; j < p; j++) {
        const cols = Array.from({ length: p }, (_, s) => (s + j) % p);
        const want = Float64Array.from(cols, s => dotJs(z, n, j * n, s * n));
        const a = new Float64Array(p);
        const b = new Float64Array(p);
        simd.dots(j, cols, 0, p, a);
        js.dots(j, cols, 0, p, b);
        expect(bits(a)).toEqual(bits(want));
        expect(bits(b)).toEqual(bits(want));
        // A sub-range with a remainder after the four-column passes.
        const c = new Float64Array(p);
        simd.dots(j, cols, 2, 9, c);
        expect(bits(c.subarray(2, 9))).toEqual(bits(want.subarray(2, 9)));
      }
      expect(constant[3]).toBe(1); // an exactly constant column
    },
  );

  it('fClassif standardises on the side without changing F (2 and 3 classes, odd p, ±Inf)', () => {
    for (const classes of [2, 3]) {
      const ds = synthClasses(31, 9, 2, 4, classes);
      const data = ds.data.slice();
      data[4 * 31 + 5] = Infinity; // a non-finite column takes the per-column path
      const bad = { ...ds, data };
      const labels = (ds.outcome as { labels: Int32Array }).labels;
      const plain = fClassif(bad, labels, classes);
      const z = new Float64Array(data.length);
      const constant = new Uint8Array(9);
      const fused = fClassif(bad, labels, classes, { z, constant });
      expect(bits(fused)).toEqual(bits(plain));
      expect(Number.isFinite(plain[0]!)).toBe(true);
      const ref = new Float64Array(data.length);
      for (let j = 0; j < 9; j++) standardize(data, j * 31, 31, ref, j * 31);
      expect(bits(z)).toEqual(bits(ref));
    }
  });

  it.each([
    ['classes', synthClasses(41, 300, 5, 9)],
    ['continuous', synthContinuous(41, 300, 5, 9)],
  ])('mrmr FCQ gives the same run with and without wasm SIMD (%s)', async (_, ds) => {
    const args = parseArgs(mrmr.args, {}) as unknown as MrmrArgs;
    const a = await mrmr.run(ds, args, quietContext(1), 25);
    const b = await withoutSimd(() => mrmr.run(ds, args, quietContext(1), 25));
    expect(a.selected).toHaveLength(25);
    expect(b).toEqual(a);
    expect(bits(a.diagnostics.mrmr_score_at_pick as number[])).toEqual(
      bits(b.diagnostics.mrmr_score_at_pick as number[]),
    );
  });
});
