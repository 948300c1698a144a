/**
 * Stability selection machinery with the test-only t selector (the real lasso path is exercised
 * by the bench case and by tests that run once the linear selectors are registered).
 * Nogueira index vs the numpy reference in scripts/fixtures/metrics.py: 1e-12.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { nogueiraStability, pferBound } from '../../../../compute/stability/nogueira';
import { drawSubsamples, stabilitySelection } from '../../../../compute/stability/stability';
import { syntheticBinary, testResolver } from '../evaluation/helpers';

const resolver = testResolver();

describe('Nogueira stability index', () => {
  const cases = JSON.parse(
    readFileSync(join(__dirname, '../../../fixtures/golden/metrics/stability.json'), 'utf8'),
  ) as Array<{
    sets: number[][];
    d: number;
    stability: number;
    variance: number;
    lower: number;
    upper: number;
  }>;

  it.each(cases.map((c, i) => [i, c] as const))('case %i matches the numpy reference', (_i, c) => {
    const r = nogueiraStability(c.sets, c.d);
    expect(Math.abs(r.stability - c.stability)).toBeLessThan(1e-12);
    expect(Math.abs(r.variance - c.variance)).toBeLessThan(1e-12);
    expect(Math.abs(r.lower - c.lower)).toBeLessThan(1e-9);
    expect(Math.abs(r.upper - c.upper)).toBeLessThan(1e-9);
  });

  it('is 1 for identical sets and ≈ 0 for random sets of the same size', () => {
    expect(
      nogueiraStability(
        [
          [1, 2, 3],
          [1, 2, 3],
          [1, 2, 3],
        ],
        20,
      ).stability,
    ).toBeCloseTo(1, 12);
    const rng = new Rng(3);
    const phis = Array.from(
      { length: 50 },
      () =>
        nogueiraStability(
          Array.from({ length: 20 }, () => Array.from(rng.sample(100, 10))),
          100,
        ).stability,
    );
    expect(Math.abs(phis.reduce((a, b) => a + b, 0) / phis.length)).toBeLessThan(0.01);
  });

  it('PFER bound follows Meinshausen–Bühlmann', () => {
    expect(pferBound(10, 1000, 0.6)).toBeCloseTo(100 / (0.2 * 1000), 12);
    expect(pferBound(10, 1000, 0.5)).toBeNaN();
  });
});

describe('stabilitySelection', () => {
  const ds = syntheticBinary(21, 60, 120, 4, 2);

  it('draws stratified subsamples of ⌊fraction·n_class⌋ per class, seeded', () => {
    const a = drawSubsamples(ds, 5, 0.5, true, new Rng(1));
    const b = drawSubsamples(ds, 5, 0.5, true, new Rng(1));
    expect(a.map(x => Array.from(x))).toEqual(b.map(x => Array.from(x)));
    const labels = (ds.outcome as { labels: Int32Array }).labels;
    for (const s of a) {
      expect(s.length).toBe(30);
      expect(Array.from(s).filter(i => labels[i] === 1).length).toBe(15);
      expect(new Set(s).size).toBe(30);
    }
    expect(Array.from(a[0]!)).not.toEqual(Array.from(a[1]!));
  });

  it('keeps the planted features, reports frequencies, PFER and Nogueira CI, deterministic', async () => {
    const progress: number[] = [];
    const run = (seed: number) =>
      stabilitySelection(
        ds,
        { base: 'test_t', base_k: 6, n_subsamples: 40, threshold: 0.6 },
        { ...quietContext(seed), progress: f => progress.push(f) },
        resolver,
      );
    const r = await run(5);
    expect(progress).toHaveLength(40);
    expect(progress[39]).toBe(1);
    expect(r.sets).toHaveLength(40);
    expect(r.q).toBe(6);
    expect(r.selected.slice(0, 4).sort()).toEqual(['g1', 'g2', 'g3', 'g4']);
    for (let j = 0; j < 4; j++) expect(r.frequency[j]).toBeGreaterThan(0.9);
    expect(r.pfer_bound).toBeCloseTo(36 / (0.2 * 120), 12);
    expect(r.nogueira.stability).toBeGreaterThan(0.4);
    expect(r.nogueira.lower).toBeLessThan(r.nogueira.stability);
    expect(r.nogueira.upper).toBeGreaterThan(r.nogueira.stability);
    expect(r.path).toBe('in-process');
    const again = await run(5);
    expect(Array.from(again.frequency)).toEqual(Array.from(r.frequency));
    const other = await run(6);
    expect(Array.from(other.frequency)).not.toEqual(Array.from(r.frequency));
  });

  it('honours k and the 0.8 fraction option, and aborts', async () => {
    const r = await stabilitySelection(
      ds,
      { base: 'test_t', base_k: 5, n_subsamples: 10, sample_fraction: 0.8 },
      quietContext(1),
      resolver,
      3,
    );
    expect(r.selected).toHaveLength(3);
    expect(r.sample_fraction).toBe(0.8);
    const ac = new AbortController();
    ac.abort();
    await expect(
      stabilitySelection(
        ds,
        { base: 'test_t', n_subsamples: 10 },
        quietContext(1, ac.signal),
        resolver,
      ),
    ).rejects.toThrow(/cancelled/);
    await expect(
      stabilitySelection(ds, { base: 'nope' }, quietContext(1), resolver),
    ).rejects.toThrow(/unknown selector/);
  });
});
