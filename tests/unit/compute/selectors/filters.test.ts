/**
 * Statistical filters against scipy 1.10 / scikit-learn 1.2 golden fixtures
 * (scripts/fixtures/filters.py; data include p ≫ n, tied integer features and missing values).
 *
 * Tolerances:
 *   ranking (order of `selected` with k = p)       identical
 *   p-values and adjusted p-values (BH/Bonf/Holm)  1e-8 relative
 *   test statistics (t, F, U, H, r)                1e-10 relative (+1e-12 absolute near 0)
 *   variances, fold changes                        1e-12 relative
 * Missing values: reference = scipy with nan_policy='omit' (f_oneway on the observed values).
 */
import { parseArgs } from '../../../../compute/core/args';
import { type Dataset } from '../../../../compute/core/dataset';
import {
  quietContext,
  type SelectorDef,
  type SelectorResult,
} from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { initTensorBackend, tf } from '../../../../compute/core/tensor';
import { getSelector, selectors } from '../../../../compute/registry';
import { correlationFilterEngines } from '../../../../compute/selectors/correlation_filter';
import { simdGemmAvailable } from '../../../../compute/kernels/simd-gemm';
import { expectClose, goldenDataset, loadGolden, type GoldenDataset } from './filters-fixture';

const P_RTOL = 1e-8;
const STAT_RTOL = 1e-10;

interface TestExpectation {
  statistic: (number | null)[];
  pValues: (number | null)[];
  adjusted: Record<'bh' | 'bonferroni' | 'holm', (number | null)[]>;
  ranking: number[];
}

async function run(
  code: string,
  ds: Dataset,
  raw: Record<string, unknown> = {},
  k?: number,
  seed = 42,
): Promise<SelectorResult> {
  const def = getSelector(code);
  return def.run(ds, parseArgs(def.args, raw) as never, quietContext(seed), k);
}

function values(ds: Dataset, record: unknown): number[] {
  const r = record as Record<string, number | null>;
  return ds.featureNames.map(f => r[f] ?? NaN);
}

/** statistic, p-values, adjusted p-values (all three methods) and ranking vs the reference. */
async function checkTest(
  code: string,
  ds: Dataset,
  exp: TestExpectation,
  raw: Record<string, unknown> = {},
): Promise<void> {
  const res = await run(code, ds, { ...raw, p_adjust: 'none' }, ds.nFeatures);
  expectClose(values(ds, res.diagnostics.statistic), exp.statistic, STAT_RTOL, 1e-12);
  expectClose(values(ds, res.diagnostics.pValues), exp.pValues, P_RTOL);
  expect(res.selected).toEqual(exp.ranking.map(j => ds.featureNames[j]));
  for (const method of ['bh', 'bonferroni', 'holm'] as const) {
    const adj = await run(code, ds, { ...raw, p_adjust: method });
    expectClose(values(ds, adj.diagnostics.adjustedPValues), exp.adjusted[method], P_RTOL);
    // Own rule: adjusted p ≤ alpha, in rank order.
    const expected = exp.ranking
      .filter(j => exp.adjusted[method][j] !== null && exp.adjusted[method][j]! <= 0.05)
      .map(j => ds.featureNames[j]);
    expect(adj.selected).toEqual(expected);
    expect(adj.diagnostics.nSignificant).toBe(expected.length);
  }
}

describe.each([
  ['binary.json', 'complete data, p ≫ n'],
  ['binary_missing.json', '10% missing values'],
])('binary filters (%s: %s)', file => {
  const g = loadGolden<GoldenDataset>(file);
  const ds = goldenDataset(g);
  const e = g.expected as Record<string, TestExpectation>;

  it('t_test (Welch) = scipy ttest_ind(equal_var=False)', () =>
    checkTest('t_test', ds, e.t_test_welch!));
  it('t_test (Student) = scipy ttest_ind(equal_var=True)', () =>
    checkTest('t_test', ds, e.t_test_student!, { equal_var: true }));
  it("mann_whitney = scipy mannwhitneyu(method='asymptotic')", () =>
    checkTest('mann_whitney', ds, e.mann_whitney!));
  it('anova = sklearn f_classif', () => checkTest('anova', ds, e.anova!));
  it('kruskal = scipy kruskal (two groups)', () => checkTest('kruskal', ds, e.kruskal!));

  it('fold_change = log2 ratio of group means (and difference for log_input)', async () => {
    const fc = e.fold_change as unknown as {
      log2FoldChange: (number | null)[];
      ranking: number[];
      logInput: { log2FoldChange: (number | null)[]; ranking: number[] };
    };
    const res = await run('fold_change', ds, {}, ds.nFeatures);
    expectClose(values(ds, res.diagnostics.log2FoldChange), fc.log2FoldChange, 1e-12);
    expect(res.selected).toEqual(fc.ranking.map(j => ds.featureNames[j]));
    const log = await run('fold_change', ds, { log_input: true }, ds.nFeatures);
    expectClose(
      values(ds, log.diagnostics.log2FoldChange),
      fc.logInput.log2FoldChange,
      1e-12,
      1e-14,
    );
    expect(log.selected).toEqual(fc.logInput.ranking.map(j => ds.featureNames[j]));
  });
});

describe('binary-only references', () => {
  const g = loadGolden<GoldenDataset>('binary.json');
  const ds = goldenDataset(g);
  it('variance_threshold = sklearn VarianceThreshold (population variance)', async () => {
    const vt = g.expected.variance_threshold as {
      variances: number[];
      ranking: number[];
      keptThreshold0: number[];
    };
    const res = await run('variance_threshold', ds, {}, ds.nFeatures);
    expectClose(values(ds, res.scores), vt.variances, 1e-12);
    expect(res.selected).toEqual(vt.ranking.map(j => ds.featureNames[j]));
    const own = await run('variance_threshold', ds, { threshold: 1.2 });
    const expected = vt.ranking.filter(j => vt.variances[j]! > 1.2).map(j => ds.featureNames[j]);
    expect(own.selected).toEqual(expected);
  });
  it('correlation_filter with f_classif relevance = numpy greedy reference', async () => {
    const res = await run('correlation_filter', ds, { threshold: 0.3 });
    const kept = g.expected['correlation_filter_0.3'] as number[];
    expect(res.selected).toEqual(kept.map(j => ds.featureNames[j]));
  });
});

describe('multiclass filters', () => {
  const g = loadGolden<GoldenDataset>('multiclass.json');
  const ds = goldenDataset(g);
  const e = g.expected as Record<string, TestExpectation>;
  it('anova = sklearn f_classif (3 classes)', () => checkTest('anova', ds, e.anova!));
  it('kruskal = scipy kruskal (3 classes)', () => checkTest('kruskal', ds, e.kruskal!));
});

describe('continuous filters', () => {
  const g = loadGolden<GoldenDataset>('continuous.json');
  const ds = goldenDataset(g);
  const e = g.expected as Record<string, TestExpectation>;
  it('anova = sklearn f_regression', () => checkTest('anova', ds, e.anova!));
  it('correlation (pearson) = scipy pearsonr, ranked by |r|', () =>
    checkTest('correlation', ds, e.pearson!));
  it('correlation (spearman) = scipy spearmanr, with ties', () =>
    checkTest('correlation', ds, e.spearman!, { method: 'spearman' }));
});

describe('correlation_filter = numpy greedy reference', () => {
  const g = loadGolden<GoldenDataset>('correlated.json');
  const e = g.expected as Record<string, number[]>;
  const cont = goldenDataset(g);
  const bin = goldenDataset(g, {
    kind: 'binary',
    labels: Int32Array.from(g.labels!),
    classes: ['low', 'high'],
  });
  const none = goldenDataset(g, { kind: 'none' });
  const names = (idx: number[]) => idx.map(j => cont.featureNames[j]);
  it.each([
    ['continuous_pearson_0.8', cont, { threshold: 0.8 }],
    ['continuous_spearman_0.8', cont, { threshold: 0.8, method: 'spearman' }],
    ['binary_pearson_0.8', bin, { threshold: 0.8 }],
    ['variance_pearson_0.7', none, { threshold: 0.7 }],
    ['variance_spearman_0.7', none, { threshold: 0.7, method: 'spearman' }],
    ['variance_pearson_0.7', cont, { threshold: 0.7, relevance: 'variance' }],
  ] as [string, Dataset, Record<string, unknown>][])('%s', async (key, ds, raw) => {
    const res = await run('correlation_filter', ds, raw);
    expect(res.selected).toEqual(names(e[key]!));
    expect(res.diagnostics.nKept).toBe(e[key]!.length);
    // every dropped feature names the kept feature that dropped it, with |r| ≥ threshold
    const dropped = res.diagnostics.dropped as Record<string, { by: string; r: number }>;
    expect(Object.keys(dropped).length).toBe(ds.nFeatures - e[key]!.length);
    for (const d of Object.values(dropped)) {
      expect(res.selected).toContain(d.by);
      expect(Math.abs(d.r)).toBeGreaterThanOrEqual(raw.threshold as number);
    }
  });
  it('k keeps the most relevant kept features', async () => {
    const res = await run('correlation_filter', cont, { threshold: 0.8 }, 5);
    expect(res.selected).toEqual(names(e['continuous_pearson_0.8']!.slice(0, 5)));
  });
  it('missing values use pairwise-complete correlations', async () => {
    const data = Float64Array.from(cont.data);
    data[3] = NaN; // feature 0, sample 3
    data[cont.nSamples * 7 + 5] = NaN; // feature 7, sample 5
    const res = await run('correlation_filter', { ...cont, data }, { threshold: 0.8 });
    // Removing one value per column moves r by far less than the gaps around 0.8 here.
    expect(res.selected).toEqual(names(e['continuous_pearson_0.8']!));
  });
});

describe('filter contracts', () => {
  const mine = [
    'variance_threshold',
    'fold_change',
    't_test',
    'anova',
    'mann_whitney',
    'kruskal',
    'correlation',
    'correlation_filter',
  ];
  const g = loadGolden<GoldenDataset>('binary.json');
  const ds = goldenDataset(g);

  it('are registered with code, label, reference, tasks and documented args', () => {
    for (const code of mine) {
      const def = selectors.find(s => s.code === code) as SelectorDef | undefined;
      expect(def).toBeDefined();
      expect(def!.label.length).toBeGreaterThan(0);
      expect(def!.reference.length).toBeGreaterThan(0);
      expect(def!.tasks.length).toBeGreaterThan(0);
      for (const spec of Object.values(def!.args)) expect(spec.doc.length).toBeGreaterThan(0);
    }
  });

  it('top k keeps exactly k features and reports every feature score', async () => {
    const res = await run('t_test', ds, {}, 5);
    expect(res.selected).toHaveLength(5);
    expect(Object.keys(res.scores)).toHaveLength(ds.nFeatures);
    expect(res.params).toMatchObject({ equal_var: false, p_adjust: 'bh', alpha: 0.05 });
    expect(res.backend).toBe('float64');
  });

  it('same seed → identical output', async () => {
    for (const code of ['t_test', 'mann_whitney', 'correlation_filter']) {
      const a = await run(code, ds, {}, undefined, 7);
      const b = await run(code, ds, {}, undefined, 7);
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    }
  });

  it('stops when aborted, within one chunk of features', async () => {
    // 6,000 features → three chunks; abort from the first progress report.
    const n = 8;
    const p = 6000;
    const data = new Float64Array(n * p);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 101;
    const big: Dataset = {
      ...ds,
      nSamples: n,
      nFeatures: p,
      data,
      featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
      sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
      outcome: {
        kind: 'binary',
        labels: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]),
        classes: ['a', 'b'],
      },
    };
    for (const code of ['t_test', 'mann_whitney', 'correlation_filter']) {
      const ctl = new AbortController();
      const seen: number[] = [];
      const def = getSelector(code);
      const ctx = {
        ...quietContext(1, ctl.signal),
        progress: (f: number) => {
          seen.push(f);
          if (f > 0) ctl.abort();
        },
      };
      await expect(def.run(big, parseArgs(def.args, {}) as never, ctx)).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(seen.filter(f => f > 0)).toHaveLength(1);
    }
  });

  it('rejects outcomes it cannot use, naming the outcome kind', async () => {
    const cont = goldenDataset(loadGolden<GoldenDataset>('continuous.json'));
    await expect(run('t_test', cont)).rejects.toThrow(/continuous/);
    await expect(run('correlation', ds)).rejects.toThrow(/binary/);
  });

  it('fold_change reports undefined ratios of non-positive means as NaN', async () => {
    const data = Float64Array.from(ds.data);
    for (let i = 0; i < ds.nSamples; i++) data[i] = -1; // feature g1 all negative
    const res = await run('fold_change', { ...ds, data }, {});
    expect(res.diagnostics.undefinedRatio).toEqual(['g1']);
    expect(res.scores.g1).toBeNaN();
    expect(res.selected).not.toContain('g1');
    const pc = await run('fold_change', { ...ds, data }, { log_input: true });
    expect(pc.scores.g1).toBeCloseTo(0, 12);
  });

  it('p-values stay ranked where they underflow double precision', async () => {
    // Two perfectly separated features with different effect sizes: p < 1e-308 for both.
    const n = 400;
    const data = new Float64Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      data[i] = labels[i]! * 100 + (i % 7) * 0.01;
      data[n + i] = labels[i]! * 50 + (i % 7) * 0.01;
    }
    const tiny: Dataset = {
      ...ds,
      nSamples: n,
      nFeatures: 2,
      data,
      featureNames: ['strong', 'weaker'],
      sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
      outcome: { kind: 'binary', labels, classes: ['a', 'b'] },
    };
    const res = await run('t_test', tiny, {}, 2);
    expect(res.scores.strong).toBeGreaterThan(res.scores.weaker!);
    expect(Number.isFinite(res.scores.strong)).toBe(true);
    expect(res.selected).toEqual(['strong', 'weaker']);
  });
});

/** 1,200 features in blocks of 8 sharing a factor: many |r| near any threshold. */
function factorBlocks(): Dataset {
  const n = 200;
  const p = 1200;
  const rng = new Rng(3);
  const data = new Float64Array(n * p);
  let latent = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    if (j % 8 === 0) latent = Float64Array.from({ length: n }, () => rng.normal());
    const noise = 0.2 + rng.random();
    // every fifth block is pure noise: rows without any hit take the no-readback path
    const signal = j % 40 < 32 ? 1 : 0;
    for (let i = 0; i < n; i++) data[j * n + i] = signal * latent[i]! + noise * rng.normal();
  }
  // missing values: their pairs are computed exactly on both paths
  data[5] = NaN;
  data[n * 100 + 3] = NaN;
  data[n * 1001 + 7] = NaN;
  return {
    nSamples: n,
    nFeatures: p,
    data,
    featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
    sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
    outcome: { kind: 'none' },
  };
}

/**
 * Engine switches for a describe block: `gramMaxFeatures` 0 sends 1,200 features past the
 * whole-Gram screen (to the banded Gram, or with `bands` false to TensorFlow.js).
 */
function withEngines(engines: Partial<typeof correlationFilterEngines>): void {
  const saved = { ...correlationFilterEngines };
  beforeAll(() => {
    Object.assign(correlationFilterEngines, engines);
  });
  afterAll(() => {
    Object.assign(correlationFilterEngines, saved);
  });
}

/** The TensorFlow.js screen is for sizes above the Gram screens': switched off around them. */
function withoutGramScreen(): void {
  withEngines({ gramMaxFeatures: 0, bands: false });
}

describe.each([
  ['whole', { bands: false }, undefined],
  // 1,200 features in three 512-row bands (two runs: 6)
  ['banded', { gramMaxFeatures: 0, bands: true }, (n: number) => n === 6],
  // bands capped by bandBytes at 80 rows (64 + 16, the floor): at least 15 per run
  [
    'banded, 80-row bands',
    { gramMaxFeatures: 0, bands: true, bandBytes: 1200 * 8 * 80 },
    (n: number) => n >= 30,
  ],
] as const)('correlation_filter Gram screen (wasm SIMD, %s)', (_, engines, bandCount) => {
  withEngines(engines);
  (simdGemmAvailable() ? it : it.skip)(
    'gives the float64 decisions, screened blocks and exact fallback blocks alike',
    async () => {
      const ds = factorBlocks();
      const n = ds.nSamples;
      // one strong common factor in the last 400 features (|r| ≈ 0.5–0.8 among them): the
      // bound passes most of their pairs, so those blocks are computed exactly instead
      const rng = new Rng(17);
      const common = Float64Array.from({ length: n }, () => rng.normal());
      for (let j = 800; j < 1200; j++) {
        for (let i = 0; i < n; i++) ds.data[j * n + i] = ds.data[j * n + i]! * 0.3 + common[i]!;
      }
      const blocks: { screened: number; exact: number; bands?: number } = { screened: 0, exact: 0 };
      for (const threshold of [0.6, 0.95]) {
        const exact = await run('correlation_filter', ds, { threshold, use_tensors: false });
        const screened = await run('correlation_filter', ds, { threshold });
        expect(exact.backend).toBe('float64');
        expect(screened.backend).toBe('wasm-simd+float64');
        expect(screened.selected).toEqual(exact.selected);
        expect(screened.diagnostics.dropped).toEqual(exact.diagnostics.dropped);
        expect(screened.diagnostics.pairsRecomputed).toBeGreaterThan(0);
        const used = screened.diagnostics.gramBlocks as typeof blocks;
        blocks.screened += used.screened;
        blocks.exact += used.exact;
        if (used.bands !== undefined) blocks.bands = (blocks.bands ?? 0) + used.bands;
        expect(exact.selected.length).toBeGreaterThan(100);
        expect(exact.selected.length).toBeLessThan(ds.nFeatures);
      }
      expect(blocks.screened).toBeGreaterThan(0);
      expect(blocks.exact).toBeGreaterThan(0);
      // the banded engine moved through the rows band by band
      if (!bandCount) expect(blocks.bands).toBeUndefined();
      else expect([blocks.bands, bandCount(blocks.bands ?? 0)]).toEqual([blocks.bands, true]);
    },
  );

  (simdGemmAvailable() ? it : it.skip)(
    'small n (all coordinates in the head), Spearman',
    async () => {
      const n = 20;
      const p = 1100;
      const rng = new Rng(23);
      const data = Float64Array.from({ length: n * p }, () => rng.normal());
      for (let j = 1; j < p; j += 50) {
        for (let i = 0; i < n; i++) data[j * n + i] = data[(j - 1) * n + i]! + 0.3 * rng.normal();
      }
      const ds: Dataset = {
        nSamples: n,
        nFeatures: p,
        data,
        featureNames: Array.from({ length: p }, (_, j) => `g${j}`),
        sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
        outcome: { kind: 'none' },
      };
      for (const method of ['pearson', 'spearman']) {
        const exact = await run('correlation_filter', ds, { method, use_tensors: false });
        const screened = await run('correlation_filter', ds, { method });
        expect(screened.backend).toBe('wasm-simd+float64');
        expect(screened.selected).toEqual(exact.selected);
        expect(screened.diagnostics.dropped).toEqual(exact.diagnostics.dropped);
        expect(Object.keys(exact.diagnostics.dropped as object).length).toBeGreaterThan(5);
      }
    },
  );
});

describe('correlation_filter tensor screening', () => {
  withoutGramScreen();
  it('gives the float64 decisions on TensorFlow.js and leaks no tensor', async () => {
    const ds = factorBlocks();
    const p = ds.nFeatures;
    await initTensorBackend();
    const before = tf.memory().numTensors;
    const blocks = { coarse: 0, full: 0 };
    for (const threshold of [0.6, 0.95]) {
      const exact = await run('correlation_filter', ds, { threshold, use_tensors: false });
      const screened = await run('correlation_filter', ds, { threshold });
      expect(exact.backend).toBe('float64');
      expect(screened.backend).toMatch(/\+float64$/);
      expect(screened.selected).toEqual(exact.selected);
      expect(screened.diagnostics.dropped).toEqual(exact.diagnostics.dropped);
      expect(screened.diagnostics.pairsRecomputed).toBeGreaterThan(0);
      const used = screened.diagnostics.tensorBlocks as typeof blocks;
      blocks.coarse += used.coarse;
      blocks.full += used.full;
      expect(exact.selected.length).toBeGreaterThan(100);
      expect(exact.selected.length).toBeLessThan(p);
    }
    // both the bound-only blocks and the all-coordinate fallback were exercised
    expect(blocks.coarse).toBeGreaterThan(0);
    expect(blocks.full).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('correlation_filter row-max screen', () => {
  withoutGramScreen();
  it('gives the float64 decisions when unstructured data switch to the row-max screen', async () => {
    // 500 × 2,600 noise (tail norms tight, few rows with a candidate: the row-max screen takes
    // over after the first block), with late copies of early features to be dropped.
    const n = 500;
    const p = 2600;
    const rng = new Rng(11);
    const data = new Float64Array(n * p);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    for (let j = 2000; j < 2600; j += 37) {
      const src = j - 1900;
      for (let i = 0; i < n; i++) data[j * n + i] = data[src * n + i]! + 0.2 * rng.normal();
    }
    const ds: Dataset = {
      nSamples: n,
      nFeatures: p,
      data,
      featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
      sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
      outcome: { kind: 'none' },
    };
    await initTensorBackend();
    const before = tf.memory().numTensors;
    const exact = await run('correlation_filter', ds, { use_tensors: false });
    const screened = await run('correlation_filter', ds, {});
    expect(screened.selected).toEqual(exact.selected);
    expect(screened.diagnostics.dropped).toEqual(exact.diagnostics.dropped);
    expect(Object.keys(exact.diagnostics.dropped as object).length).toBeGreaterThan(10);
    const used = screened.diagnostics.tensorBlocks as { byRowMax: number };
    expect(used.byRowMax).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('robustness regressions (tests/unit/compute/robustness)', () => {
  it('Welch p-values do not depend on the scale of the data (1e150, 1e-150)', async () => {
    // The Welch–Satterthwaite df squared the group variances: Inf/Inf at ~1e150, 0/0 at
    // ~1e-150, so every p-value was NaN and nothing was selected.
    const rng = new Rng(3);
    const n = 24;
    const p = 3;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const base = Float64Array.from({ length: n * p }, (_, c) => rng.normal() + ((c % n) % 2));
    const outcome = { kind: 'binary' as const, labels, classes: ['a', 'b'] as [string, string] };
    const names = ['f1', 'f2', 'f3'];
    const ds = (scale: number): Dataset => ({
      nSamples: n,
      nFeatures: p,
      data: base.map(v => v * scale),
      featureNames: names,
      sampleIds: Array.from(labels, (_, i) => `s${i}`),
      outcome,
    });
    const ref = await run('t_test', ds(1), { p_adjust: 'none' });
    for (const scale of [1e150, 1e-150]) {
      const res = await run('t_test', ds(scale), { p_adjust: 'none' });
      const pv = res.diagnostics.pValues as Record<string, number>;
      const rp = ref.diagnostics.pValues as Record<string, number>;
      for (const f of names) expect(pv[f]).toBeCloseTo(rp[f]!, 12);
      expect(res.selected).toEqual(ref.selected);
    }
  });
});
