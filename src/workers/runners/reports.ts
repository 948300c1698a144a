/**
 * Exports and plots of a job's result (compute/reports), written as artifacts of this run under
 * `jobs/<id>/attempt-<n>/reports/` next to the model artifact. Runs in the compute child like the
 * rest of the runner, so building the files never blocks the worker's lock-renewing event loop.
 */
import { subsetSamples, type Dataset } from '../../../compute/core/dataset.js';
import { checkAbort } from '../../../compute/core/method.js';
import { type CvResult } from '../../../compute/evaluation/cross-validate.js';
import { buildReports } from '../../../compute/reports/build.js';
import { type PredictionSet, type ReportInput } from '../../../compute/reports/types.js';
import { type RunnerContext } from './context.js';

export interface ReportRef {
  name: string;
  kind: 'export' | 'plot';
  contentType: string;
  key: string;
}

/**
 * Build and store the report files; returns what was written. A bug in report building must not
 * throw away a finished computation, so it is logged and the job completes without reports;
 * storage errors do propagate (the run's other artifacts would fail the same way).
 */
export async function writeReports(rc: RunnerContext, input: ReportInput): Promise<ReportRef[]> {
  checkAbort(rc.run.signal); // a cancelled run writes no reports
  let files;
  try {
    files = await buildReports(input);
  } catch (e) {
    rc.log(`Reports could not be built: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
  const refs: ReportRef[] = [];
  for (const f of files) {
    const key = rc.artifactKey(`reports/${f.name}`);
    const body = typeof f.body === 'string' ? Buffer.from(f.body, 'utf8') : f.body;
    await rc.io.putArtifact(key, body, f.contentType);
    refs.push({ name: f.name, kind: f.kind, contentType: f.contentType, key });
  }
  const plots = refs.filter(r => r.kind === 'plot').length;
  rc.log(`Reports: ${refs.length - plots} export files, ${plots} plots`);
  return refs;
}

/** Out-of-fold predictions of a cross-validation run with `keepPredictions` (one set). */
export function outOfFold(cv: CvResult, ds: Dataset, label: string): PredictionSet[] {
  const parts = [];
  for (const f of cv.folds) {
    if (!f.prediction || !f.test_index) continue;
    const test = subsetSamples(ds, f.test_index);
    parts.push({
      group: String(f.fold + 1),
      sampleIds: test.sampleIds,
      truth: test.outcome,
      prediction: f.prediction,
    });
  }
  if (parts.length === 0) return [];
  return [{ label, source: `out-of-fold predictions (${parts.length} folds)`, parts }];
}

/** Drop the (large, typed-array) held-out predictions before the result document is stored. */
export function withoutPredictions(cv: CvResult): Omit<CvResult, 'folds'> & { folds: unknown[] } {
  return { ...cv, folds: cv.folds.map(({ prediction: _p, test_index: _t, ...f }) => f) };
}
