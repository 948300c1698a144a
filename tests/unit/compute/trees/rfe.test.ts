/**
 * RFE / RFECV around registered estimators: elimination schedule and ranking as scikit-learn,
 * RFECV diagnostics, errors, determinism, and recall at least scikit-learn RFE's with a random
 * forest at the same settings (100 trees, step 0.1, keep 6; mean over 5 seeds; reference from
 * scripts/fixtures/trees.py → recall.json; tolerance: ours ≥ reference − 0.05).
 */
import { fromRows } from '../../../../compute/core/dataset';
import { parseArgs } from '../../../../compute/core/args';
import { quietContext } from '../../../../compute/core/method';
import { rfe } from '../../../../compute/selectors/rfe';
import { classOutcome, golden, synthetic } from './helpers';

const args = (over: Record<string, unknown> = {}) => parseArgs(rfe.args, over) as never;
const informative = (f: string) => ['g0', 'g1', 'g2', 'g3'].includes(f);

describe('rfe', () => {
  const ds = synthetic(120, 30, 4, 'binary', 31);

  it('eliminates with the sklearn schedule and ranking', async () => {
    const r = await rfe.run(
      ds,
      args({ n_features_to_select: 4, step: 5, estimator_params: '{"n_estimators": 60}' }),
      quietContext(1),
    );
    expect(r.selected).toHaveLength(4);
    expect(r.selected.filter(informative).length).toBeGreaterThanOrEqual(3);
    const ranking = r.diagnostics.ranking as Record<string, number>;
    const ranks = Object.values(ranking);
    expect(ranks.filter(x => x === 1)).toHaveLength(4);
    // 30 → 25 → 20 → 15 → 10 → 5 → 4: ranks 1 … 7, five features per dropped round, one in the last
    expect(Math.max(...ranks)).toBe(7);
    expect(ranks.filter(x => x === 2)).toHaveLength(1);
    expect(ranks.filter(x => x === 7)).toHaveLength(5);
    for (const f of r.selected) expect(ranking[f]).toBe(1);
    // scores follow the ranking
    const worst = Object.keys(ranking).find(f => ranking[f] === 7)!;
    expect(r.scores[worst]!).toBeLessThan(r.scores[r.selected[3]!]!);
  });

  it('k overrides n_features_to_select and results are reproducible', async () => {
    const a = await rfe.run(
      ds,
      args({ estimator_params: '{"n_estimators": 30}' }),
      quietContext(2),
      3,
    );
    const b = await rfe.run(
      ds,
      args({ estimator_params: '{"n_estimators": 30}' }),
      quietContext(2),
      3,
    );
    expect(a.selected).toHaveLength(3);
    expect(b).toEqual(a);
  });

  it('works around gradient boosting and selectors', async () => {
    const g = await rfe.run(
      ds,
      args({ estimator: 'gradient_boosting', estimator_params: '{"n_estimators": 20}', step: 0.2 }),
      quietContext(1),
      4,
    );
    expect(g.selected.filter(informative).length).toBeGreaterThanOrEqual(3);
    const s = await rfe.run(
      ds,
      args({
        estimator: 'boruta',
        estimator_params: '{"n_estimators": 30, "max_iter": 5}',
        step: 10,
      }),
      quietContext(1),
      5,
    );
    expect(s.selected).toHaveLength(5);
  });

  it('RFECV chooses the count by cross-validated score', async () => {
    const r = await rfe.run(
      ds,
      args({ cv: 3, step: 5, estimator_params: '{"n_estimators": 40}' }),
      quietContext(1),
    );
    const d = r.diagnostics as {
      cv_scores: { n_features: number; mean_score: number }[];
      n_features_cv: number;
      scoring: string;
    };
    expect(d.scoring).toBe('accuracy');
    expect(d.cv_scores.map(c => c.n_features)).toEqual([30, 25, 20, 15, 10, 5, 1]);
    const best = Math.max(...d.cv_scores.map(c => c.mean_score));
    const chosen = d.cv_scores.find(c => c.n_features === d.n_features_cv)!;
    expect(chosen.mean_score).toBe(best);
    // ties go to fewer features
    expect(
      d.cv_scores.filter(c => c.mean_score === best).every(c => c.n_features >= d.n_features_cv),
    ).toBe(true);
    expect(r.selected).toHaveLength(d.n_features_cv);
    const auc = await rfe.run(
      ds,
      args({ cv: 3, step: 10, scoring: 'roc_auc', estimator_params: '{"n_estimators": 30}' }),
      quietContext(1),
    );
    const scores = (auc.diagnostics as { cv_scores: { mean_score: number }[] }).cv_scores;
    for (const c of scores) expect(c.mean_score).toBeGreaterThan(0.5);
  });

  it('rejects unknown estimators, selectors under RFECV, and bad estimator_params', async () => {
    await expect(rfe.run(ds, args({ estimator: 'nope' }), quietContext(1))).rejects.toThrow(
      /unknown estimator/,
    );
    await expect(
      rfe.run(ds, args({ estimator: 'boruta', cv: 3 }), quietContext(1)),
    ).rejects.toThrow(/RFECV needs a model/);
    await expect(rfe.run(ds, args({ estimator_params: '[1]' }), quietContext(1))).rejects.toThrow(
      /JSON object/,
    );
    await expect(
      rfe.run(ds, args({ estimator_params: '{"n_trees": 3}' }), quietContext(1)),
    ).rejects.toThrow(/estimator_params.n_trees/);
  });

  it('aborts', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(
      rfe.run(ds, args(), { ...quietContext(1), signal: ac.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});

interface Recall {
  data: Record<string, { X: number[][]; y: number[] }>;
  informative: number;
  reference_recall: Record<string, number>;
  settings: { seeds: number[] };
}

describe('rfe recall vs scikit-learn RFE (same settings)', () => {
  it('binary', async () => {
    const fx = golden<Recall>('recall.json');
    const d = fx.data.binary!;
    const ds = fromRows(d.X, undefined, classOutcome(d.y));
    const k = fx.informative;
    let sum = 0;
    for (const seed of fx.settings.seeds) {
      const r = await rfe.run(ds, args({ step: 0.1, n_features_to_select: k }), quietContext(seed));
      sum += r.selected.filter(f => Number(f.slice(1)) <= k).length / k;
    }
    expect(sum / fx.settings.seeds.length).toBeGreaterThanOrEqual(
      fx.reference_recall.rfe_binary! - 0.05,
    );
  });
});
