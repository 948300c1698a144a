/**
 * Hyperparameter tuning of one model on one training set by inner cross-validation: random search
 * or TPE over a declared space, bounded by `n_trials` and `timeout_seconds`. Callers nest this in
 * an outer resampling loop (compute/evaluation/pipeline.ts), so tuning never sees held-out rows.
 */
import { parseArgs } from '../core/args';
import { subsetSamples, taskOf, type Dataset } from '../core/dataset';
import { checkAbort, type ModelDef, type RunContext } from '../core/method';
import { findMetric, primaryMetric, scoreMetric } from '../metrics';
import { makeFolds, type SplitSpec } from '../resampling';
import { defaultSpace, sampleUniform, validateSpace, type Params, type ParamSpace } from './space';
import { suggestTpe, type Observation } from './tpe';
import { type Resolver } from '../evaluation/pipeline';

export interface TuneSpec {
  strategy?: 'tpe' | 'random';
  n_trials?: number;
  /** Wall-clock bound; the running trial finishes, no new one starts. */
  timeout_seconds?: number | null;
  /** Metric to optimise (default: the task's primary metric). */
  metric?: string;
  /** Inner resampling on the training rows (default 3-fold stratified). */
  inner?: SplitSpec;
  /** Search space (default: DEFAULT_SPACES for the model, filtered by its args). */
  space?: ParamSpace;
  /** Arguments held fixed (not tuned). */
  fixed?: Record<string, unknown>;
}

export interface Trial {
  number: number;
  params: Params;
  /** Mean inner-CV metric in its natural direction (NaN for failed trials). */
  score: number;
  scores_per_fold: number[];
  seconds: number;
  state: 'complete' | 'failed';
  error?: string;
}

export interface TuneResult {
  model: string;
  strategy: 'tpe' | 'random';
  metric: string;
  greater_is_better: boolean;
  best_params: Params;
  best_score: number;
  trials: Trial[];
  stopped_by: 'n_trials' | 'timeout';
}

export async function tuneModel(
  modelCode: string,
  ds: Dataset,
  spec: TuneSpec,
  ctx: RunContext,
  resolver: Resolver,
): Promise<TuneResult> {
  const def = resolver.model(modelCode) as ModelDef<Record<string, unknown>>;
  const strategy = spec.strategy ?? 'tpe';
  const nTrials = spec.n_trials ?? 30;
  const metric = findMetric(spec.metric ?? primaryMetric(taskOf(ds)));
  const space = spec.space ?? defaultSpace(modelCode, def.args);
  validateSpace(space);
  const folds = makeFolds(
    ds,
    spec.inner ?? { code: 'stratified_kfold', args: { n_splits: 3 } },
    ctx.rng.fork(0),
  );
  const sign = metric.greaterIsBetter ? 1 : -1;
  const started = performance.now();
  const trials: Trial[] = [];
  const history: Observation[] = [];
  const sampler = ctx.rng.fork(1);
  let stoppedBy: TuneResult['stopped_by'] = 'n_trials';
  for (let t = 0; t < nTrials; t++) {
    checkAbort(ctx.signal);
    if (
      spec.timeout_seconds &&
      (performance.now() - started) / 1000 >= spec.timeout_seconds &&
      t > 0
    ) {
      stoppedBy = 'timeout';
      break;
    }
    const params: Params =
      strategy === 'tpe'
        ? suggestTpe(space, history, sampler)
        : Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleUniform(d, sampler)]));
    const t0 = Date.now();
    try {
      const args = parseArgs(def.args, { ...spec.fixed, ...params }, `${modelCode}.`);
      const perFold: number[] = [];
      for (let f = 0; f < folds.length; f++) {
        const fold = folds[f]!;
        const train = subsetSamples(ds, fold.train);
        const test = subsetSamples(ds, fold.test);
        const fitted = await def.fit(train, args, { ...ctx, rng: ctx.rng.fork(1000 + f) });
        perFold.push(scoreMetric(metric, test.outcome, fitted.predict(test)));
      }
      const finite = perFold.filter(Number.isFinite);
      const score = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
      trials.push({
        number: t,
        params,
        score,
        scores_per_fold: perFold,
        seconds: (Date.now() - t0) / 1000,
        state: 'complete',
      });
      history.push({ params, value: Number.isFinite(score) ? sign * score : NaN });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      trials.push({
        number: t,
        params,
        score: NaN,
        scores_per_fold: [],
        seconds: (Date.now() - t0) / 1000,
        state: 'failed',
        error: (e as Error).message,
      });
      history.push({ params, value: NaN });
    }
    ctx.progress((t + 1) / nTrials, `trial ${t + 1}/${nTrials}`);
  }
  const complete = trials.filter(t => t.state === 'complete' && Number.isFinite(t.score));
  if (complete.length === 0) {
    throw new Error(
      `tuning ${modelCode}: no trial completed (${trials[0]?.error ?? 'no trials run'})`,
    );
  }
  // Best by score; ties go to the earlier trial (deterministic).
  const best = complete.reduce((a, b) => (sign * b.score > sign * a.score ? b : a));
  return {
    model: modelCode,
    strategy,
    metric: metric.code,
    greater_is_better: metric.greaterIsBetter,
    best_params: best.params,
    best_score: best.score,
    trials,
    stopped_by: stoppedBy,
  };
}
