/**
 * Signature benchmarking, OmicSelector's core idea made leak-free:
 *  1. one seeded train / test / validation split (60/20/20 stratified by default, or the user's);
 *  2. each candidate signature is selected on the training split only (selectors, stability
 *     selection, ensembles — any registered selector — or a user-given feature list);
 *  3. signature × model: repeated stratified CV on the training split, re-running the selector
 *     inside every training fold (so CV scores include selection variability), then a final fit
 *     on the whole training split scored on train, test and validation;
 *  4. ranking by the metaindex (harmonic mean over train / test / validation of the accuracy
 *     averaged across models; OmicSelector_best_signature_proposals) and validation Youden,
 *     Nadeau–Bengio corrected t-tests between the top signatures, and a recommendation.
 * Deterministic for a seed: every task carries its own seed; tasks run on worker threads.
 */
import { subsetSamples, taskOf, type Dataset, type TaskType } from '../core/dataset';
import { checkAbort, type Prediction, type RunContext } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';
import { Rng } from '../core/rng';
import { defaultMetrics, findMetric, primaryMetric, scoreAll } from '../metrics';
import { isHoldout, makeFolds, type HoldoutFold, type SplitSpec } from '../resampling';
import { shareDataset } from './cross-validate';
import {
  fitFront,
  fitModelStep,
  registryResolver,
  type ModelStep,
  type Resolver,
  type SelectorStep,
  type StepSpec,
} from './pipeline';
import {
  recommend,
  type Comparison,
  type Recommendation,
  type SignatureSummary,
} from './recommend';
import { meanStd } from './summary';

export interface SignatureSource {
  /** Display name (default: the selector code, or `user_<i>`). */
  name?: string;
  selector?: SelectorStep;
  /** A fixed, user-given feature list. */
  features?: string[];
}

export interface BenchmarkSpec {
  signatures: SignatureSource[];
  models: ModelStep[];
  preprocess?: StepSpec[];
  /** Default: train_test_validation (60/20/20 stratified). A user_split spec works too. */
  split?: SplitSpec;
  /** Repeated stratified CV on the training split (default 5 × 2). */
  cv?: { n_splits?: number; n_repeats?: number };
  metrics?: string[];
  /** How many top signatures (by metaindex) the corrected t-test compares (default 3). */
  compare_top?: number;
  /** Keep the final fits' test / validation predictions (ROC and Kaplan–Meier plots). */
  keep_predictions?: boolean;
}

/** Held-out predictions of one signature × model's final fit (row order = the split's index). */
export interface BenchmarkPredictions {
  signature: string;
  model: string;
  test?: Prediction;
  validation?: Prediction;
}

type Scores = Record<string, number>;

/**
 * One CV fold of one signature × model: the held-out scores the row's `cv` mean / `cv_std` are
 * computed from (same values, same order), plus the fold model's resubstitution scores.
 */
export interface BenchmarkFold {
  /** 0-based repeat of the repeated stratified CV. */
  repeat: number;
  /** 0-based fold within its repeat (fold list position = repeat × n_splits + fold). */
  fold: number;
  n_train: number;
  n_test: number;
  /** Held-out scores of this fold's model. */
  metrics: Scores;
  /** The same model scored on the fold's own training rows. */
  train_metrics: Scores;
  /** Features the signature's selector chose inside this fold (shared by the models). */
  selected: string[];
}

export interface BenchmarkRow {
  signature: string;
  model: string;
  n_features: number;
  train: Scores;
  cv: Scores;
  cv_std: Scores;
  /** Per-fold scores behind `cv` / `cv_std` (repeat-major, as the folds were made). */
  cv_folds: BenchmarkFold[];
  test: Scores;
  validation: Scores;
}

export interface BenchmarkResult {
  task: TaskType;
  split: { n_train: number; n_test: number; n_validation: number };
  cv: { n_splits: number; n_repeats: number; n_folds: number };
  metrics: string[];
  signatures: SignatureSummary[];
  table: BenchmarkRow[];
  comparisons: Comparison[];
  recommended: Recommendation;
  seconds: number;
  /** Only with `keep_predictions`: the split's row indices and the final fits' predictions. */
  holdout?: { train: Int32Array; test: Int32Array; validation: Int32Array };
  predictions?: BenchmarkPredictions[];
}

interface Front {
  preprocess?: StepSpec[];
  selectors?: SelectorStep[];
  features?: string[];
}

export interface BenchSelectTask {
  ds: Dataset;
  train: Int32Array;
  front: Front;
  seed: number;
  threads: number;
}

export interface BenchCvTask extends BenchSelectTask {
  test: Int32Array;
  models: ModelStep[];
  metrics: string[];
}

export interface BenchFinalTask {
  ds: Dataset;
  parts: { train: Int32Array; test: Int32Array; validation: Int32Array };
  preprocess?: StepSpec[];
  features: string[];
  model: ModelStep;
  metrics: string[];
  seed: number;
  threads: number;
  keepPredictions?: boolean;
}

const quiet = (seed: number, threads: number, signal?: AbortSignal): RunContext => ({
  rng: new Rng(seed),
  signal,
  progress: () => undefined,
  threads,
});

/** Select a signature on the given rows (worker entry). */
export async function benchSelectTask(
  t: BenchSelectTask,
  resolver: Resolver = registryResolver,
  signal?: AbortSignal,
): Promise<string[]> {
  const front = await fitFront(
    t.front,
    subsetSamples(t.ds, t.train),
    quiet(t.seed, t.threads, signal),
    resolver,
  );
  return front.features;
}

/** One CV fold of one signature: select on the fold's training rows, fit and score every model. */
export async function benchCvTask(
  t: BenchCvTask,
  resolver: Resolver = registryResolver,
  signal?: AbortSignal,
): Promise<{ selected: string[]; scores: Scores[]; trainScores: Scores[] }> {
  const ctx = quiet(t.seed, t.threads, signal);
  const train = subsetSamples(t.ds, t.train);
  const test = subsetSamples(t.ds, t.test);
  const front = await fitFront(t.front, train, ctx, resolver);
  const testX = front.apply(test);
  const scores: Scores[] = [];
  const trainScores: Scores[] = [];
  for (let m = 0; m < t.models.length; m++) {
    const { model } = await fitModelStep(
      t.models[m]!,
      front.data,
      { ...ctx, rng: ctx.rng.fork(10 + m) },
      resolver,
    );
    // The training prediction is needed anyway (context-dependent metrics); scoring it is cheap.
    const trainPrediction = model.predict(front.data);
    const scoring = { trainOutcome: train.outcome, trainPrediction };
    scores.push(scoreAll(t.metrics, test.outcome, model.predict(testX), scoring));
    trainScores.push(scoreAll(t.metrics, train.outcome, trainPrediction, scoring));
  }
  return { selected: front.features, scores, trainScores };
}

/** Final fit of one signature × model on the training split; scores on train / test / validation. */
export async function benchFinalTask(
  t: BenchFinalTask,
  resolver: Resolver = registryResolver,
  signal?: AbortSignal,
): Promise<{
  train: Scores;
  test: Scores;
  validation: Scores;
  predictions?: { test?: Prediction; validation?: Prediction };
}> {
  const ctx = quiet(t.seed, t.threads, signal);
  const train = subsetSamples(t.ds, t.parts.train);
  const front = await fitFront(
    { preprocess: t.preprocess, features: t.features },
    train,
    ctx,
    resolver,
  );
  const { model } = await fitModelStep(t.model, front.data, ctx, resolver);
  const trainPrediction = model.predict(front.data);
  const scoring = { trainOutcome: train.outcome, trainPrediction };
  const kept: { test?: Prediction; validation?: Prediction } = {};
  const on = (which: 'test' | 'validation'): Scores => {
    const idx = t.parts[which];
    if (idx.length === 0) return Object.fromEntries(t.metrics.map(m => [m, NaN]));
    const part = subsetSamples(t.ds, idx);
    const prediction = model.predict(front.apply(part));
    if (t.keepPredictions) kept[which] = prediction;
    return scoreAll(t.metrics, part.outcome, prediction, scoring);
  };
  return {
    train: scoreAll(t.metrics, train.outcome, trainPrediction, scoring),
    test: on('test'),
    validation: on('validation'),
    ...(t.keepPredictions ? { predictions: kept } : {}),
  };
}

/** Run tasks on worker threads (registry methods) or in-process (custom resolver). */
async function runTasks<I, R>(
  fn: 'benchSelectTask' | 'benchCvTask' | 'benchFinalTask',
  impl: (t: I, r: Resolver, s?: AbortSignal) => Promise<R>,
  tasks: I[],
  threads: number,
  resolver: Resolver,
  ctx: RunContext,
  onDone: (done: number) => void,
): Promise<R[]> {
  if (resolver !== registryResolver) {
    const out: R[] = [];
    for (const t of tasks) {
      checkAbort(ctx.signal);
      out.push(await impl(t, resolver, ctx.signal));
      onDone(out.length);
    }
    return out;
  }
  return parallelMap<I, R>(__filename, fn, tasks, {
    threads,
    signal: ctx.signal,
    onDone: d => onDone(d),
  });
}

export function requiredMetrics(task: TaskType, asked?: string[]): string[] {
  const metrics = [...(asked ?? defaultMetrics(task))];
  const need =
    task === 'binary'
      ? ['accuracy', 'sensitivity', 'specificity', primaryMetric(task)]
      : task === 'multiclass'
        ? ['accuracy', primaryMetric(task)]
        : [primaryMetric(task)];
  for (const m of need) if (!metrics.includes(m)) metrics.push(m);
  for (const m of metrics) findMetric(m);
  return metrics;
}

export function signatureName(s: SignatureSource, i: number): string {
  return s.name ?? (s.selector ? s.selector.code : `user_${i + 1}`);
}

export async function benchmark(
  ds: Dataset,
  spec: BenchmarkSpec,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
): Promise<BenchmarkResult> {
  const t0 = Date.now();
  const task = taskOf(ds);
  if (spec.signatures.length === 0) throw new Error('benchmark: no candidate signatures');
  if (spec.models.length === 0) throw new Error('benchmark: no models');
  const names = spec.signatures.map(signatureName);
  if (new Set(names).size !== names.length) {
    throw new Error(`benchmark: signature names must be unique (${names.join(', ')})`);
  }
  const metrics = requiredMetrics(task, spec.metrics);
  const split = makeFolds(ds, spec.split ?? { code: 'train_test_validation' }, ctx.rng.fork(0))[0]!;
  if (!isHoldout(split))
    throw new Error('benchmark: the split must give train, test and validation');
  const holdout: HoldoutFold = split;
  const trainDs = subsetSamples(ds, holdout.train);
  const nSplits = spec.cv?.n_splits ?? 5;
  const nRepeats = spec.cv?.n_repeats ?? 2;
  const folds = makeFolds(
    trainDs,
    { code: 'repeated', args: { n_splits: nSplits, n_repeats: nRepeats } },
    ctx.rng.fork(1),
  );
  const threads = Math.max(1, ctx.threads ?? defaultThreads());
  const inner = threads > 1 ? 1 : threads;
  const shared = threads > 1 && resolver === registryResolver ? shareDataset(ds) : ds;
  const sharedTrain =
    threads > 1 && resolver === registryResolver ? shareDataset(trainDs) : trainDs;
  const S = spec.signatures.length;
  const M = spec.models.length;
  const totalUnits = S + S * folds.length + S * M;
  let doneUnits = 0;
  const tick = (stage: string) => () => ctx.progress(++doneUnits / totalUnits, stage);

  const fronts: Front[] = spec.signatures.map(s => ({
    preprocess: spec.preprocess,
    selectors: s.selector ? [s.selector] : undefined,
    features: s.features,
  }));

  // 1. signatures on the training split only
  const selectSeeds = ctx.rng.fork(2);
  const features = await runTasks(
    'benchSelectTask',
    benchSelectTask,
    fronts.map((front, s) => ({
      ds: shared,
      train: holdout.train,
      front,
      seed: selectSeeds.fork(s).seed,
      threads: inner,
    })),
    threads,
    resolver,
    ctx,
    d => tick(`selecting signatures ${d}/${S}`)(),
  );

  // 2. repeated CV on the training split, selection re-run inside each fold
  const cvSeeds = ctx.rng.fork(3);
  const cvTasks: BenchCvTask[] = [];
  for (let s = 0; s < S; s++) {
    for (let f = 0; f < folds.length; f++) {
      cvTasks.push({
        ds: sharedTrain,
        train: folds[f]!.train,
        test: folds[f]!.test,
        front: fronts[s]!,
        models: spec.models,
        metrics,
        seed: cvSeeds.fork(s * 100000 + f).seed,
        threads: inner,
      });
    }
  }
  const cvOut = await runTasks('benchCvTask', benchCvTask, cvTasks, threads, resolver, ctx, d => {
    const s = Math.floor((d - 1) / folds.length);
    tick(`cv ${names[Math.min(s, S - 1)]}: ${d}/${cvTasks.length} signature × fold`)();
  });

  // 3. final fits: signature × model on the whole training split
  const finalSeeds = ctx.rng.fork(4);
  const finalTasks: BenchFinalTask[] = [];
  for (let s = 0; s < S; s++) {
    for (let m = 0; m < M; m++) {
      finalTasks.push({
        ds: shared,
        parts: { train: holdout.train, test: holdout.test, validation: holdout.validation },
        preprocess: spec.preprocess,
        features: features[s]!,
        model: spec.models[m]!,
        metrics,
        seed: finalSeeds.fork(s * 1000 + m).seed,
        threads: inner,
        keepPredictions: spec.keep_predictions ?? false,
      });
    }
  }
  const finalOut = await runTasks(
    'benchFinalTask',
    benchFinalTask,
    finalTasks,
    threads,
    resolver,
    ctx,
    d => {
      const s = Math.floor((d - 1) / M);
      tick(`final ${names[s]} × ${spec.models[(d - 1) % M]!.code} (${d}/${S * M})`)();
    },
  );

  // 4. table, summaries, ranking
  const table: BenchmarkRow[] = [];
  const foldScores: number[][] = []; // per signature: per fold, compare metric averaged over models
  const compareMetric = primaryMetric(task);
  const perRepeat = nSplits; // the repeated splitter lists its folds repeat-major
  for (let s = 0; s < S; s++) {
    const perFold = cvOut.slice(s * folds.length, (s + 1) * folds.length);
    foldScores.push(perFold.map(f => meanStd(f.scores.map(sc => sc[compareMetric]!)).mean));
    for (let m = 0; m < M; m++) {
      const cvFolds: BenchmarkFold[] = perFold.map((f, i) => ({
        repeat: Math.floor(i / perRepeat),
        fold: i % perRepeat,
        n_train: folds[i]!.train.length,
        n_test: folds[i]!.test.length,
        metrics: f.scores[m]!,
        train_metrics: f.trainScores[m]!,
        selected: f.selected,
      }));
      const cv: Scores = {};
      const cvStd: Scores = {};
      for (const name of metrics) {
        // From cv_folds themselves, so the row's mean / SD are exactly those of its folds.
        const st = meanStd(cvFolds.map(f => f.metrics[name]!));
        cv[name] = st.mean;
        cvStd[name] = st.std;
      }
      const fin = finalOut[s * M + m]!;
      table.push({
        signature: names[s]!,
        model: spec.models[m]!.code,
        n_features: features[s]!.length,
        train: fin.train,
        cv,
        cv_std: cvStd,
        cv_folds: cvFolds,
        test: fin.test,
        validation: fin.validation,
      });
    }
  }
  const fold0 = folds[0]!;
  const rec = recommend({
    task,
    names,
    sources: spec.signatures,
    features,
    table,
    foldScores,
    compareMetric,
    nTrain: fold0.train.length,
    nTest: fold0.test.length,
    compareTop: spec.compare_top ?? 3,
    hasValidation: holdout.validation.length > 0,
    nModels: M,
  });
  return {
    task,
    split: {
      n_train: holdout.train.length,
      n_test: holdout.test.length,
      n_validation: holdout.validation.length,
    },
    cv: { n_splits: nSplits, n_repeats: nRepeats, n_folds: folds.length },
    metrics,
    signatures: rec.signatures,
    table,
    comparisons: rec.comparisons,
    recommended: rec.recommended,
    seconds: (Date.now() - t0) / 1000,
    ...(spec.keep_predictions
      ? {
          holdout: { train: holdout.train, test: holdout.test, validation: holdout.validation },
          predictions: finalOut.map((f, i) => ({
            signature: names[Math.floor(i / M)]!,
            model: spec.models[i % M]!.code,
            ...f.predictions,
          })),
        }
      : {}),
  };
}
