/**
 * Boruta: binomial tail and BH helpers (exact values), determinism, abort, and recall of the
 * informative features among the confirmed ones at least that of a BorutaPy loop with scikit-learn
 * forests at the same settings (200 trees, max_depth 5, max_iter 50, balanced classes; mean over 5
 * seeds; reference from scripts/fixtures/trees.py → recall.json; tolerance: ours ≥ reference − 0.05).
 */
import { fromRows } from '../../../../compute/core/dataset';
import { parseArgs } from '../../../../compute/core/args';
import { quietContext } from '../../../../compute/core/method';
import {
  bhReject,
  binomCdfHalf,
  binomSfHalf,
  boruta,
  borutaTreeNum,
} from '../../../../compute/selectors/boruta';
import { classOutcome, golden, synthetic } from './helpers';

const args = (over: Record<string, unknown> = {}) => parseArgs(boruta.args, over) as never;

describe('boruta helpers', () => {
  it('binomial tails at p = 1/2 are exact', () => {
    expect(binomCdfHalf(3, 10)).toBeCloseTo(176 / 1024, 14);
    expect(binomSfHalf(8, 10)).toBeCloseTo(56 / 1024, 14);
    expect(binomSfHalf(0, 10)).toBe(1);
    expect(binomCdfHalf(10, 10)).toBe(1);
    expect(binomSfHalf(1, 1)).toBeCloseTo(0.5, 14);
  });

  it('BH rejects the step-up set', () => {
    // sorted p: .001 .008 .039 .041 .042 .06 ; thresholds .05·r/6: .0083 .0167 .025 .033 .0417 .05
    const r = bhReject([0.039, 0.001, 0.06, 0.041, 0.008, 0.042], 0.05);
    expect(Array.from(r)).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it("follows BorutaPy's tree count rule", () => {
    expect(borutaTreeNum(20000, 5)).toBe(Math.floor((40000 / Math.sqrt(40000) / 5) * 100));
    expect(borutaTreeNum(10, null)).toBe(Math.floor((20 / Math.sqrt(20) / 10) * 100));
  });
});

describe('boruta selector', () => {
  const ds = synthetic(120, 40, 3, 'binary', 5);

  it('confirms informative features, is reproducible, reports diagnostics', async () => {
    const a = await boruta.run(ds, args({ n_estimators: 60, max_iter: 30 }), quietContext(1));
    const b = await boruta.run(ds, args({ n_estimators: 60, max_iter: 30 }), quietContext(1));
    expect(b).toEqual(a);
    expect(a.selected.length).toBeGreaterThan(0);
    expect(a.selected.every(f => ['g0', 'g1', 'g2'].includes(f))).toBe(true);
    const d = a.diagnostics as { confirmed: string[]; iterations: number; rejected_count: number };
    expect(d.confirmed).toEqual(expect.arrayContaining(a.selected));
    expect(d.iterations).toBeLessThanOrEqual(29);
    expect(d.rejected_count).toBeGreaterThanOrEqual(25);
    const c = await boruta.run(ds, args({ n_estimators: 60, max_iter: 30 }), quietContext(2));
    expect(c.scores).not.toEqual(a.scores);
  });

  it('top-k ranks confirmed first', async () => {
    const r = await boruta.run(ds, args({ n_estimators: 40, max_iter: 15 }), quietContext(3), 10);
    expect(r.selected).toHaveLength(10);
    const confirmed = (r.diagnostics as { confirmed: string[] }).confirmed;
    expect(r.selected.slice(0, confirmed.length).sort()).toEqual([...confirmed].sort());
  });

  it('aborts', async () => {
    const ac = new AbortController();
    const ctx = { ...quietContext(1), signal: ac.signal, progress: () => ac.abort() };
    await expect(boruta.run(ds, args({ n_estimators: 50 }), ctx)).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

interface Recall {
  data: Record<string, { X: number[][]; y: number[] }>;
  informative: number;
  reference_recall: Record<string, number>;
  settings: { seeds: number[] };
}

describe('boruta recall vs a BorutaPy loop (same settings)', () => {
  it('binary', async () => {
    const fx = golden<Recall>('recall.json');
    const d = fx.data.binary!;
    const ds = fromRows(d.X, undefined, classOutcome(d.y));
    const k = fx.informative;
    let sum = 0;
    for (const seed of fx.settings.seeds) {
      const r = await boruta.run(
        ds,
        args({ n_estimators: 200, max_depth: 5, max_iter: 50 }),
        quietContext(seed),
      );
      sum += r.selected.filter(f => Number(f.slice(1)) <= k).length / k;
    }
    expect(sum / fx.settings.seeds.length).toBeGreaterThanOrEqual(
      fx.reference_recall.boruta_binary! - 0.05,
    );
    // 5 seeds × up to 49 forests: seconds on an idle machine, minutes on the shared 2-core VM
  }, 600_000);
});
