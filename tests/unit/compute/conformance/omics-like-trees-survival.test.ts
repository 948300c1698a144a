/**
 * Conformance on omics-like data (issue #5 methods): RNA-seq log2(CPM+1) with an imbalanced binary
 * outcome, methylation betas with a rare class, proteomics with missing values and a continuous
 * outcome, sparse single-cell counts, months-resolution survival with heavy ties and censoring,
 * and the real survival::veteran / lung / pbc sets. Data + references:
 * `scripts/fixtures/omics_like_trees.py` (numpy, sklearn 1.2.1, xgboost 1.7.4) and
 * `scripts/fixtures/omics_like_survival.R` (survival, glmnet) → tests/fixtures/golden/omics_like_ts/.
 *
 * Selectors run through the CLI code path in-process: `main(['select', …, '--json'])` of
 * compute/cli/main.ts (CSV parsing → outcome typing → args → selector → the one JSON object).
 *
 * Tolerances (issue #5 + README "Conformance on omics-like data"):
 * - mRMR FCQ order exact; ReliefF / RReliefF weights 1e-10 absolute;
 * - univariate Cox coef 1e-4 vs coxph defaults, HR 1e-4 relative, p 1e-4 relative (coxph's
 *   default convergence), BH from our p; glmnet cox at fixed λ 1e-4; multivariable Efron 1e-6
 *   (tight coxph), Breslow survival curves 1e-6; Harrell's C and its counts exact;
 * - SVC decision values 1e-8, support-vector counts exact; kNN probabilities 1e-12;
 * - hdg / heg: top-k order exact (ties by column), scores 1e-12 relative;
 * - stochastic (random_forest, gradient_boosting, rfe, boruta, penalised-Cox CV): recall of the
 *   informative set at least the worst of the reference's three seeds at the same settings;
 *   gradient_boosting regression: mean recall over seeds vs XGBoost's 100 (see that test).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../../../compute/core/args';
import { fromRows, subsetSamples, type Dataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { loadDataset } from '../../../../compute/cli/dataset';
import { main } from '../../../../compute/cli/main';
import { coxModel, type CoxModel, type CoxModelArgs } from '../../../../compute/models/cox';
import { knn } from '../../../../compute/models/knn';
import { svm, type SvmArgs, type SvmModel } from '../../../../compute/models/svm';
import { harrellC as metricHarrellC } from '../../../../compute/metrics/survival';
import { harrellC } from '../../../../compute/survival/concordance';
import {
  boostingArgs,
  boostingImportance,
  fitGradientBoosting,
  type BoostingArgs,
} from '../../../../compute/trees/gb';
import { fitRandomForest, forestArgs, type ForestArgs } from '../../../../compute/trees/rf';
import {
  gbRecallReference,
  meanSe,
  ourGbRecalls,
} from '../../../../scripts/fixtures/omics_like_gb_recall_lib';

const DIR = join(__dirname, '..', '..', '..', 'fixtures', 'golden', 'omics_like_ts');
const csv = (name: string) => join(DIR, name);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const trees = JSON.parse(readFileSync(join(DIR, 'trees_reference.json'), 'utf8')) as Json;
const exact = JSON.parse(readFileSync(join(DIR, 'trees_exact.json'), 'utf8')) as Json;
const extra = JSON.parse(readFileSync(join(DIR, 'extra_reference.json'), 'utf8')) as Json;
const surv = JSON.parse(readFileSync(join(DIR, 'survival_reference.json'), 'utf8')) as Json;

interface SelectJson {
  method: string;
  task: string;
  selected: string[];
  scores: Record<string, number | null>;
  params: Record<string, unknown>;
  diagnostics: Json;
}

/** `omicselector select …` in-process: exit code, stdout (the JSON object) and stderr. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation(((
    chunk: string,
    cb?: (e?: Error) => void,
  ) => {
    out += chunk;
    cb?.();
    return true;
  }) as typeof process.stdout.write);
  const e = jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
    err += chunk;
    return true;
  }) as typeof process.stderr.write);
  try {
    const code = await main(['node', 'omicselector', ...argv]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function select(method: string, file: string, ...rest: string[]): Promise<SelectJson> {
  const r = await cli(['select', method, '--input', csv(file), ...rest, '--json']);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as SelectJson;
}

const params = (p: Record<string, string | number>) =>
  Object.entries(p).flatMap(([key, v]) => ['--param', `${key}=${v}`]);

/** Column names as the fixture scripts write them. */
const rnaName = (j: number) => `ENSG${String(j).padStart(5, '0')}`;
const cgName = (j: number) => `cg${String(1000 + 37 * j).padStart(7, '0')}`;
const protName = (j: number) => `P${String(10000 + 13 * j).padStart(5, '0')}`;
const cellGene = (j: number) => `Gene${String(j).padStart(3, '0')}`;
const survGene = (j: number) => `gene${String(j + 1).padStart(3, '0')}`;

const recall = (selected: string[], informative: string[]) =>
  informative.filter(f => selected.includes(f)).length / informative.length;

function closeRel(ours: number | null | undefined, ref: number | null, rel: number): void {
  if (ref === null) {
    expect(ours === null || Number.isNaN(ours)).toBe(true);
    return;
  }
  expect(typeof ours).toBe('number');
  expect(Math.abs(ours! - ref)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(ref)));
}

// ------------------------------------------------------------------ RNA-seq, binary, imbalanced
describe('RNA-seq log2(CPM+1), 60 normal / 20 tumor, 80 × 300', () => {
  const ref = trees.rnaseq_binary as Json;
  const file = 'rnaseq_binary.csv';
  const informative = (ref.informative as number[]).map(rnaName);
  const target = ['--target', 'condition'];

  it('mRMR FCQ order is exactly the numpy reference (constant genes never picked)', async () => {
    const r = await select('mrmr', file, ...target, '--k', '20');
    expect(r.task).toBe('binary');
    expect(r.selected).toEqual((ref.mrmr_order as number[]).map(rnaName));
    const constant = [...(ref.zero as number[]), ...(ref.constant as number[])].map(rnaName);
    for (const f of constant) expect(r.selected).not.toContain(f);
  });

  it('ReliefF (all instances, k = 10) weights match the numpy reference to 1e-10', async () => {
    const r = await select('relieff', file, ...target, ...params({ n_neighbors: 10 }));
    (ref.relieff as number[]).forEach((w, j) =>
      expect(Math.abs(r.scores[rnaName(j)]! - w)).toBeLessThanOrEqual(1e-10),
    );
    // a gene and its exact duplicate weigh the same; a constant gene weighs 0
    for (const [a, b] of ref.duplicates as [number, number][]) {
      expect(r.scores[rnaName(a)]).toBe(r.scores[rnaName(b)]);
    }
    expect(r.scores[rnaName(90)]).toBe(0);
  });

  it('random_forest (300 trees) recalls the informative genes at least as well as sklearn', async () => {
    const r = await select(
      'random_forest',
      file,
      ...target,
      '--k',
      '15',
      ...params({ n_estimators: 300 }),
    );
    expect(recall(r.selected, informative)).toBeGreaterThanOrEqual(Math.min(...ref.rf_recall));
    const again = await select(
      'random_forest',
      file,
      ...target,
      '--k',
      '15',
      ...params({ n_estimators: 300 }),
    );
    expect(again.selected).toEqual(r.selected); // same seed, same output
  });

  it('gradient_boosting (gain) recalls at least as well as XGBoost at the same settings', async () => {
    const r = await select(
      'gradient_boosting',
      file,
      ...target,
      '--k',
      '15',
      ...params({
        n_estimators: 100,
        max_depth: 3,
        learning_rate: 0.1,
        subsample: 0.8,
        colsample_bytree: 0.8,
      }),
    );
    expect(recall(r.selected, informative)).toBeGreaterThanOrEqual(Math.min(...ref.gb_recall));
  });

  it('rfe (random forest, step 0.1, 15 features) recalls at least as well as sklearn RFE', async () => {
    const r = await select(
      'rfe',
      file,
      ...target,
      ...params({
        estimator: 'random_forest',
        estimator_params: '{"n_estimators":100}',
        n_features_to_select: 15,
        step: 0.1,
      }),
    );
    expect(r.selected).toHaveLength(15);
    expect(recall(r.selected, informative)).toBeGreaterThanOrEqual(Math.min(...ref.rfe_recall));
  });

  it('constant / all-zero genes: never selected by any own rule; mRMR with k = 300 stops at the 294 genes with F > 0', async () => {
    const constant = [...(ref.zero as number[]), ...(ref.constant as number[])].map(rnaName);
    const m = await select('mrmr', file, ...target, '--k', '300');
    expect(m.selected).toHaveLength(294);
    for (const method of ['random_forest', 'gradient_boosting', 'relieff']) {
      const r = await select(method, file, ...target);
      expect(r.selected.length).toBeGreaterThan(0);
      for (const f of constant) {
        expect(r.selected).not.toContain(f);
        expect(r.scores[f]).toBe(0);
      }
    }
  });

  it('boruta (30 iterations, 100 trees) confirms at least as much as the BorutaPy loop', async () => {
    const r = await select(
      'boruta',
      file,
      ...target,
      ...params({ max_iter: 30, n_estimators: 100 }),
    );
    const bor = ref.boruta as { recall: number; false: number }[];
    expect(recall(r.selected, informative)).toBeGreaterThanOrEqual(
      Math.min(...bor.map(b => b.recall)),
    );
    const falsePos = r.selected.filter(f => !informative.includes(f)).length;
    expect(falsePos).toBeLessThanOrEqual(Math.max(...bor.map(b => b.false)) + 1);
  });

  describe('models on a fixed stratified split (every 4th sample of each class held out)', () => {
    let train: Dataset;
    let test: Dataset;
    beforeAll(async () => {
      const { dataset } = await loadDataset({ input: csv(file), target: 'condition' });
      const testRows = ref.test_rows as number[];
      const trainRows = Array.from({ length: dataset.nSamples }, (_, i) => i).filter(
        i => !testRows.includes(i),
      );
      train = subsetSamples(dataset, trainRows);
      test = subsetSamples(dataset, testRows);
    });

    it.each([
      ['rbf', 1],
      ['linear', 0.1],
    ] as const)('svm %s: decision values match sklearn SVC to 1e-8', async (kernel, C) => {
      const a = parseArgs(svm.args, { kernel, C }) as unknown as SvmArgs;
      const model = (await svm.fit(train, a, quietContext(1))) as SvmModel;
      const dec = model.decisionFunction(test);
      (ref[`svm_${kernel}_dec`] as number[]).forEach((v, i) =>
        expect(Math.abs(dec[i]! - v)).toBeLessThanOrEqual(1e-8),
      );
      const state = model.save() as { state: { nSV: number } };
      expect(state.state.nSV).toBe(ref[`svm_${kernel}_nsv`]);
    });

    it('knn (k = 5): probabilities match sklearn to 1e-12', async () => {
      const model = await knn.fit(train, parseArgs(knn.args, {}) as never, quietContext(1));
      const pred = model.predict(test);
      if (pred.kind !== 'class') throw new Error('class prediction expected');
      (ref.knn_proba as number[]).forEach((v, i) =>
        expect(Math.abs(pred.proba[2 * i + 1]! - v)).toBeLessThanOrEqual(1e-12),
      );
    });
  });
});

// ------------------------------------------------------------------ mRMR MID / MIQ
describe('mRMR MID / MIQ (equal-frequency bins, plug-in MI) on zero-inflated and continuous data', () => {
  const mi = JSON.parse(readFileSync(join(DIR, 'mrmr_mi.json'), 'utf8')) as Json;
  it.each([
    ['rnaseq', 'mid', 'rnaseq_binary.csv', 'condition', rnaName],
    ['rnaseq', 'miq', 'rnaseq_binary.csv', 'condition', rnaName],
    ['proteomics', 'mid', 'proteomics_continuous.csv', 'response', protName],
    ['proteomics', 'miq', 'proteomics_continuous.csv', 'response', protName],
  ] as const)(
    '%s %s: k = 15 order exact, relevance 1e-12',
    async (set, variant, file, target, name) => {
      const r = await select('mrmr', file, '--target', target, '--k', '15', ...params({ variant }));
      expect(r.selected).toEqual((mi[`${set}_${variant}`] as number[]).map(name));
      (mi[`${set}_relevance`] as number[]).forEach((v, j) =>
        expect(Math.abs(r.diagnostics.relevance[name(j)] - v)).toBeLessThanOrEqual(1e-12),
      );
    },
  );
});

// ------------------------------------------------------------------ fixed-structure trees
interface XgbNode {
  feature: number;
  leaf: number;
  gain: number;
  cover: number;
  missing_left?: boolean;
}
const relClose = (a: number, b: number, tol: number) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

describe('single trees on the omics-like CSVs (deterministic parts)', () => {
  it.each([
    ['xgb_rnaseq', 'rnaseq_binary.csv', 'condition'],
    ['xgb_proteomics_na', 'proteomics_continuous_na.csv', 'response'],
    ['xgb_methylation', 'methylation_multiclass.csv', 'subtype'],
  ] as const)(
    '%s: XGBoost hist rounds — same split features and default directions, leaves 1e-6, cover 1e-5, gain 1e-4',
    async (key, file, target) => {
      const c = exact[key] as Json;
      const { dataset } = await loadDataset({ input: csv(file), target });
      const args = parseArgs(boostingArgs, {
        n_estimators: c.rounds,
        max_depth: c.max_depth,
        learning_rate: 0.3,
        objective: c.objective,
      }) as unknown as BoostingArgs;
      const { fit } = await fitGradientBoosting(dataset, args, quietContext(1));
      expect(fit.trees).toHaveLength(c.trees.length);
      fit.trees.forEach((tree, t) => {
        const want = c.trees[t] as XgbNode[];
        expect(Array.from(tree.feature.subarray(0, tree.nNodes), f => (f < 0 ? -1 : f))).toEqual(
          want.map(n => n.feature),
        );
        want.forEach((node, id) => {
          if (node.feature < 0) {
            expect(Math.abs(tree.value[id]! - node.leaf)).toBeLessThanOrEqual(1e-6);
          } else {
            relClose(tree.impurity[id]!, node.gain, 1e-4);
            expect(tree.missingLeft[id] === 1).toBe(node.missing_left);
          }
          relClose(tree.weight[id]!, node.cover, 1e-5);
        });
      });
      const gain = boostingImportance(fit.trees, dataset.nFeatures, 'gain');
      for (let j = 0; j < dataset.nFeatures; j++) {
        relClose(gain[j]!, (c.gain as Record<string, number>)[String(j)] ?? 0, 1e-4);
      }
    },
  );

  // Finding F5 (fixed): with more than 256 distinct values per feature (400 samples here) the
  // forests' equal-count bins are not XGBoost's hist cuts; gradient boosting now bins with
  // XGBoost's weighted quantile sketch (compute/trees/boosting-sketch.ts) and the trees match.
  it('xgb_large: > 256 distinct values, trees identical to XGBoost hist (F5): features, default directions, leaves 1e-6, cover 1e-5, gain 1e-4', async () => {
    const c = exact.xgb_large as Json;
    const { dataset } = await loadDataset({
      input: csv('proteomics_large_binary.csv'),
      target: 'status',
    });
    const args = parseArgs(boostingArgs, {
      n_estimators: 2,
      max_depth: 3,
    }) as unknown as BoostingArgs;
    const { fit } = await fitGradientBoosting(dataset, args, quietContext(1));
    expect(fit.trees).toHaveLength(c.trees.length);
    fit.trees.forEach((tree, t) => {
      const want = c.trees[t] as XgbNode[];
      expect(Array.from(tree.feature.subarray(0, tree.nNodes), f => (f < 0 ? -1 : f))).toEqual(
        want.map(n => n.feature),
      );
      want.forEach((node, id) => {
        if (node.feature < 0) {
          expect(Math.abs(tree.value[id]! - node.leaf)).toBeLessThanOrEqual(1e-6);
        } else {
          relClose(tree.impurity[id]!, node.gain, 1e-4);
          expect(tree.missingLeft[id] === 1).toBe(node.missing_left);
        }
        relClose(tree.weight[id]!, node.cover, 1e-5);
      });
    });
  });

  it('xgb_large: > 256 distinct values — the top two levels split on XGBoost’s features', async () => {
    const c = exact.xgb_large as Json;
    const { dataset } = await loadDataset({
      input: csv('proteomics_large_binary.csv'),
      target: 'status',
    });
    const args = parseArgs(boostingArgs, {
      n_estimators: 2,
      max_depth: 3,
    }) as unknown as BoostingArgs;
    const { fit } = await fitGradientBoosting(dataset, args, quietContext(1));
    fit.trees.forEach((tree, t) => {
      const want = c.trees[t] as XgbNode[];
      for (let id = 0; id < 3; id++) expect(tree.feature[id]).toBe(want[id]!.feature);
      relClose(tree.weight[0]!, want[0]!.cover, 1e-5);
    });
  });

  // sklearn breaks ties between equally good features by its random feature order; nodes listed
  // in `tied_nodes` (and, in preorder, everything after the first one) are therefore not compared.
  it.each([
    ['cart_rnaseq', 'rnaseq_binary.csv', 'condition', 'none'],
    ['cart_rnaseq_balanced', 'rnaseq_binary.csv', 'condition', 'balanced'],
    ['cart_methylation', 'methylation_multiclass.csv', 'subtype', 'none'],
    ['cart_proteomics', 'proteomics_continuous.csv', 'response', 'none'],
  ] as const)(
    '%s: CART (one tree, all features) — preorder prefix before the first tie identical',
    async (key, file, target, classWeight) => {
      const c = exact[key] as Json;
      const { dataset } = await loadDataset({ input: csv(file), target });
      const args = {
        ...(parseArgs(forestArgs, {}) as unknown as ForestArgs),
        n_estimators: 1,
        max_depth: c.max_depth,
        min_samples_leaf: c.min_samples_leaf,
        max_features: 'all',
        bootstrap: false,
        class_weight: classWeight,
      } as ForestArgs;
      const { fit } = await fitRandomForest(dataset, args, quietContext(1));
      const tree = fit.trees[0]!;
      const firstTie = Math.min(...(c.tied_nodes as number[]), c.n_nodes as number);
      // balanced weights on this strong signal: several genes split the root's children
      // perfectly (impurity 0), so only the root is unambiguous there
      expect(firstTie).toBeGreaterThanOrEqual(classWeight === 'balanced' ? 1 : 2);
      // an exact duplicate column counts as its original (either gives the same tree)
      const canon = (f: number) => (f < 0 ? -2 : (c.canonical as number[])[f]!);
      for (let t = 0; t < firstTie; t++) {
        expect(canon(tree.feature[t]!)).toBe(canon(c.feature[t]));
        // sklearn thresholds are float32-value midpoints (it casts X to float32): 1e-6 relative
        if (c.feature[t] >= 0) relClose(tree.threshold[t]!, c.threshold[t], 1e-6);
      }
    },
  );
});

// ------------------------------------------------------------------ methylation, rare class
describe('methylation betas, classes 50 / 32 / 8, 90 × 250', () => {
  const ref = trees.methylation_multiclass as Json;
  const file = 'methylation_multiclass.csv';
  const target = ['--target', 'subtype'];

  it('mRMR FCQ order exact', async () => {
    const r = await select('mrmr', file, ...target, '--k', '20');
    expect(r.task).toBe('multiclass');
    expect(r.selected).toEqual((ref.mrmr_order as number[]).map(cgName));
  });

  it('ReliefF weights (class priors, rare class) to 1e-10', async () => {
    const r = await select('relieff', file, ...target);
    (ref.relieff as number[]).forEach((w, j) =>
      expect(Math.abs(r.scores[cgName(j)]! - w)).toBeLessThanOrEqual(1e-10),
    );
  });

  it('SVC (rbf, OvO) decision values 1e-8, predictions and SV count exact; kNN probabilities 1e-12', async () => {
    const { dataset } = await loadDataset({ input: csv(file), target: 'subtype' });
    const testRows = extra.meth_test_rows as number[];
    const train = subsetSamples(
      dataset,
      Array.from({ length: dataset.nSamples }, (_, i) => i).filter(i => !testRows.includes(i)),
    );
    const test = subsetSamples(dataset, testRows);
    const model = (await svm.fit(
      train,
      parseArgs(svm.args, {}) as unknown as SvmArgs,
      quietContext(1),
    )) as SvmModel;
    const dec = model.decisionFunction(test);
    (extra.meth_svm_dec as number[]).forEach((v, i) =>
      expect(Math.abs(dec[i]! - v)).toBeLessThanOrEqual(1e-8),
    );
    const pred = model.predict(test);
    if (pred.kind !== 'class') throw new Error('class prediction expected');
    expect(Array.from(pred.labels)).toEqual(extra.meth_svm_pred);
    expect((model.save() as { state: { nSV: number } }).state.nSV).toBe(extra.meth_svm_nsv);
    const k = await knn.fit(train, parseArgs(knn.args, {}) as never, quietContext(1));
    const kp = k.predict(test);
    if (kp.kind !== 'class') throw new Error('class prediction expected');
    (extra.meth_knn_proba as number[]).forEach((v, i) =>
      expect(Math.abs(kp.proba[i]! - v)).toBeLessThanOrEqual(1e-12),
    );
  });

  it('random_forest recall ≥ sklearn', async () => {
    const r = await select(
      'random_forest',
      file,
      ...target,
      '--k',
      '10',
      ...params({ n_estimators: 300 }),
    );
    const inf = (ref.informative as number[]).map(cgName);
    expect(recall(r.selected, inf)).toBeGreaterThanOrEqual(Math.min(...ref.rf_recall));
  });
});

// ------------------------------------------------------------------ proteomics, missing values
describe('proteomics log2 intensities, continuous response, 70 × 200', () => {
  const ref = trees.proteomics_continuous as Json;
  const target = ['--target', 'response'];

  it('mRMR FCQ (f_regression) order exact on the imputed matrix', async () => {
    const r = await select('mrmr', 'proteomics_continuous.csv', ...target, '--k', '15');
    expect(r.task).toBe('continuous');
    expect(r.selected).toEqual((ref.mrmr_order as number[]).map(protName));
  });

  it('RReliefF weights to 1e-10', async () => {
    const r = await select('relieff', 'proteomics_continuous.csv', ...target);
    (ref.rrelieff as number[]).forEach((w, j) =>
      expect(Math.abs(r.scores[protName(j)]! - w)).toBeLessThanOrEqual(1e-10),
    );
  });

  it('random_forest regression recall ≥ sklearn (max_features 1/3)', async () => {
    const r = await select(
      'random_forest',
      'proteomics_continuous.csv',
      ...target,
      '--k',
      '10',
      ...params({ n_estimators: 300 }),
    );
    const inf = (ref.informative as number[]).map(protName);
    expect(recall(r.selected, inf)).toBeGreaterThanOrEqual(Math.min(...ref.rf_recall));
  });

  // XGBoost's side: XGBRegressor (reg:squarederror) over seeds 0–99 (omics_like_gb_recall.py
  // continuous). Ours over 40 seeds keeps the test ~5 s; one seed's recall moves in steps of 1/8,
  // so the means are compared: ours may trail by at most 3 standard errors of the difference
  // (a false failure ~0.1 % of seed sets if both recall alike; a 0.05 shortfall fails).
  it('gradient_boosting regression (gain): top-10 recall over 40 seeds not below XGBoost beyond noise', async () => {
    const xgb = meanSe(gbRecallReference('continuous').gain);
    const seeds = Array.from({ length: 40 }, (_, s) => s);
    const ours = meanSe(await ourGbRecalls('continuous', 'gain', seeds));
    expect(ours.mean).toBeGreaterThanOrEqual(xgb.mean - 3 * Math.hypot(ours.se, xgb.se));
  });

  it('NA cells: mrmr / relieff refuse with the first incomplete feature named (exit 1)', async () => {
    const first = protName((ref.na_features as number[])[0]!);
    for (const m of ['mrmr', 'relieff']) {
      const r = await cli([
        'select',
        m,
        '--input',
        csv('proteomics_continuous_na.csv'),
        ...target,
        '--k',
        '5',
        '--json',
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('missing values');
      expect(r.err).toContain(`"${first}"`);
    }
  });

  it.each([
    ['heg', 'mean', 'na_mean'],
    ['heg', 'median', 'na_median'],
    ['heg', 'sum', 'na_sum'],
    ['hdg', 'variance', 'na_variance'],
    ['hdg', 'cv', 'na_cv'],
  ] as const)(
    'NA cells: %s %s skips missing values like numpy nan-functions (1e-12)',
    async (m, metric, key) => {
      const r = await select(m, 'proteomics_continuous_na.csv', '--k', '20', ...params({ metric }));
      (extra[key] as number[]).forEach((v, j) => closeRel(r.scores[protName(j)], v, 1e-12));
    },
  );

  it('NA cells: trees use the missing bin; informative proteins still found', async () => {
    const r = await select(
      'random_forest',
      'proteomics_continuous_na.csv',
      ...target,
      '--k',
      '10',
      ...params({ n_estimators: 300 }),
    );
    const inf = (ref.informative as number[]).map(protName);
    expect(Object.values(r.scores).every(v => v !== null && Number.isFinite(v))).toBe(true);
    expect(recall(r.selected, inf)).toBeGreaterThanOrEqual(Math.min(...ref.rf_recall) - 0.125);
  });
});

// ------------------------------------------------------------------ single-cell counts
describe('single-cell counts, 150 cells × 400 genes (~76 % zeros)', () => {
  const ref = trees.singlecell_counts as Json;
  const file = 'singlecell_counts.csv';

  // Finding F1 (fixed in compute/selectors/hdg.ts): genes with the same multiset of counts
  // (Gene223 / Gene299, Gene088 / Gene115 here: 18 ones and 2 twos, 19 ones and 3 twos) have
  // mathematically equal CV; a two-pass float sum (numpy's, and ours before) gives them values
  // that differ in the last bit, so they were ordered by rounding noise. Count columns now use
  // exact integer moments: bit-identical scores, ties ordered by column as documented. (numpy's
  // own order of these pairs is rounding noise, so it is not compared bit for bit.)
  it('hdg: genes with the same counts tie exactly and are ordered by column (F1)', async () => {
    const r = await select(
      'hdg',
      file,
      '--k',
      '50',
      ...params({ metric: 'cv', min_mean: ref.min_mean }),
    );
    for (const [a, b] of [
      [223, 299],
      [88, 115],
    ] as const) {
      const ga = cellGene(a);
      const gb = cellGene(b);
      expect(r.scores[ga]).toBe(r.scores[gb]);
      const ia = r.selected.indexOf(ga);
      const ib = r.selected.indexOf(gb);
      expect(ia).toBeGreaterThanOrEqual(0);
      expect(ib).toBe(ia + 1);
    }
  });

  it('hdg cv with min_mean: top 50 order up to exact ties, scores 1e-12, own rule', async () => {
    const r = await select(
      'hdg',
      file,
      '--k',
      '50',
      ...params({ metric: 'cv', min_mean: ref.min_mean }),
    );
    const cv = ref.cv as number[];
    const top = ref.hdg_cv_top50 as number[];
    expect(r.selected).toHaveLength(50);
    // position by position the reference CV of our pick equals that of numpy's pick (1e-12)
    r.selected.forEach((f, i) => {
      const j = Number(f.slice(4));
      expect(Math.abs(cv[j]! - cv[top[i]!]!)).toBeLessThanOrEqual(1e-12 * cv[j]!);
    });
    cv.forEach((v, j) => {
      if ((ref.mean as number[])[j]! < ref.min_mean) {
        expect(r.scores[cellGene(j)] ?? NaN).toBeNaN(); // below min_mean: excluded, score NaN
        return;
      }
      closeRel(r.scores[cellGene(j)], v, 1e-12);
    });
    const own = await select('hdg', file, ...params({ metric: 'cv', min_mean: ref.min_mean }));
    expect(own.selected.slice().sort()).toEqual(
      (ref.hdg_cv_own_rule as number[]).map(cellGene).sort(),
    );
  });

  it('hdg vs scanpy "seurat" flavour: documented as a different definition (overlap reported)', async () => {
    const r = await select(
      'hdg',
      file,
      '--k',
      '50',
      ...params({ metric: 'cv', min_mean: ref.min_mean }),
    );
    const seurat = (ref.scanpy_seurat_top50 as number[]).map(cellGene);
    const markers = (ref.markers as number[]).map(cellGene);
    const overlap = r.selected.filter(f => seurat.includes(f)).length;
    // Not a conformance target (hdg follows OmicSelector2's CV rule on raw values); the numbers
    // are in the README: CV on raw sparse counts favours rare low-count genes over markers.
    expect(overlap).toBeLessThan(50);
    expect(markers.filter(f => seurat.includes(f)).length).toBeGreaterThanOrEqual(
      markers.filter(f => r.selected.includes(f)).length,
    );
  });

  it('hdg variance top 50 exact', async () => {
    const r = await select('hdg', file, '--k', '50', ...params({ metric: 'variance' }));
    expect(r.selected).toEqual((ref.hdg_var_top50 as number[]).map(cellGene));
  });

  it.each([
    ['mean', 50, 'heg_mean_top50'],
    ['sum', 50, 'heg_sum_top50'],
    ['median', 20, 'heg_median_top20'],
  ] as const)('heg %s top %d exact (ties by column)', async (metric, k, key) => {
    const r = await select('heg', file, '--k', String(k), ...params({ metric }));
    expect(r.selected).toEqual((ref[key] as number[]).map(cellGene));
    (ref[metric] as number[]).forEach((v, j) => closeRel(r.scores[cellGene(j)], v, 1e-12));
  });

  it('heg percentile 90 keeps exactly the genes at or above numpy’s 90th percentile', async () => {
    const r = await select('heg', file, ...params({ metric: 'mean', percentile: 90 }));
    expect(r.selected.slice().sort()).toEqual((ref.heg_mean_p90 as number[]).map(cellGene).sort());
  });
});

// ------------------------------------------------------------------ survival
/**
 * glmnet's cox objective −ℓ_Breslow(β)/n + λ[(1−α)/2 Σ(β_j s_j)² + α Σ|β_j| s_j] with s_j the
 * population sd (standardize = TRUE), to tell a less converged fit from a different optimum.
 */
function coxnetObjective(ds: Dataset, beta: number[], lambda: number, l1: number): number {
  const o = ds.outcome;
  if (o.kind !== 'survival') throw new Error('survival outcome expected');
  const n = ds.nSamples;
  const eta = new Float64Array(n);
  let pen = 0;
  beta.forEach((b, j) => {
    const col = ds.data.subarray(j * n, (j + 1) * n);
    let m = 0;
    for (const v of col) m += v / n;
    let v2 = 0;
    for (const v of col) v2 += ((v - m) * (v - m)) / n;
    const sd = Math.sqrt(v2);
    pen += (l1 * Math.abs(b) * sd + ((1 - l1) / 2) * b * b * sd * sd) * lambda;
    if (b !== 0) for (let i = 0; i < n; i++) eta[i] += b * col[i]!;
  });
  let ll = 0;
  for (let i = 0; i < n; i++) {
    if (!o.event[i]) continue;
    let den = 0;
    for (let h = 0; h < n; h++) if (o.time[h]! >= o.time[i]!) den += Math.exp(eta[h]!);
    ll += eta[i]! - Math.log(den);
  }
  return -ll / n + pen;
}

const SURV = ['--time', 'os_months', '--event', 'os_event'];

function checkUnivariate(r: SelectJson, u: Json, names: string[]): void {
  const d = r.diagnostics;
  names.forEach((f, j) => {
    if (u.coef[j] === null) {
      expect(d.coef[f] === null || Number.isNaN(d.coef[f])).toBe(true);
      expect(r.selected).not.toContain(f);
      return;
    }
    expect(Math.abs(d.coef[f] - u.coef[j])).toBeLessThanOrEqual(1e-4);
    closeRel(d.hazard_ratio[f], u.hr[j], 1e-4);
    closeRel(d.se[f], u.se[j], 1e-4);
    expect(Math.abs(d.p_value[f] - u.p[j])).toBeLessThanOrEqual(1e-4 * Math.max(u.p[j], 1e-12));
    expect(Math.abs(d.p_adjusted[f] - u.bh[j])).toBeLessThanOrEqual(1e-4 * u.bh[j]);
  });
}

describe('survival, 120 × 200, whole months, heavy censoring and ties', () => {
  const ref = surv.surv_omics as Json;
  const names = Array.from({ length: Number(ref.p) }, (_, j) => survGene(j));
  let data: Dataset;
  beforeAll(async () => {
    data = (
      await loadDataset({ input: csv('surv_omics.csv'), time: 'os_months', event: 'os_event' })
    ).dataset;
    expect(names).toHaveLength(200);
  });
  const inf = (ref.informative as number[]).map(survGene);

  it('data really has the awkward shape (censoring, tied event / censoring months)', () => {
    expect(ref.censored_fraction[0]).toBeGreaterThanOrEqual(0.6);
    expect(ref.tied_event_censor_times[0]).toBeGreaterThan(5);
  });

  it('univariate Cox (Efron): coef / HR / se / p / BH match coxph; constant genes NaN, unselected', async () => {
    const r = await select('cox', 'surv_omics.csv', ...SURV);
    checkUnivariate(r, ref.uni, names);
    // the exact duplicate gets the identical fit
    expect(r.diagnostics.coef.gene063).toBe(r.diagnostics.coef.gene012);
  });

  it('univariate Cox with ties = breslow matches coxph(ties = "breslow")', async () => {
    const r = await select('cox', 'surv_omics.csv', ...SURV, ...params({ ties: 'breslow' }));
    checkUnivariate(r, ref.uni_breslow, names);
    // with 30 distinct months the tie handling matters: Efron and Breslow differ visibly
    const diff = names.filter(
      (_, j) =>
        ref.uni.coef[j] !== null && Math.abs(ref.uni.coef[j] - ref.uni_breslow.coef[j]) > 1e-3,
    );
    expect(diff.length).toBeGreaterThan(10);
  });

  it.each([
    ['lasso', 'lasso', 1],
    ['elastic_net', 'enet', 0.5],
  ] as const)('%s at fixed λ: coefficients match glmnet to 1e-4', async (penalty, key, l1) => {
    // gene063 is an exact copy of gene012: the lasso optimum is not unique (any split of their
    // total is optimal; glmnet's and ours differ, e.g. 0.01329 + 0.00285 vs 0.01595 + 0.00019 at
    // λ = 0.08), so for the lasso the pair is compared through its sum and the objective.
    // The elastic net's ridge part makes the split unique (equal halves), compared as is.
    const lams = ref.lambdas as number[];
    for (let l = 0; l < lams.length; l++) {
      const r = await select(
        'cox',
        'surv_omics.csv',
        ...SURV,
        ...params({ penalty, alpha: lams[l]!, l1_ratio: l1 }),
      );
      const refBeta = (ref[key] as number[][])[l]!;
      const ours = names.map(f => r.diagnostics.coef[f] as number);
      refBeta.forEach((b, j) => {
        if (l1 === 1 && (j === 11 || j === 62)) return;
        expect(Math.abs(ours[j]! - b)).toBeLessThanOrEqual(1e-4);
      });
      expect(Math.abs(ours[11]! + ours[62]! - refBeta[11]! - refBeta[62]!)).toBeLessThanOrEqual(
        1e-4,
      );
      expect(coxnetObjective(data, ours, lams[l]!, l1)).toBeLessThanOrEqual(
        coxnetObjective(data, refBeta, lams[l]!, l1) + 1e-9,
      );
      // constant / all-zero genes (gene017, gene140) stay at exactly 0
      expect(ours[16]).toBe(0);
      expect(ours[139]).toBe(0);
    }
  });

  it('lasso CV (10 folds, lambda.min): as many informative genes as cv.glmnet’s worst fold draw', async () => {
    const r = await select('cox', 'surv_omics.csv', ...SURV, ...params({ penalty: 'lasso' }));
    const found = inf.filter(f => r.selected.includes(f)).length;
    expect(found).toBeGreaterThanOrEqual(Math.min(...(ref.cv_informative as number[])));
    const lmin = r.diagnostics.alpha_min as number;
    expect(lmin).toBeGreaterThanOrEqual(Math.min(...ref.cv_lambda_min) / 2);
    expect(lmin).toBeLessThanOrEqual(Math.max(...ref.cv_lambda_min) * 2);
  });

  it('cox model on the informative genes: Efron coef 1e-6, Breslow curves 1e-6, Harrell C exact', async () => {
    const { dataset } = await loadDataset({
      input: csv('surv_omics.csv'),
      time: 'os_months',
      event: 'os_event',
    });
    const idx = ref.informative as number[];
    const sub: Dataset = {
      ...dataset,
      nFeatures: idx.length,
      featureNames: idx.map(survGene),
      data: Float64Array.from(idx.flatMap(j => [...dataset.data.subarray(j * 120, j * 120 + 120)])),
    };
    const a = parseArgs(coxModel.args, {}) as unknown as CoxModelArgs;
    const model = (await coxModel.fit(sub, a, quietContext(1))) as CoxModel;
    (ref.multi_coef as number[]).forEach((b, j) =>
      expect(Math.abs(model.coef[j]! - b)).toBeLessThanOrEqual(1e-6),
    );
    const curves = model.survivalCurves(fromRows(ref.newx, sub.featureNames), ref.surv_time);
    (ref.surv as number[][])
      .flat()
      .forEach((v, i) => expect(Math.abs(curves.survival[i]! - v)).toBeLessThanOrEqual(1e-6));
    const o = dataset.outcome;
    if (o.kind !== 'survival') throw new Error('survival outcome expected');
    for (const [riskKey, cKey, countKey] of [
      ['risk', 'c_risk', 'count_risk'],
      ['coarse', 'c_coarse', 'count_coarse'],
    ] as const) {
      const c = harrellC(ref[riskKey] as number[], o.time, o.event);
      expect([c.concordant, c.discordant, c.tiedRisk, c.tiedTime, c.tiedBoth]).toEqual(
        ref[countKey],
      );
      // the registered c_index metric: bit-identical to survival::concordance
      expect(metricHarrellC(o.time, o.event, ref[riskKey] as number[])).toBe(ref[cKey][0]);
      // compute/survival/concordance.ts's own field: within one ulp (finding F2, see below)
      expect(Math.abs(c.concordance - ref[cKey][0])).toBeLessThanOrEqual(2.3e-16);
    }
  });

  // Finding F2 (fixed): `concordance` was formed as (concordant + tied/2)/pairs; survival::concordance
  // computes ((concordant − discordant)/pairs + 1)/2, which differs in the last bit when risks are
  // tied (coarse risk here: …414 vs R …415). Both now use R's arithmetic.
  it('Harrell C field of compute/survival/concordance.ts bit-identical to R (F2)', async () => {
    const o = data.outcome;
    if (o.kind !== 'survival') throw new Error('survival outcome expected');
    const c = harrellC(ref.coarse as number[], o.time, o.event);
    expect(c.concordance).toBe(ref.c_coarse[0]);
  });
});

describe('real survival sets (survival::veteran, lung, pbc)', () => {
  it('veteran: univariate Cox per covariate matches coxph', async () => {
    const r = await select('cox', 'veteran.csv', '--time', 'time', '--event', 'status');
    const feat = ['trt', 'karno', 'diagtime', 'age', 'prior', 'squamous', 'smallcell', 'adeno'];
    checkUnivariate(r, surv.veteran, feat);
  });

  const lungFeat = ['age', 'sex', 'ph.ecog', 'ph.karno', 'pat.karno', 'meal.cal', 'wt.loss'];
  it('lung (complete cases): univariate Cox matches coxph', async () => {
    const r = await select('cox', 'lung_complete.csv', '--time', 'time', '--event', 'status');
    checkUnivariate(r, surv.lung_complete, lungFeat);
  });

  it('lung with NA cells: refused, naming the first incomplete covariate (coxph would drop rows per feature)', async () => {
    const r = await cli([
      'select',
      'cox',
      '--input',
      csv('lung.csv'),
      '--time',
      'time',
      '--event',
      'status',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing values');
    expect(r.err).toContain('"ph.ecog"');
  });

  describe('monotone likelihood (lung + a covariate equal to the event indicator)', () => {
    // coxph: "Loglik converged before variable 1; coefficient may be infinite", coef 19.77,
    // se 2415, p 0.993. Ours (before any fix): coef 35.0, se 6.6e6, p 0.99999 — both arbitrary
    // points on a likelihood that keeps rising; what matters is the flag and that it is not picked.
    let file: string;
    beforeAll(() => {
      const rows = readFileSync(csv('lung_complete.csv'), 'utf8').trim().split('\n');
      const out = rows.map((line, i) => {
        const cells = line.split(',');
        return [cells[0], i === 0 ? 'mono' : cells[cells.length - 1], ...cells.slice(1)].join(',');
      });
      file = join(mkdtempSync(join(tmpdir(), 'omics-like-')), 'lung_monotone.csv');
      writeFileSync(file, out.join('\n') + '\n');
    });

    it('the feature is not selected and its Wald p is ≈ 1 (as coxph)', async () => {
      const r = await cli([
        'select',
        'cox',
        '--input',
        file,
        '--time',
        'time',
        '--event',
        'status',
        '--json',
      ]);
      expect(r.code).toBe(0);
      const d = (JSON.parse(r.out) as SelectJson).diagnostics;
      expect(d.p_value.mono).toBeGreaterThan(0.99);
      expect(Math.abs(d.coef.mono)).toBeGreaterThan(10);
      expect((JSON.parse(r.out) as SelectJson).selected).not.toContain('mono');
    });

    // Finding F4 (fixed): the loop's |Δℓ| ≤ 1e-15|ℓ| stop marked this feature converged; coxph's
    // infinite-coefficient check (next Newton step large against β) now flags it.
    it('the feature is listed in diagnostics.not_converged (F4)', async () => {
      const r = await cli([
        'select',
        'cox',
        '--input',
        file,
        '--time',
        'time',
        '--event',
        'status',
        '--json',
      ]);
      expect((JSON.parse(r.out) as SelectJson).diagnostics.not_converged).toContain('mono');
    });
  });

  it('event coded 1/2 (R Surv style) and negative times are refused with the cell named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omics-like-'));
    const rows = readFileSync(csv('lung_complete.csv'), 'utf8').trim().split('\n');
    const recoded = rows.map((line, i) => {
      if (i === 0) return line;
      const c = line.split(',');
      c[c.length - 1] = String(Number(c[c.length - 1]) + 1);
      return c.join(',');
    });
    writeFileSync(join(dir, 'a.csv'), recoded.join('\n') + '\n');
    let r = await cli([
      'select',
      'cox',
      '--input',
      join(dir, 'a.csv'),
      '--time',
      'time',
      '--event',
      'status',
      '--json',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('must be 1 (event) or 0 (censored)');
    const negative = rows.map((line, i) => {
      if (i !== 1) return line;
      const c = line.split(',');
      c[c.length - 2] = '-5';
      return c.join(',');
    });
    writeFileSync(join(dir, 'b.csv'), negative.join('\n') + '\n');
    r = await cli([
      'select',
      'cox',
      '--input',
      join(dir, 'b.csv'),
      '--time',
      'time',
      '--event',
      'status',
      '--json',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('negative');
  });

  const pbcFeat = [
    'trt',
    'age',
    'sex',
    'ascites',
    'hepato',
    'spiders',
    'edema',
    'bili',
    'chol',
    'albumin',
    'copper',
    'alk.phos',
    'ast',
    'trig',
    'platelet',
    'protime',
    'stage',
  ];
  const pbcEv = ['--time', 'time', '--event', 'death'];
  it('pbc: univariate Cox matches coxph', async () => {
    checkUnivariate(await select('cox', 'pbc.csv', ...pbcEv), surv.pbc, pbcFeat);
  });

  // Finding F3 (the reference, not us): on pbc's raw-scale covariates glmnet (thresh 1e-14) stops
  // with coefficients up to 5.5e-4 away from ours (albumin −0.67846 vs ours −0.67818, sex …) while
  // its objective is HIGHER than ours (1.7395822735 vs 1.7395822647 at λ = 0.02): ours is the
  // better optimum of a flat objective, so 1e-4 on coefficients cannot be met here.
  it.skip('pbc: lasso at fixed λ within 1e-4 of glmnet (F3: glmnet less converged)', async () => {
    const r = await select(
      'cox',
      'pbc.csv',
      ...pbcEv,
      ...params({ penalty: 'lasso', alpha: 0.02 }),
    );
    (surv.pbc_lasso.beta as number[][])[1]!.forEach((b, j) =>
      expect(Math.abs((r.diagnostics.coef[pbcFeat[j]!] as number) - b)).toBeLessThanOrEqual(1e-4),
    );
  });

  it('pbc: lasso at fixed λ — objective ≤ glmnet’s, coefficients within 1e-3', async () => {
    const { dataset } = await loadDataset({ input: csv('pbc.csv'), time: 'time', event: 'death' });
    const lams = surv.pbc_lasso.lambdas as number[];
    for (let l = 0; l < lams.length; l++) {
      const r = await select(
        'cox',
        'pbc.csv',
        ...pbcEv,
        ...params({ penalty: 'lasso', alpha: lams[l]! }),
      );
      const refBeta = (surv.pbc_lasso.beta as number[][])[l]!;
      const ours = pbcFeat.map(f => r.diagnostics.coef[f] as number);
      refBeta.forEach((b, j) => expect(Math.abs(ours[j]! - b)).toBeLessThanOrEqual(1e-3));
      // same support
      expect(ours.map(b => b !== 0)).toEqual(refBeta.map(b => b !== 0));
      expect(coxnetObjective(dataset, ours, lams[l]!, 1)).toBeLessThanOrEqual(
        coxnetObjective(dataset, refBeta, lams[l]!, 1) + 1e-12,
      );
    }
  });
});
