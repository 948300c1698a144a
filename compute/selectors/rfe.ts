/**
 * Recursive feature elimination (Guyon et al. 2002) as scikit-learn's RFE / RFECV, around any
 * registered model exposing `importance()` (tree importances, |coefficients|) or any registered
 * selector (its scores), looked up in the registry at run time.
 *
 * RFE: fit on the current features, drop the `step` least important (an integer count, or a
 * fraction of the ORIGINAL feature count as in scikit-learn), repeat until
 * `n_features_to_select` remain (null: half; the selector's k overrides it). Ties drop the earlier
 * column first. `ranking` as sklearn's `ranking_` (1 = kept, larger = dropped earlier).
 *
 * RFECV (`cv` ≥ 2): on each stratified fold run the same elimination down to
 * `min_features_to_select`, scoring the model fitted at every step on the held-out rows
 * (`scoring`: accuracy, roc_auc (binary), r2; 'auto' = accuracy for classes, r2 otherwise);
 * choose the feature count with the best mean score (ties → fewer features, as sklearn), then run
 * RFE on all rows down to it. Metrics come from the registry when one with that code exists.
 *
 * Scores: elimination rounds survived; selected features add their importance in the final fit
 * scaled into [0, 1), so `selected` is ordered by final importance.
 */
import { ArgumentError, type ArgSpecs, parseArgs } from '../core/args';
import { type Dataset, subsetFeatures, subsetSamples } from '../core/dataset';
import {
  checkAbort,
  type ModelDef,
  type Prediction,
  type RunContext,
  type SelectorDef,
} from '../core/method';
import { rankAndSelect } from '../core/select';
import { stratifiedKfoldSplit } from '../resampling/kfold';
import { accuracy, r2, rocAuc } from '../trees/metrics';

const rfeArgs = {
  estimator: {
    type: 'string',
    default: 'random_forest',
    doc: 'Registry code of a model with importances / coefficients, or of a selector (its scores).',
  },
  estimator_params: {
    type: 'string',
    default: '{}',
    doc: 'JSON object of the estimator\'s own parameters, e.g. {"n_estimators": 200}.',
  },
  n_features_to_select: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    doc: 'Features to keep (null: half, as sklearn); k overrides it.',
  },
  step: {
    type: 'number',
    default: 0.1,
    min: 0,
    exclusiveMin: true,
    doc: "Features dropped per round: ≥ 1 = a count, < 1 = a fraction of the original count (sklearn's default is 1; 0.1 keeps p = 20,000 tractable).",
  },
  cv: {
    type: 'integer',
    default: 0,
    min: 0,
    doc: '0: plain RFE; ≥ 2: RFECV with this many stratified folds.',
  },
  scoring: {
    type: 'enum',
    values: ['auto', 'accuracy', 'roc_auc', 'r2'],
    default: 'auto',
    doc: "RFECV score; 'auto' = accuracy for classes, r2 for a continuous outcome.",
  },
  min_features_to_select: {
    type: 'integer',
    default: 1,
    min: 1,
    doc: 'RFECV: smallest feature count considered.',
  },
} satisfies ArgSpecs;

export interface RfeArgs {
  estimator: string;
  estimator_params: string;
  n_features_to_select: number | null;
  step: number;
  cv: number;
  scoring: 'auto' | 'accuracy' | 'roc_auc' | 'r2';
  min_features_to_select: number;
}

type Estimator =
  | { kind: 'model'; def: ModelDef<never>; args: Record<string, unknown> }
  | { kind: 'selector'; def: SelectorDef<never>; args: Record<string, unknown> };

/** Registry lookup at run time (the registry imports this file). */
function resolveEstimator(code: string, paramsJson: string): Estimator {
  const reg = require('../registry') as typeof import('../registry');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(paramsJson) as Record<string, unknown>;
  } catch {
    throw new ArgumentError('estimator_params', 'must be a JSON object');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ArgumentError('estimator_params', 'must be a JSON object');
  }
  const model = reg.models.find(m => m.code === code);
  if (model) {
    return { kind: 'model', def: model, args: parseArgs(model.args, raw, 'estimator_params.') };
  }
  const sel = reg.selectors.find(s => s.code === code);
  if (sel && code !== 'rfe') {
    return { kind: 'selector', def: sel, args: parseArgs(sel.args, raw, 'estimator_params.') };
  }
  const known = [...reg.models.map(m => m.code), ...reg.selectors.map(s => s.code)];
  throw new ArgumentError('estimator', `unknown estimator "${code}" (known: ${known.join(', ')})`);
}

/** Importance per column of `ds` (higher = keep), from a fitted model or a selector's scores. */
async function importances(
  est: Estimator,
  ds: Dataset,
  ctx: RunContext,
): Promise<{ imp: Float64Array; model: { predict(d: Dataset): Prediction } | null }> {
  let rec: Record<string, number>;
  let model = null;
  if (est.kind === 'model') {
    const fitted = await est.def.fit(ds, est.args as never, ctx);
    if (!fitted.importance) {
      throw new ArgumentError(
        'estimator',
        `model "${est.def.code}" has no importances or coefficients`,
      );
    }
    rec = fitted.importance();
    model = fitted;
  } else {
    rec = (await est.def.run(ds, est.args as never, ctx, 0)).scores;
  }
  const imp = Float64Array.from(ds.featureNames, f => {
    const v = rec[f];
    return v === undefined || Number.isNaN(v) ? -Infinity : v;
  });
  return { imp, model };
}

function score(
  metric: 'accuracy' | 'roc_auc' | 'r2',
  truth: Dataset['outcome'],
  pred: Prediction,
): number {
  const reg = require('../registry') as typeof import('../registry');
  const m = reg.metrics.find(x => x.code === metric);
  if (m) return m.compute(truth, pred);
  if (metric === 'r2') {
    if (truth.kind !== 'continuous' || pred.kind !== 'value') throw new Error('r2 needs values');
    return r2(truth.values, pred.values);
  }
  if ((truth.kind !== 'binary' && truth.kind !== 'multiclass') || pred.kind !== 'class') {
    throw new Error(`${metric} needs class predictions`);
  }
  if (metric === 'accuracy') return accuracy(truth.labels, pred.labels);
  if (truth.kind !== 'binary') throw new ArgumentError('scoring', 'roc_auc needs a binary outcome');
  return rocAuc(
    truth.labels,
    Float64Array.from(truth.labels, (_, i) => pred.proba[2 * i + 1]!),
  );
}

interface PathResult {
  support: Uint8Array;
  ranking: Int32Array;
  /** Feature counts at which a model was fitted (decreasing) and the fold score there. */
  counts: number[];
  scores: number[];
  finalImportance: Float64Array;
}

/**
 * sklearn RFE._fit on `ds` down to `nSelect` features. With `test`, the model fitted at every
 * step is scored on it (RFECV).
 */
async function eliminate(
  est: Estimator,
  ds: Dataset,
  nSelect: number,
  step: number,
  ctx: RunContext,
  test: { ds: Dataset; metric: 'accuracy' | 'roc_auc' | 'r2' } | null,
  onFit: () => void,
): Promise<PathResult> {
  const p = ds.nFeatures;
  const support = new Uint8Array(p).fill(1);
  const ranking = new Int32Array(p).fill(1);
  const counts: number[] = [];
  const scores: number[] = [];
  let round = 0;
  for (;;) {
    checkAbort(ctx.signal);
    const features = Int32Array.from(
      Array.from(support.keys()).filter(j => support[j] === 1),
      j => j,
    );
    const sub = features.length === p ? ds : subsetFeatures(ds, features);
    const fitCtx: RunContext = {
      ...ctx,
      rng: ctx.rng.fork(round++),
      progress: () => undefined,
    };
    const { imp, model } = await importances(est, sub, fitCtx);
    onFit();
    if (test) {
      if (!model) throw new ArgumentError('cv', 'RFECV needs a model estimator, not a selector');
      counts.push(features.length);
      const testSub = subsetFeatures(test.ds, features);
      scores.push(score(test.metric, testSub.outcome, model.predict(testSub)));
    }
    if (features.length <= nSelect) {
      const finalImportance = new Float64Array(p).fill(NaN);
      features.forEach((j, a) => (finalImportance[j] = imp[a]!));
      return { support, ranking, counts, scores, finalImportance };
    }
    const threshold = Math.min(step, features.length - nSelect);
    const order = Array.from(imp.keys()).sort((a, b) => imp[a]! - imp[b]! || a - b);
    for (let t = 0; t < threshold; t++) support[features[order[t]!]!] = 0;
    for (let j = 0; j < p; j++) if (!support[j]) ranking[j]++;
  }
}

/** Number of fits RFE makes from p down to k with a fixed step. */
function fitsFor(p: number, k: number, step: number): number {
  return Math.ceil(Math.max(0, p - k) / step) + 1;
}

export const rfe: SelectorDef<RfeArgs> = {
  kind: 'selector',
  code: 'rfe',
  label: 'Recursive feature elimination',
  description:
    'Repeatedly fit a model (random forest by default, any registered model with importances or coefficients) and drop the least important features; optionally choose the count by cross-validation (RFECV).',
  reference:
    'Guyon, Weston, Barnhill & Vapnik (2002) Gene selection for cancer classification using support vector machines, Machine Learning 46:389–422; scikit-learn RFE / RFECV.',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: rfeArgs,
  async run(ds, args, ctx, k) {
    const p = ds.nFeatures;
    const est = resolveEstimator(args.estimator, args.estimator_params);
    const step = args.step >= 1 ? Math.floor(args.step) : Math.max(1, Math.floor(args.step * p));
    const classes = ds.outcome.kind === 'binary' || ds.outcome.kind === 'multiclass';
    const metric = args.scoring === 'auto' ? (classes ? 'accuracy' : 'r2') : args.scoring;
    let nSelect = k && k > 0 ? k : (args.n_features_to_select ?? Math.floor(p / 2));
    nSelect = Math.max(1, Math.min(p, nSelect));
    const diagnostics: Record<string, unknown> = { step_features: step };
    let fits = 0;
    let totalFits = fitsFor(p, nSelect, step);
    if (args.cv >= 2) {
      if (est.kind !== 'model') {
        throw new ArgumentError('cv', 'RFECV needs a model estimator, not a selector');
      }
      const minK = Math.min(p, args.min_features_to_select);
      totalFits = args.cv * fitsFor(p, minK, step);
      const folds = stratifiedKfoldSplit(ds, args.cv, ctx.rng.fork(0xcf));
      let sums: number[] | null = null;
      let counts: number[] = [];
      for (const [fi, fold] of folds.entries()) {
        const path = await eliminate(
          est,
          subsetSamples(ds, fold.train),
          minK,
          step,
          { ...ctx, rng: ctx.rng.fork(1000 + fi) },
          { ds: subsetSamples(ds, fold.test), metric },
          () => ctx.progress(++fits / (totalFits + fitsFor(p, 1, step)), 'rfecv'),
        );
        counts = path.counts;
        sums = sums ? sums.map((s, a) => s + path.scores[a]!) : path.scores.slice();
      }
      const mean = sums!.map(s => s / folds.length);
      // best mean score; ties → fewer features (sklearn's reversed argmax)
      let best = 0;
      for (let a = 1; a < mean.length; a++) if (!(mean[a]! < mean[best]!)) best = a;
      if (!(k && k > 0)) nSelect = counts[best]!;
      diagnostics.cv_scores = counts.map((c, a) => ({ n_features: c, mean_score: mean[a] }));
      diagnostics.scoring = metric;
      diagnostics.n_features_cv = counts[best];
      totalFits += fitsFor(p, nSelect, step);
    }
    const path = await eliminate(est, ds, nSelect, step, ctx, null, () =>
      ctx.progress(Math.min(1, ++fits / totalFits), 'rfe'),
    );
    const maxRank = Math.max(...path.ranking);
    const fin = path.finalImportance;
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < p; j++) {
      if (path.support[j] && Number.isFinite(fin[j]!)) {
        lo = Math.min(lo, fin[j]!);
        hi = Math.max(hi, fin[j]!);
      }
    }
    const scores = Float64Array.from(path.ranking, (r, j) => {
      let s = maxRank - r;
      if (path.support[j]) {
        const v = fin[j]!;
        s += Number.isFinite(v) && hi > lo ? (0.999 * (v - lo)) / (hi - lo) : 0;
      }
      return s;
    });
    const ranked = rankAndSelect(ds, scores, 0, j => path.support[j] === 1);
    diagnostics.ranking = Object.fromEntries(ds.featureNames.map((f, j) => [f, path.ranking[j]!]));
    diagnostics.n_features = nSelect;
    return {
      selected: ranked.selected,
      scores: ranked.scores,
      params: { ...args, step_features: step, n_features_to_select: nSelect },
      diagnostics,
      backend: 'float64',
    };
  },
};
