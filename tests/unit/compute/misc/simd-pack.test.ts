/**
 * compute/kernels/simd-pack.ts packFullPanels against the JavaScript packing it replaces in
 * simd-gemm.ts centredScreen: float32 values Math.fround(x − c) at panel P, feature j, lane l
 * (float index P·pp·8 + j·8 + l) and float64 squared norms summed over the features in order —
 * the same bits (Object.is), for n with partial panels, odd p, several staging block sizes; and
 * the squares variant (the column sds' second pass), staged and in place on a resident matrix:
 * the same values and Σ (x_j − c_j)² over the full panels with columnMeanSd's bits.
 */
import { Rng } from '../../../../compute/core/rng';
import { residentCopy } from '../../../../compute/kernels/resident';
import { packFullPanels } from '../../../../compute/kernels/simd-pack';
import { squares8 } from '../../../../compute/linear/model';

interface SharedWasm {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => {
    buffer: SharedArrayBuffer;
  };
}
const W = (globalThis as unknown as { WebAssembly: SharedWasm }).WebAssembly;
const simdOff = process.env.OMICSELECTOR_NO_SIMD === '1';

describe('packFullPanels (wasm SIMD)', () => {
  (simdOff ? it.skip : it).each([
    [8, 1, 1 << 20],
    [21, 37, 1 << 20],
    [64, 130, 1 << 20],
    [203, 75, 20000], // a small staging area: blocks of 8 features
  ])(
    'n = %i, p = %i, staging %i bytes: the same bits as the JavaScript loop',
    (n, p, stageBytes) => {
      const rng = new Rng(n * 7 + p);
      const x = Float64Array.from({ length: n * p }, () => rng.normal() * 10 ** rng.int(4));
      const center = Float64Array.from({ length: p }, () => rng.normal());
      const pp = p + (p & 1);
      const full = Math.floor(n / 8);
      const panelsBytes = Math.ceil(n / 8) * pp * 32;
      const stageByte = panelsBytes + 64;
      const mem = new W.Memory({
        initial: Math.ceil((stageByte + stageBytes) / 65536),
        maximum: 65536,
        shared: true,
      });
      const norms = new Float64Array(n).fill(-1);
      expect(packFullPanels(mem, stageByte, stageBytes, 0, x, n, p, pp, center, norms)).toBe(true);
      const f32 = new Float32Array(mem.buffer);
      let bad = 0;
      for (let s = 0; s < full * 8; s++) {
        let want = 0;
        const P = s >> 3;
        for (let j = 0; j < p; j++) {
          const v = x[j * n + s]! - center[j]!;
          want += v * v;
          if (!Object.is(f32[P * pp * 8 + j * 8 + (s & 7)], Math.fround(v))) bad++;
        }
        if (!Object.is(norms[s], want)) bad++;
      }
      expect(bad).toBe(0);
      // samples of the partial panel are left to the caller
      for (let s = full * 8; s < n; s++) expect(norms[s]).toBe(-1);
    },
  );

  (simdOff ? it.skip : it).each([
    [8, 3, false],
    [21, 37, false],
    [203, 75, false],
    [21, 37, true],
    [203, 75, true],
  ])('squares, n = %i, p = %i, resident %s: values and sums of squares', (n, p, resident) => {
    const rng = new Rng(n * 11 + p);
    const plain = Float64Array.from({ length: n * p }, () => rng.normal() * 10 ** rng.int(4));
    const x = resident ? residentCopy(plain, n, p)! : plain;
    const center = Float64Array.from({ length: p }, () => rng.normal());
    const pp = p + (p & 1);
    const full = Math.floor(n / 8);
    const stageByte = Math.ceil(n / 8) * pp * 32 + 64;
    const mem = new W.Memory({
      initial: Math.ceil((stageByte + (1 << 20)) / 65536),
      maximum: 65536,
      shared: true,
    });
    const squares = new Float64Array(p).fill(-1);
    expect(packFullPanels(mem, stageByte, 1 << 20, 0, x, n, p, pp, center, null, squares)).toBe(
      true,
    );
    const f32 = new Float32Array(mem.buffer);
    let bad = 0;
    for (let j = 0; j < p; j++) {
      if (!Object.is(squares[j], squares8(plain, j * n, j * n + full * 8, center[j]!))) bad++;
      for (let s = 0; s < full * 8; s++) {
        const v = plain[j * n + s]! - center[j]!;
        if (!Object.is(f32[(s >> 3) * pp * 8 + j * 8 + (s & 7)], Math.fround(v))) bad++;
      }
    }
    expect(bad).toBe(0);
  });

  it('declines without a full panel or with too small a staging area', () => {
    const mem = new W.Memory({ initial: 1, maximum: 1, shared: true });
    const x = new Float64Array(7 * 3);
    const c = new Float64Array(3);
    expect(packFullPanels(mem, 0, 65536, 0, x, 7, 3, 4, c, new Float64Array(7))).toBe(false);
    const y = new Float64Array(800 * 3);
    expect(packFullPanels(mem, 1024, 4096, 0, y, 800, 3, 4, c, new Float64Array(800))).toBe(false);
  });
});
