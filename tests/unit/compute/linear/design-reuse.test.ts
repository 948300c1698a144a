/**
 * A design's WebAssembly memory is handed to the next fit on the thread (releaseDesignBuffer in
 * compute/linear/simd.ts): fits on reused memory equal fits on fresh memory, bit for bit, whatever
 * ran in between.
 */
import { Rng } from '../../../../compute/core/rng';
import { DEFAULT_ELNET, fitElnet, type Target } from '../../../../compute/linear/elnet';

function problem(n: number, p: number, seed: number): { x: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n * p }, () => rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => x[i]! - 0.5 * x[n + i]! + rng.normal());
  return { x, y };
}

const fitOf = (x: Float64Array, n: number, p: number, target: Target) =>
  fitElnet(x, n, p, null, target, { ...DEFAULT_ELNET, nLambda: 30 }).fit;

describe('design memory reuse', () => {
  test('gaussian and binomial paths are unchanged by the fits run before them', () => {
    const a = problem(60, 400, 1);
    const b = problem(60, 500, 2); // larger data in the same pages: reused by the fits of a
    const binomial = Float64Array.from(a.y, v => (v > 0 ? 1 : 0));
    const first = fitOf(a.x, 60, 400, { family: 'gaussian', y: a.y });
    const firstBin = fitOf(a.x, 60, 400, { family: 'binomial', y: binomial });
    fitOf(b.x, 60, 500, { family: 'gaussian', y: b.y });
    const again = fitOf(a.x, 60, 400, { family: 'gaussian', y: a.y });
    fitOf(b.x, 60, 500, { family: 'binomial', y: Float64Array.from(b.y, v => (v > 0 ? 1 : 0)) });
    const againBin = fitOf(a.x, 60, 400, { family: 'binomial', y: binomial });
    expect(first.coefs.length).toBeGreaterThan(5);
    expect(again).toEqual(first);
    expect(againBin).toEqual(firstBin);
  });
});
