import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import {
  defaultSpace,
  fitSpaceToArgs,
  sampleUniform,
  type ParamSpace,
  type Params,
} from '../../../../compute/tuning/space';
import {
  buildParzen,
  parzenLogPdf,
  suggestTpe,
  type Observation,
} from '../../../../compute/tuning/tpe';
import { tuneModel } from '../../../../compute/tuning/tune';
import { syntheticBinary, testResolver } from '../evaluation/helpers';

const space: ParamSpace = {
  x: { type: 'float', low: -5, high: 5 },
  lr: { type: 'float', low: 1e-4, high: 1, log: true },
  n: { type: 'int', low: 1, high: 50 },
  kind: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
};
// maximum at x = 1.3, lr = 0.01, n = 17, kind = 'c'
const objective = (p: Params): number =>
  -(((p.x as number) - 1.3) ** 2) -
  (Math.log10(p.lr as number) + 2) ** 2 -
  (((p.n as number) - 17) / 10) ** 2 -
  (p.kind === 'c' ? 0 : 1);

function search(strategy: 'tpe' | 'random', seed: number, trials = 60): number {
  const rng = new Rng(seed);
  const history: Observation[] = [];
  let best = -Infinity;
  for (let t = 0; t < trials; t++) {
    const p =
      strategy === 'tpe'
        ? suggestTpe(space, history, rng)
        : Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleUniform(d, rng)]));
    const v = objective(p);
    history.push({ params: p, value: v });
    best = Math.max(best, v);
  }
  return best;
}

describe('TPE', () => {
  it('samples inside the declared space with the right types', () => {
    const rng = new Rng(1);
    const history: Observation[] = [];
    for (let t = 0; t < 30; t++) {
      const p = suggestTpe(space, history, rng);
      expect(p.x).toBeGreaterThanOrEqual(-5);
      expect(p.x).toBeLessThanOrEqual(5);
      expect(p.lr).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr).toBeLessThanOrEqual(1);
      expect(Number.isInteger(p.n)).toBe(true);
      expect(['a', 'b', 'c', 'd']).toContain(p.kind);
      history.push({ params: p, value: objective(p) });
    }
  });

  it('beats random search on a smooth objective (median over 5 seeds)', () => {
    const tpe = [1, 2, 3, 4, 5].map(s => search('tpe', s)).sort((a, b) => a - b);
    const rnd = [1, 2, 3, 4, 5].map(s => search('random', s)).sort((a, b) => a - b);
    expect(tpe[2]!).toBeGreaterThan(rnd[2]!);
    expect(tpe[2]!).toBeGreaterThan(-0.3);
  });

  it('Parzen mixture is a density on its bounds (integrates to 1)', () => {
    const p = buildParzen([0.2, 0.25, 0.9], 0, 1);
    let s = 0;
    const m = 20000;
    for (let i = 0; i < m; i++) s += Math.exp(parzenLogPdf(p, (i + 0.5) / m)) / m;
    expect(s).toBeCloseTo(1, 3);
  });

  it("fits default spaces to a model's declared args", () => {
    const s = fitSpaceToArgs(
      {
        C: { type: 'float', low: 0.001, high: 100, log: true },
        penalty: { type: 'categorical', choices: ['l1', 'l2'] },
        gone: { type: 'int', low: 1, high: 3 },
      },
      {
        C: { type: 'number', min: 0.01, doc: '' },
        penalty: { type: 'enum', values: ['l2', 'none'], doc: '' },
      },
    );
    expect(s).toEqual({
      C: { type: 'float', low: 0.01, high: 100, log: true },
      penalty: { type: 'categorical', choices: ['l2'] },
    });
    expect(defaultSpace('unknown_model', {})).toEqual({});
  });
});

describe('tuneModel (inner CV)', () => {
  const ds = syntheticBinary(9, 60, 20, 4, 1.2);
  const resolver = testResolver();
  const tuneSpace: ParamSpace = {
    shrink: { type: 'float', low: 0, high: 0.9 },
    temperature: { type: 'float', low: 0.1, high: 10, log: true },
  };

  it('returns best params, full history, deterministic for a seed', async () => {
    const run = () =>
      tuneModel(
        'test_centroid',
        ds,
        { strategy: 'tpe', n_trials: 14, space: tuneSpace },
        quietContext(4),
        resolver,
      );
    const a = await run();
    const b = await run();
    expect(a).toEqual({
      ...b,
      trials: b.trials.map((t, i) => ({ ...t, seconds: a.trials[i]!.seconds })),
    });
    expect(a.trials).toHaveLength(14);
    expect(a.metric).toBe('roc_auc');
    expect(a.stopped_by).toBe('n_trials');
    const best = Math.max(...a.trials.map(t => t.score));
    expect(a.best_score).toBe(best);
    expect(a.trials.find(t => t.score === best)!.params).toEqual(a.best_params);
    expect(a.trials.every(t => t.scores_per_fold.length === 3)).toBe(true);
  });

  it('minimises lower-is-better metrics and records failed trials', async () => {
    const r = await tuneModel(
      'test_centroid',
      ds,
      {
        strategy: 'random',
        n_trials: 6,
        metric: 'brier',
        space: { ...tuneSpace, shrink: { type: 'float', low: 0, high: 2 } },
      },
      quietContext(1),
      resolver,
    );
    const ok = r.trials.filter(t => t.state === 'complete');
    const failed = r.trials.filter(t => t.state === 'failed');
    expect(ok.length + failed.length).toBe(6);
    expect(failed.every(t => /shrink/.test(t.error!))).toBe(true);
    expect(r.best_score).toBe(Math.min(...ok.map(t => t.score)));
  });

  it('stops on the time bound after at least one trial', async () => {
    const r = await tuneModel(
      'test_centroid',
      ds,
      { n_trials: 50, timeout_seconds: 1e-9, space: tuneSpace },
      quietContext(1),
      resolver,
    );
    expect(r.trials).toHaveLength(1);
    expect(r.stopped_by).toBe('timeout');
  });
});
