/**
 * The float64 chunked path for glmnet-style base selectors at a fixed alpha (float64.ts) must give
 * exactly the sets of running the registered selector on every subsample (the generic path, forced
 * here by a resolver that is not the registry's): same features in the same rank order, for the
 * own rule, top k and ridge, on Gaussian, binomial and multinomial outcomes, for 1 and 2 threads.
 */
import { makeDataset, type Dataset, type Outcome } from '../../../../compute/core/dataset';
import { type RunContext } from '../../../../compute/core/method';
import { closeThreadPool } from '../../../../compute/core/parallel';
import { Rng } from '../../../../compute/core/rng';
import { registryResolver, type Resolver } from '../../../../compute/evaluation/pipeline';
import { stabilitySelection, type StabilityOptions } from '../../../../compute/stability/stability';

// These designs are tiny: let the float64 path use worker threads anyway (it normally keeps
// jobs under CD_THREAD_MIN_CELLS on the calling thread).
const saved = process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS;
beforeAll(() => {
  process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS = '0';
});
afterAll(async () => {
  if (saved === undefined) delete process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS;
  else process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS = saved;
  await closeThreadPool();
});

const ctx = (seed: number, threads: number): RunContext => ({
  rng: new Rng(seed),
  progress: () => undefined,
  threads,
});

/** The registry's selectors behind a different resolver object: forces the per-subsample path. */
const generic: Resolver = {
  selector: code => registryResolver.selector(code),
  model: code => registryResolver.model(code),
  preprocessor: code => registryResolver.preprocessor(code),
};

function dataset(kind: 'continuous' | 'binary' | 'multiclass', seed: number): Dataset {
  const rng = new Rng(seed);
  const n = 60;
  const p = 150;
  const data = new Float64Array(n * p);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  const lp = Float64Array.from(
    { length: n },
    (_, i) => 1.2 * data[i]! - 1.0 * data[n + i]! + 0.8 * data[2 * n + i]! + 0.5 * rng.normal(),
  );
  let outcome: Outcome;
  if (kind === 'continuous') outcome = { kind, values: lp };
  else if (kind === 'binary') {
    outcome = { kind, labels: Int32Array.from(lp, v => (v > 0 ? 1 : 0)), classes: ['a', 'b'] };
  } else {
    outcome = {
      kind,
      labels: Int32Array.from(lp, v => (v < -0.6 ? 0 : v < 0.6 ? 1 : 2)),
      classes: ['a', 'b', 'c'],
    };
  }
  return makeDataset({
    data,
    nSamples: n,
    featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
    outcome,
  });
}

const cases: Array<[string, 'continuous' | 'binary' | 'multiclass', StabilityOptions]> = [
  ['lasso own rule', 'continuous', { base: 'lasso', base_args: { alpha: 0.08 } }],
  ['lasso top 4', 'continuous', { base: 'lasso', base_args: { alpha: 0.3 }, base_k: 4 }],
  [
    'elastic_net unstandardised',
    'continuous',
    { base: 'elastic_net', base_args: { alpha: 0.1, l1_ratio: 0.3, standardize: false } },
  ],
  ['ridge top 6', 'continuous', { base: 'ridge', base_args: { alpha: 1 }, base_k: 6 }],
  ['lasso binomial', 'binary', { base: 'lasso', base_args: { alpha: 0.04 } }],
  ['elastic_net multinomial', 'multiclass', { base: 'elastic_net', base_args: { alpha: 0.05 } }],
];

describe('float64 chunked path = per-subsample selector runs', () => {
  it.each(cases)('%s', async (_name, kind, base) => {
    const ds = dataset(kind, 3);
    const opts: StabilityOptions = { ...base, n_subsamples: 12, path: 'threads' };
    const reference = await stabilitySelection(ds, opts, ctx(9, 1), generic);
    for (const threads of [1, 2]) {
      const fast = await stabilitySelection(ds, opts, ctx(9, threads));
      expect(fast.path).toBe(threads > 1 ? 'threads' : 'in-process');
      expect(fast.backend).toBe('float64');
      expect(fast.sets.map(s => Array.from(s))).toEqual(reference.sets.map(s => Array.from(s)));
      expect(Array.from(fast.frequency)).toEqual(Array.from(reference.frequency));
      expect(fast.selected).toEqual(reference.selected);
    }
    // Planted features are found (guards against two equally wrong paths).
    for (const f of reference.selected.slice(0, 2)) expect(['x1', 'x2', 'x3']).toContain(f);
  });

  it('small jobs stay on the calling thread by default', async () => {
    process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS = '1e9';
    try {
      const r = await stabilitySelection(
        dataset('continuous', 5),
        { base: 'lasso', base_args: { alpha: 0.1 }, n_subsamples: 6 },
        ctx(1, 2),
      );
      expect(r.path).toBe('in-process');
    } finally {
      process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS = '0';
    }
  });

  it('CV-chosen alpha is not handled here (generic path, still the same result)', async () => {
    const ds = dataset('continuous', 4);
    const opts: StabilityOptions = {
      base: 'lasso',
      base_args: { cv: 3 },
      n_subsamples: 4,
      path: 'threads',
    };
    const a = await stabilitySelection(ds, opts, ctx(2, 1));
    const b = await stabilitySelection(ds, opts, ctx(2, 1), generic);
    expect(a.sets.map(s => Array.from(s))).toEqual(b.sets.map(s => Array.from(s)));
  });
});
