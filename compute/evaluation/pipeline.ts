/**
 * A pipeline = preprocessing steps → selector(s) → model, described by method codes and args so
 * it can cross a worker-thread boundary. `fitPipeline` learns every step on the rows it is given
 * and nothing else; evaluation code calls it on training folds only, which is what keeps the
 * reported scores free of selection leakage (the predecessor selected on all samples first).
 */
import { parseArgs } from '../core/args';
import { selectFeaturesByName, type Dataset } from '../core/dataset';
import {
  checkAbort,
  type FittedModel,
  type FittedPreprocessor,
  type ModelDef,
  type Prediction,
  type PreprocessorDef,
  type RunContext,
  type SelectorDef,
} from '../core/method';
import { tuneModel, type TuneSpec, type TuneResult } from '../tuning/tune';

export interface StepSpec {
  code: string;
  args?: Record<string, unknown>;
}

export interface SelectorStep extends StepSpec {
  /** Keep the top k (0 / undefined: the selector's own rule). */
  k?: number;
}

export interface ModelStep extends StepSpec {
  /** Tune hyperparameters by inner CV on each training set (never on held-out rows). */
  tune?: TuneSpec;
}

export interface Pipeline {
  preprocess?: StepSpec[];
  /** A fixed signature applied before any selector (user-given features). */
  features?: string[];
  /** Selectors run in sequence, each on the features the previous one kept. */
  selectors?: SelectorStep[];
  model: ModelStep;
}

/** Where codes are looked up: the registry by default; tests pass their own methods. */
export interface Resolver {
  selector(code: string): SelectorDef<never>;
  model(code: string): ModelDef<never>;
  preprocessor(code: string): PreprocessorDef<never>;
}

// Loaded lazily: the registry lists selectors (stability, ensemble) that themselves resolve
// their base selectors here, and an eager import would make that a module cycle.
const registry = (): typeof import('../registry') =>
  require('../registry') as typeof import('../registry');

export const registryResolver: Resolver = {
  selector: code => registry().getSelector(code) as SelectorDef<never>,
  model: code => registry().getModel(code) as ModelDef<never>,
  preprocessor: code => registry().getPreprocessor(code) as PreprocessorDef<never>,
};

export interface SelectionRecord {
  code: string;
  selected: string[];
  /** Scores of the features this step saw (higher = better). */
  scores: Record<string, number>;
  backend: string;
}

export interface FittedPipeline {
  /** Final feature set the model was trained on, in selection order. */
  features: string[];
  selection: SelectionRecord[];
  model: FittedModel;
  modelParams: Record<string, unknown>;
  tuning?: TuneResult;
  /** Apply the learned preprocessing, keep the features, predict. */
  predict(ds: Dataset): Prediction;
}

/** Run the selection part of a pipeline (preprocessing already applied) on training rows. */
export async function runSelection(
  pipeline: Pick<Pipeline, 'features' | 'selectors'>,
  train: Dataset,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
): Promise<{ data: Dataset; features: string[]; selection: SelectionRecord[] }> {
  let data = pipeline.features?.length ? selectFeaturesByName(train, pipeline.features) : train;
  const selection: SelectionRecord[] = [];
  const steps = pipeline.selectors ?? [];
  for (let s = 0; s < steps.length; s++) {
    checkAbort(ctx.signal);
    const step = steps[s]!;
    const def = resolver.selector(step.code) as SelectorDef<Record<string, unknown>>;
    const args = parseArgs(def.args, step.args, `${step.code}.`);
    const sub: RunContext = {
      ...ctx,
      rng: ctx.rng.fork(100 + s),
      progress: (f, stage) => ctx.progress((s + f) / steps.length, `${step.code}: ${stage}`),
    };
    const res = await def.run(data, args, sub, step.k);
    let kept = res.selected;
    if (kept.length === 0) {
      // An empty selection cannot train a model: fall back to the single best-scored feature so
      // the fold still yields a (poor) score instead of aborting the whole evaluation.
      const best = Object.entries(res.scores)
        .filter(([, v]) => !Number.isNaN(v))
        .sort((a, b) => b[1] - a[1])[0];
      kept = best ? [best[0]] : [data.featureNames[0]!];
    }
    selection.push({ code: step.code, selected: kept, scores: res.scores, backend: res.backend });
    data = selectFeaturesByName(data, kept);
  }
  return { data, features: data.featureNames, selection };
}

/** Preprocessing + selection learned on training rows, applicable to any rows. */
export interface FittedFront {
  features: string[];
  selection: SelectionRecord[];
  /** The training rows, preprocessed and restricted to `features`. */
  data: Dataset;
  /** Apply the learned preprocessing and keep `features`. */
  apply(ds: Dataset): Dataset;
}

/** Fit preprocessing → selection (everything before the model) on `train` only. */
export async function fitFront(
  pipeline: Omit<Pipeline, 'model'>,
  train: Dataset,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
): Promise<FittedFront> {
  const pre: FittedPreprocessor[] = [];
  let data = train;
  for (const step of pipeline.preprocess ?? []) {
    checkAbort(ctx.signal);
    const def = resolver.preprocessor(step.code) as PreprocessorDef<Record<string, unknown>>;
    const fitted = def.fit(data, parseArgs(def.args, step.args, `${step.code}.`));
    pre.push(fitted);
    data = fitted.transform(data);
  }
  const sel = await runSelection(pipeline, data, { ...ctx, rng: ctx.rng.fork(1) }, resolver);
  const features = sel.features;
  return {
    features,
    selection: sel.selection,
    data: sel.data,
    apply(ds: Dataset): Dataset {
      let x = ds;
      for (const p of pre) x = p.transform(x);
      return selectFeaturesByName(x, features);
    },
  };
}

/** Fit a (possibly tuned) model on already preprocessed and selected training rows. */
export async function fitModelStep(
  step: ModelStep,
  data: Dataset,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
): Promise<{ model: FittedModel; params: Record<string, unknown>; tuning?: TuneResult }> {
  const modelDef = resolver.model(step.code) as ModelDef<Record<string, unknown>>;
  let raw = step.args ?? {};
  let tuning: TuneResult | undefined;
  if (step.tune) {
    tuning = await tuneModel(
      step.code,
      data,
      { ...step.tune, fixed: raw },
      { ...ctx, rng: ctx.rng.fork(3), progress: (f, s) => ctx.progress(f, `tuning: ${s}`) },
      resolver,
    );
    raw = { ...raw, ...tuning.best_params };
  }
  const params = parseArgs(modelDef.args, raw, `${step.code}.`);
  checkAbort(ctx.signal);
  const model = await modelDef.fit(data, params, { ...ctx, rng: ctx.rng.fork(2) });
  return { model, params, tuning };
}

/** Fit preprocessing → selection → (tuned) model on `train` only. */
export async function fitPipeline(
  pipeline: Pipeline,
  train: Dataset,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
): Promise<FittedPipeline> {
  const front = await fitFront(pipeline, train, ctx, resolver);
  const { model, params, tuning } = await fitModelStep(pipeline.model, front.data, ctx, resolver);
  return {
    features: front.features,
    selection: front.selection,
    model,
    modelParams: params,
    tuning,
    predict: (ds: Dataset): Prediction => model.predict(front.apply(ds)),
  };
}
