/** Steps shared by several runners: preprocessing, feature subsets, task checks. */
import { selectFeaturesByName, taskOf, type Dataset } from '../../../compute/core/dataset.js';
import { type FittedPreprocessor } from '../../../compute/core/method.js';
import { getPreprocessor } from '../../../compute/registry.js';
import { type FeatureSource, type MethodRef } from '../../modules/jobs/job.config.js';
import { JobInputError, type RunnerContext } from './context.js';

/** Fit the preprocessing steps on `fitOn` (training rows) and return the fitted chain. */
export function fitPreprocessing(
  fitOn: Dataset,
  steps: readonly MethodRef[],
): FittedPreprocessor[] {
  const fitted: FittedPreprocessor[] = [];
  let ds = fitOn;
  for (const step of steps) {
    const f = getPreprocessor(step.code).fit(ds, step.args);
    fitted.push(f);
    ds = f.transform(ds);
  }
  return fitted;
}

export function applyPreprocessing(ds: Dataset, chain: readonly FittedPreprocessor[]): Dataset {
  return chain.reduce((d, f) => f.transform(d), ds);
}

/** Check that a method supports the dataset's task before spending time on it. */
export function assertTask(
  ds: Dataset,
  method: { code: string; tasks: readonly string[] },
  field: string,
): void {
  const task = taskOf(ds);
  if (!method.tasks.includes(task)) {
    throw new JobInputError(
      'BAD_DATA',
      `${method.code} does not support ${task} outcomes (it supports ${method.tasks.join(', ')})`,
      field,
    );
  }
}

/** A signature stored by a FEATURE_SELECTION job: its named selector's, else its first. */
export async function signatureFromJob(
  rc: RunnerContext,
  ref: { jobId: string; selector: string | null },
  field: string,
): Promise<string[]> {
  const found = await rc.io.loadJob(ref.jobId);
  if (!found || found.job.type !== 'FEATURE_SELECTION') {
    throw new JobInputError(
      'BAD_CONFIG',
      `job ${ref.jobId} is not one of your feature-selection jobs`,
      field,
    );
  }
  if (!found.result) {
    throw new JobInputError(
      'BAD_CONFIG',
      `job ${ref.jobId} has no result (status ${found.job.status})`,
      field,
    );
  }
  const signatures = (found.result.data.signatures ?? []) as { name: string; features: string[] }[];
  const sig = ref.selector ? signatures.find(s => s.name === ref.selector) : signatures[0];
  if (!sig) {
    const known = signatures.map(s => s.name).join(', ') || 'none';
    throw new JobInputError(
      'BAD_CONFIG',
      `job ${ref.jobId} has no signature "${ref.selector}" (has: ${known})`,
      field,
    );
  }
  if (sig.features.length === 0) {
    throw new JobInputError(
      'BAD_DATA',
      `signature "${sig.name}" of job ${ref.jobId} is empty`,
      field,
    );
  }
  return sig.features;
}

/** Restrict to the configured features (explicit list or a feature-selection job's signature). */
export async function restrictFeatures(
  rc: RunnerContext,
  ds: Dataset,
  source: FeatureSource,
  path = 'config',
): Promise<Dataset> {
  let names: string[] | null = source.features;
  let field = `${path}.features`;
  if (source.fromJob) {
    field = `${path}.fromJob`;
    names = await signatureFromJob(rc, source.fromJob, field);
  }
  if (!names) return ds;
  return subsetByName(ds, names, field);
}

export function subsetByName(ds: Dataset, names: readonly string[], field: string): Dataset {
  const have = new Set(ds.featureNames);
  const missing = names.filter(n => !have.has(n));
  if (missing.length) {
    const shown = missing
      .slice(0, 10)
      .map(n => `"${n}"`)
      .join(', ');
    throw new JobInputError(
      'BAD_DATA',
      `${missing.length} feature${missing.length > 1 ? 's are' : ' is'} not in the dataset: ${shown}${missing.length > 10 ? ', …' : ''}`,
      field,
    );
  }
  return selectFeaturesByName(ds, names);
}

export function seconds(since: number): number {
  return Math.round((performance.now() - since) / 10) / 100;
}
