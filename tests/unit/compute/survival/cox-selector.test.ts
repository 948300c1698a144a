/**
 * `cox` selector. Tolerances: univariate p-values 1e-9 relative to coxph, BH as p.adjust(method =
 * "BH") on those p-values; penalised coefficients at a fixed alpha 1e-4 against glmnet.
 */
import { parseArgs } from '../../../../compute/core/args';
import { fromRows, type Dataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { cox, type CoxSelectorArgs } from '../../../../compute/selectors/cox';
import { golden } from '../misc/fixture';

const args = (raw: Record<string, unknown> = {}): CoxSelectorArgs =>
  parseArgs(cox.args, raw) as unknown as CoxSelectorArgs;

function survivalDataset(fx: { X: number[][]; time: number[]; status: number[] }): Dataset {
  return fromRows(fx.X, undefined, {
    kind: 'survival',
    time: Float64Array.from(fx.time),
    event: Uint8Array.from(fx.status),
  });
}

function synthSurvival(n: number, p: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => Array.from({ length: p }, () => rng.normal()));
  const time = new Float64Array(n);
  const event = new Uint8Array(n);
  rows.forEach((r, i) => {
    const rate = Math.exp(1.2 * r[0]! - 1.0 * r[1]!);
    const t = -Math.log(1 - rng.random()) / rate;
    const c = -Math.log(1 - rng.random()) / 0.3;
    time[i] = Math.min(t, c);
    event[i] = t <= c ? 1 : 0;
  });
  return fromRows(rows, undefined, { kind: 'survival', time, event });
}

describe('cox selector', () => {
  it('univariate: p-values as coxph, BH-adjusted own rule, score −log10 p', async () => {
    const fx = golden<{ X: number[][]; time: number[]; status: number[]; uni_p: number[] }>(
      'survival',
      'coxph.json',
    );
    const ds = survivalDataset(fx);
    const res = await cox.run(ds, args(), quietContext(1));
    const p = res.diagnostics.p_value as Record<string, number>;
    const adj = res.diagnostics.p_adjusted as Record<string, number>;
    fx.uni_p.forEach((ref, j) => {
      const f = ds.featureNames[j]!;
      expect(Math.abs(p[f]! - ref)).toBeLessThanOrEqual(1e-9 * ref);
      expect(res.scores[f]).toBeCloseTo(-Math.log10(ref), 8);
    });
    // p.adjust BH by hand: sorted descending, cumulative minimum of p·m/rank.
    const m = fx.uni_p.length;
    const order = fx.uni_p.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0]);
    let run = 1;
    order.forEach(([v, j], r) => {
      run = Math.min(run, (v * m) / (m - r));
      expect(adj[ds.featureNames[j]!]).toBeCloseTo(run, 10);
    });
    const expected = ds.featureNames.filter(f => adj[f]! <= 0.05);
    expect(new Set(res.selected)).toEqual(new Set(expected));
    expect(res.selected.length).toBeGreaterThan(0);
  });

  it('lasso at a fixed alpha reproduces glmnet coefficients', async () => {
    const fx = golden<{
      X: number[][];
      time: number[];
      status: number[];
      lambdas: number[];
      lasso: number[][];
    }>('survival', 'coxnet.json');
    const ds = survivalDataset(fx);
    const l = 2;
    const res = await cox.run(
      ds,
      args({ penalty: 'lasso', alpha: fx.lambdas[l] }),
      quietContext(1),
    );
    const coef = res.diagnostics.coef as Record<string, number>;
    fx.lasso[l]!.forEach((b, j) =>
      expect(Math.abs(coef[ds.featureNames[j]!]! - b)).toBeLessThan(1e-4),
    );
    const nonzero = fx.lasso[l]!.map((b, j) => (b !== 0 ? ds.featureNames[j]! : null)).filter(
      Boolean,
    );
    expect(new Set(res.selected)).toEqual(new Set(nonzero));
  });

  it('CV-chosen elastic net finds the true features and is deterministic per seed', async () => {
    const ds = synthSurvival(120, 30, 4);
    const a = await cox.run(
      ds,
      args({ penalty: 'elastic_net', n_alphas: 30, cv: 5 }),
      quietContext(3),
    );
    const b = await cox.run(
      ds,
      args({ penalty: 'elastic_net', n_alphas: 30, cv: 5 }),
      quietContext(3),
    );
    expect(a.selected.slice(0, 2).sort()).toEqual(['f1', 'f2']);
    expect(b).toEqual(a);
    expect(a.params.alpha).toBe(a.diagnostics.alpha_min);
  });

  it('rejects a non-survival outcome and aborts', async () => {
    const ds = fromRows([[1], [2]], undefined, {
      kind: 'continuous',
      values: Float64Array.from([1, 2]),
    });
    await expect(cox.run(ds, args(), quietContext(1))).rejects.toThrow(/survival/);
    const ac = new AbortController();
    ac.abort();
    await expect(
      cox.run(synthSurvival(30, 5, 1), args(), quietContext(1, ac.signal)),
    ).rejects.toThrow(/cancelled/);
  });
});
