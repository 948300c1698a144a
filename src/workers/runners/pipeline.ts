/** Job configs → compute/evaluation pipeline and tuning specs. */
import { taskOf, type Dataset } from '../../../compute/core/dataset.js';
import { type Pipeline, type SelectorStep } from '../../../compute/evaluation/pipeline.js';
import { type SplitSpec } from '../../../compute/resampling/index.js';
import { type TuneSpec } from '../../../compute/tuning/tune.js';
import {
  type MethodRef,
  type SelectorStep as ConfigSelectorStep,
  type TuneConfig,
} from '../../modules/jobs/job.config.js';

export function defaultSplit(ds: Dataset): SplitSpec {
  const task = taskOf(ds);
  if (task === 'binary' || task === 'multiclass') return { code: 'stratified_kfold', args: {} };
  if (task === 'survival') return { code: 'survival_stratified', args: {} };
  return { code: 'kfold', args: {} };
}

export function splitOf(ref: MethodRef | null, ds: Dataset): SplitSpec {
  return ref ? { code: ref.code, args: ref.args } : defaultSplit(ds);
}

export function selectorSteps(steps: readonly ConfigSelectorStep[]): SelectorStep[] {
  return steps.map(s => ({ code: s.code, args: s.args, ...(s.k ? { k: s.k } : {}) }));
}

export function tuneSpec(t: TuneConfig, ds: Dataset): TuneSpec {
  return {
    strategy: t.strategy,
    n_trials: t.nTrials,
    timeout_seconds: t.timeoutSeconds,
    ...(t.metric ? { metric: t.metric } : {}),
    ...(t.inner ? { inner: { code: t.inner.code, args: t.inner.args } } : innerDefault(ds)),
    ...(t.searchSpace ? { space: t.searchSpace } : {}),
  };
}

/** Inner CV for tuning: 3-fold, stratified where the task allows. */
function innerDefault(ds: Dataset): { inner: SplitSpec } {
  const split = defaultSplit(ds);
  return { inner: { code: split.code, args: { ...split.args, n_splits: 3 } } };
}

export function pipelineOf(p: {
  preprocessing: readonly MethodRef[];
  selectors?: readonly ConfigSelectorStep[];
  model: MethodRef;
  tune?: TuneSpec;
}): Pipeline {
  return {
    preprocess: p.preprocessing.map(s => ({ code: s.code, args: s.args })),
    selectors: selectorSteps(p.selectors ?? []),
    model: { code: p.model.code, args: p.model.args, ...(p.tune ? { tune: p.tune } : {}) },
  };
}

/** Keep result documents bounded: the top `n` entries of a score map. */
export function topScores(scores: Record<string, number>, n = 5000): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(scores)
      .sort((a, b) => (Number.isNaN(a[1]) ? 1 : Number.isNaN(b[1]) ? -1 : b[1] - a[1]))
      .slice(0, n)
      .map(([k, v]) => [k, Number.isFinite(v) ? v : null]),
  );
}

/** JSON-safe copy: NaN/Infinity → null, typed arrays → plain arrays, predictions dropped. */
export function jsonSafe(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === 'number') return Number.isFinite(x) ? x : null;
      if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
      return x;
    }),
  );
}
