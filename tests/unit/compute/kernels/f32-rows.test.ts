/**
 * The float32 row-block products of the batched elastic net: the wasm SIMD kernels equal their
 * JavaScript twins bit for bit, and both agree with float64 sums to float32 accuracy.
 */
import { Rng } from '../../../../compute/core/rng';
import { dotsJs, F32RowBlock, rowsTJs } from '../../../../compute/kernels/f32-rows';

function filled(rows: number, width: number, seed: number): F32RowBlock {
  const blk = new F32RowBlock(rows, width);
  const rng = new Rng(seed);
  for (let i = 0; i < blk.x.length; i++) blk.x[i] = rng.normal() * (1 + (i % 7));
  for (let k = 0; k < width; k++) blk.v[k] = rng.normal();
  for (let t = 0; t < rows; t++) blk.r[t] = rng.normal() / rows;
  return blk;
}

describe.each([
  [4, 16],
  [100, 192],
  [252, 320],
])('F32RowBlock %i × %i', (rows, width) => {
  test('dots: same bits as dotsJs, float32 accuracy against float64', () => {
    const blk = filled(rows, width, rows + width);
    expect(blk.simd).toBe(true);
    blk.dots();
    const js = new Float32Array(rows);
    dotsJs(blk.x, blk.v, js, rows, width);
    expect(Array.from(blk.out)).toEqual(Array.from(js));
    for (let t = 0; t < rows; t++) {
      let s = 0;
      let abs = 0;
      for (let k = 0; k < width; k++) {
        s += blk.x[t * width + k]! * blk.v[k]!;
        abs += Math.abs(blk.x[t * width + k]! * blk.v[k]!);
      }
      expect(Math.abs(blk.out[t]! - s)).toBeLessThanOrEqual(width * 2 ** -23 * abs);
    }
  });

  test('rowsT: same bits as rowsTJs, float32 accuracy against float64', () => {
    const blk = filled(rows, width, 3 * rows + width);
    blk.g.fill(123); // stale values must not leak into the sums
    blk.rowsT();
    const js = new Float32Array(width);
    rowsTJs(blk.x, blk.r, js, rows, width);
    expect(Array.from(blk.g)).toEqual(Array.from(js));
    for (let k = 0; k < width; k++) {
      let s = 0;
      let abs = 0;
      for (let t = 0; t < rows; t++) {
        s += blk.r[t]! * blk.x[t * width + k]!;
        abs += Math.abs(blk.r[t]! * blk.x[t * width + k]!);
      }
      expect(Math.abs(blk.g[k]! - s)).toBeLessThanOrEqual(rows * 2 ** -23 * abs);
    }
  });
});

test('unaligned shapes are refused', () => {
  expect(() => new F32RowBlock(5, 16)).toThrow(/unaligned/);
  expect(() => new F32RowBlock(4, 20)).toThrow(/unaligned/);
});
