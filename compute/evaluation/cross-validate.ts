/**
 * Leak-free cross-validation: for every fold the WHOLE pipeline (preprocessing → selection →
 * tuning → model) is fitted on the fold's training rows and scored on its held-out rows. Folds
 * run on worker threads when every step is a registry method (each fold carries its own seed,
 * so results do not depend on threading); methods passed through a custom Resolver run in-process.
 */
import { taskOf, subsetSamples, type Dataset, type TaskType } from '../core/dataset';
import { type Fold, type Prediction, type RunContext } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';
import { Rng } from '../core/rng';
import { defaultMetrics, findMetric, scoreAll } from '../metrics';
import { hasContext } from '../metrics/types';
import { makeFolds, type SplitSpec } from '../resampling';
import { fitPipeline, registryResolver, type Pipeline, type Resolver } from './pipeline';
import { meanStd } from './summary';

export interface FoldResult {
  fold: number;
  n_train: number;
  n_test: number;
  metrics: Record<string, number>;
  /** Resubstitution scores on the fold's own training rows (when asked). */
  train_metrics?: Record<string, number>;
  /** Features the model of this fold was trained on. */
  selected: string[];
  model_params: Record<string, unknown>;
  tuning?: { best_params: Record<string, unknown>; best_score: number; n_trials: number };
  seconds: number;
  /** Held-out predictions (row order = fold.test). */
  prediction?: Prediction;
  test_index?: Int32Array;
}

export interface CvResult {
  task: TaskType;
  metrics: Record<string, number>;
  metrics_std: Record<string, number>;
  folds: FoldResult[];
  /** Fraction of folds whose final feature set contains each feature (selection stability). */
  selection_frequency: Record<string, number>;
  seconds: number;
}

export interface CvOptions {
  metrics?: string[];
  resolver?: Resolver;
  /** Also score each fold's model on its training rows. */
  scoreTrain?: boolean;
  /** Keep held-out predictions per fold (ROC curves, out-of-fold tables). */
  keepPredictions?: boolean;
}

export interface FoldTask {
  ds: Dataset;
  fold: number;
  train: Int32Array;
  test: Int32Array;
  pipeline: Pipeline;
  seed: number;
  metrics: string[];
  threads: number;
  scoreTrain: boolean;
  keepPredictions: boolean;
}

/** One fold (exported for worker threads: inputs are plain, structured-cloneable data). */
export async function runFoldTask(
  task: FoldTask,
  resolver: Resolver = registryResolver,
  signal?: AbortSignal,
): Promise<FoldResult> {
  const t0 = Date.now();
  const train = subsetSamples(task.ds, task.train);
  const test = subsetSamples(task.ds, task.test);
  const ctx: RunContext = {
    rng: new Rng(task.seed),
    signal,
    progress: () => undefined,
    threads: task.threads,
  };
  const fitted = await fitPipeline(task.pipeline, train, ctx, resolver);
  const prediction = fitted.predict(test);
  const needTrain = task.scoreTrain || task.metrics.some(m => hasContext(findMetric(m)));
  const trainPrediction = needTrain ? fitted.predict(train) : undefined;
  const scoring = { trainOutcome: train.outcome, trainPrediction };
  return {
    fold: task.fold,
    n_train: train.nSamples,
    n_test: test.nSamples,
    metrics: scoreAll(task.metrics, test.outcome, prediction, scoring),
    train_metrics:
      task.scoreTrain && trainPrediction
        ? scoreAll(task.metrics, train.outcome, trainPrediction, scoring)
        : undefined,
    selected: fitted.features,
    model_params: fitted.modelParams,
    tuning: fitted.tuning && {
      best_params: fitted.tuning.best_params,
      best_score: fitted.tuning.best_score,
      n_trials: fitted.tuning.trials.length,
    },
    seconds: (Date.now() - t0) / 1000,
    prediction: task.keepPredictions ? prediction : undefined,
    test_index: task.keepPredictions ? task.test : undefined,
  };
}

/** Copy the matrix into shared memory once so worker threads read it without a copy each. */
export function shareDataset(ds: Dataset): Dataset {
  if (typeof SharedArrayBuffer === 'undefined' || ds.data.buffer instanceof SharedArrayBuffer) {
    return ds;
  }
  const shared = new Float64Array(new SharedArrayBuffer(ds.data.byteLength));
  shared.set(ds.data);
  return { ...ds, data: shared };
}

export async function crossValidate(
  pipeline: Pipeline,
  ds: Dataset,
  split: SplitSpec | Fold[],
  ctx: RunContext,
  opts: CvOptions = {},
): Promise<CvResult> {
  const t0 = Date.now();
  const task = taskOf(ds);
  const metrics = opts.metrics ?? defaultMetrics(task);
  for (const m of metrics) findMetric(m); // fail fast on a typo
  const folds = Array.isArray(split) ? split : makeFolds(ds, split, ctx.rng.fork(0));
  const threads = Math.max(1, Math.min(ctx.threads ?? defaultThreads(), folds.length));
  const custom = opts.resolver !== undefined && opts.resolver !== registryResolver;
  const shared = threads > 1 && !custom ? shareDataset(ds) : ds;
  const tasks: FoldTask[] = folds.map((f, i) => ({
    ds: shared,
    fold: i,
    train: f.train,
    test: f.test,
    pipeline,
    seed: ctx.rng.fork(1 + i).seed,
    metrics,
    // Folds in parallel: each fold's methods get one thread so the machine is not oversubscribed.
    threads: threads > 1 ? 1 : (ctx.threads ?? defaultThreads()),
    scoreTrain: opts.scoreTrain ?? false,
    keepPredictions: opts.keepPredictions ?? false,
  }));
  const onDone = (done: number, total: number): void =>
    ctx.progress(done / total, `fold ${done}/${total}`);
  let results: FoldResult[];
  if (custom) {
    results = [];
    for (const t of tasks) {
      results.push(await runFoldTask(t, opts.resolver, ctx.signal));
      onDone(results.length, tasks.length);
    }
  } else {
    results = await parallelMap<FoldTask, FoldResult>(__filename, 'runFoldTask', tasks, {
      threads,
      signal: ctx.signal,
      onDone,
    });
  }
  return summarise(task, metrics, results, ds.featureNames, (Date.now() - t0) / 1000);
}

function summarise(
  task: TaskType,
  metrics: string[],
  folds: FoldResult[],
  featureNames: string[],
  seconds: number,
): CvResult {
  const mean: Record<string, number> = {};
  const std: Record<string, number> = {};
  for (const m of metrics) {
    const s = meanStd(folds.map(f => f.metrics[m]!));
    mean[m] = s.mean;
    std[m] = s.std;
  }
  const counts = new Map<string, number>();
  for (const f of folds) for (const x of f.selected) counts.set(x, (counts.get(x) ?? 0) + 1);
  const selection_frequency: Record<string, number> = {};
  for (const name of featureNames) {
    const c = counts.get(name);
    if (c) selection_frequency[name] = c / folds.length;
  }
  return { task, metrics: mean, metrics_std: std, folds, selection_frequency, seconds };
}
