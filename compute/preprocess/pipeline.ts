/**
 * Preprocessing pipelines: a list of registry preprocessors `[{code, args}]` fitted in order on the
 * training rows (each step sees the previous step's output) and then applied unchanged, in the same
 * order, to any other rows — so no test-set information leaks into the fitted parameters.
 */
import { parseArgs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { type FittedPreprocessor } from '../core/method';
import { getPreprocessor } from '../registry';

export interface PipelineStep {
  code: string;
  args?: Record<string, unknown>;
}

export interface FittedPipeline extends FittedPreprocessor {
  /** Steps with their validated arguments (defaults filled). */
  steps: { code: string; args: Record<string, unknown> }[];
  /** The training data after every step (computed while fitting, so callers need not redo it). */
  train: Dataset;
}

/** Fit every step on `train`; argument errors name the step: `preprocess[1].n_neighbors`. */
export function fitPipeline(train: Dataset, steps: readonly PipelineStep[]): FittedPipeline {
  const fitted: FittedPreprocessor[] = [];
  const used: { code: string; args: Record<string, unknown> }[] = [];
  let current = train;
  steps.forEach((step, i) => {
    const def = getPreprocessor(step.code);
    const args = parseArgs(def.args, step.args, `preprocess[${i}].`);
    const f = def.fit(current, args as never);
    current = f.transform(current);
    fitted.push(f);
    used.push({ code: step.code, args });
  });
  return {
    steps: used,
    train: current,
    transform: ds => fitted.reduce((d, f) => f.transform(d), ds),
  };
}
