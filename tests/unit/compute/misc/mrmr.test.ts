/**
 * mRMR. Tolerances: FCQ selection order identical to the numpy FCQ reference
 * (scripts/fixtures/misc.py); relevance (sklearn f_classif / f_regression) within 1e-9 relative.
 */
import { quietContext } from '../../../../compute/core/method';
import { lazyGreedy, mrmr, type MrmrArgs } from '../../../../compute/selectors/mrmr';
import { Rng } from '../../../../compute/core/rng';
import { parseArgs } from '../../../../compute/core/args';
import { classOutcome, datasetFrom, golden, synthClasses, synthContinuous } from './fixture';

interface Fx {
  X: number[][];
  y: number[];
  k: number;
  order: number[];
  relevance: number[];
}

const args = (raw: Record<string, unknown> = {}): MrmrArgs =>
  parseArgs(mrmr.args, raw) as unknown as MrmrArgs;

describe('mrmr', () => {
  it('a reused pool memory gives the same result (a larger run in between)', async () => {
    // The pool's WebAssembly memory goes to the next call on this thread (UnitColumnPool.release):
    // the stale columns of a larger matrix must not leak into a smaller one's result.
    const fx = golden<Fx>('misc', 'mrmr_fcq_classif.json');
    const ds = datasetFrom(fx.X, classOutcome(fx.y));
    const first = await mrmr.run(ds, args(), quietContext(1), fx.k);
    const rng = new Rng(5);
    const big = datasetFrom(
      Array.from({ length: 40 }, () => Array.from({ length: 300 }, () => rng.normal() * 100)),
      classOutcome(Array.from({ length: 40 }, (_, i) => i % 2)),
    );
    await mrmr.run(big, args(), quietContext(1), 10);
    const again = await mrmr.run(ds, args(), quietContext(1), fx.k);
    expect(again.selected).toEqual(first.selected);
    expect(again.diagnostics).toEqual(first.diagnostics);
  });

  it.each([
    ['mrmr_fcq_classif.json', true],
    ['mrmr_fcq_regression.json', false],
  ])('FCQ order equals the numpy reference (%s)', async (file, classif) => {
    const fx = golden<Fx>('misc', file);
    const outcome = classif
      ? classOutcome(fx.y)
      : { kind: 'continuous' as const, values: Float64Array.from(fx.y) };
    const ds = datasetFrom(fx.X, outcome);
    const res = await mrmr.run(ds, args(), quietContext(1), fx.k);
    expect(res.selected).toEqual(fx.order.map(j => ds.featureNames[j]));
    const rel = res.diagnostics.relevance as Record<string, number>;
    fx.relevance.forEach((r, j) => {
      expect(Math.abs(rel[ds.featureNames[j]!]! - r)).toBeLessThanOrEqual(1e-9 * Math.abs(r));
    });
    // Score = selection order, higher = earlier.
    expect(res.scores[res.selected[0]!]).toBe(fx.k);
    expect(res.scores[res.selected[fx.k - 1]!]).toBe(1);
  });

  it('requires k and names it', async () => {
    const ds = synthClasses(20, 5, 2, 1);
    await expect(mrmr.run(ds, args(), quietContext(1))).rejects.toThrow(/^k: /);
  });

  it.each(['mid', 'miq'] as const)(
    '%s finds informative features and skips duplicates',
    async v => {
      const ds = synthClasses(120, 30, 3, 5);
      // Append an exact copy of feature 0: MI redundancy must push it down.
      const n = ds.nSamples;
      const data = new Float64Array(n * 31);
      data.set(ds.data);
      data.set(ds.data.subarray(0, n), 30 * n);
      const dup = { ...ds, data, nFeatures: 31, featureNames: [...ds.featureNames, 'copy0'] };
      const res = await mrmr.run(dup, args({ variant: v, n_bins: 4 }), quietContext(1), 3);
      expect(res.selected.filter(f => ['f1', 'f2', 'f3', 'copy0'].includes(f)).length).toBe(3);
      expect(res.selected.includes('f1') && res.selected.includes('copy0')).toBe(false);
    },
  );

  it('works for a continuous outcome with MI and is deterministic', async () => {
    const ds = synthContinuous(100, 20, 2, 3);
    const a = await mrmr.run(ds, args({ variant: 'miq' }), quietContext(1), 2);
    const b = await mrmr.run(ds, args({ variant: 'miq' }), quietContext(1), 2);
    expect(new Set(a.selected)).toEqual(new Set(['f1', 'f2']));
    expect(b).toEqual(a);
  });

  // The lazy greedy (bounds + catch-up) must reproduce the eager loop bit for bit: same picks,
  // same scores and redundancies, on random terms with many near-ties and with exact ties.
  it.each(['fcq', 'mid', 'miq'] as const)('lazy greedy equals the eager loop (%s)', variant => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Rng(seed);
      const p = 60;
      const relevance = Float64Array.from({ length: p }, (_, j) =>
        j % 7 === 3 ? 2 : rng.random() < 0.1 ? 0 : rng.random() * 3,
      );
      const candidate = Uint8Array.from(relevance, r => (r > 0 ? 1 : 0));
      const T = new Float64Array(p * p);
      for (let a = 0; a < p; a++)
        for (let b = 0; b <= a; b++) {
          const v = (b * 13 + a) % 11 === 0 ? 0.05 : rng.random() * (seed % 2 ? 1 : 0.1);
          const t = variant === 'fcq' ? Math.max(v, 0.001) : v;
          T[a * p + b] = t;
          T[b * p + a] = t;
        }
      const K = Math.min(
        25,
        candidate.reduce((s, c) => s + c, 0),
      );
      // Eager: every candidate gets every term, in pick order.
      const red = new Float64Array(p);
      const live = Uint8Array.from(candidate);
      const eager: number[] = [];
      const eagerScores: number[] = [];
      for (let step = 0; step < K; step++) {
        if (step > 0)
          for (let j = 0; j < p; j++) if (live[j]) red[j] += T[j * p + eager[step - 1]!]!;
        let best = -1;
        let bestScore = -Infinity;
        for (let j = 0; j < p; j++) {
          if (!live[j]) continue;
          const m = red[j]! / step;
          const sc =
            step === 0
              ? relevance[j]!
              : variant === 'mid'
                ? relevance[j]! - m
                : variant === 'fcq' && m === 1
                  ? 0
                  : relevance[j]! / Math.max(m, 0.001);
          if (sc > bestScore) {
            bestScore = sc;
            best = j;
          }
        }
        eager.push(best);
        eagerScores.push(bestScore);
        live[best] = 0;
      }
      const lazy = lazyGreedy(
        variant,
        relevance,
        candidate,
        K,
        (j, s) => T[j * p + s]!,
        () => {},
      );
      expect(lazy.picks).toEqual(eager);
      expect(lazy.pickScores).toEqual(eagerScores);
      expect(lazy.termsComputed).toBeLessThanOrEqual(((K - 1) * K) / 2 + (K - 1) * p);
    }
  });

  it('names the first feature with missing values (fcq classes and mid)', async () => {
    const ds = synthClasses(30, 10, 2, 2);
    const data = ds.data.slice();
    data[3 * 30 + 7] = NaN;
    data[6 * 30 + 1] = NaN;
    const bad = { ...ds, data };
    for (const v of ['fcq', 'mid'] as const) {
      await expect(mrmr.run(bad, args({ variant: v }), quietContext(1), 3)).rejects.toThrow(
        'mrmr needs complete data: feature "f4" has missing values',
      );
    }
  });

  it('reports progress and stops on abort', async () => {
    const ds = synthClasses(30, 10, 2, 2);
    const seen: number[] = [];
    await mrmr.run(ds, args(), { ...quietContext(1), progress: f => seen.push(f) }, 4);
    expect(seen.at(-1)).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(mrmr.run(ds, args(), quietContext(1, ac.signal), 4)).rejects.toThrow(/cancelled/);
  });
});
