/**
 * PREDICTION: reload the model a MODEL_TRAINING job saved and score this job's dataset, which must
 * contain the model's features (a clear error lists the missing ones). When the dataset also has
 * an outcome, the matching metrics are reported too.
 */
import { taskOf } from '../../../compute/core/dataset.js';
import { type ModelState, type Prediction } from '../../../compute/core/method.js';
import { defaultMetrics, scoreAll } from '../../../compute/metrics/index.js';
import { getModel } from '../../../compute/registry.js';
import { type PredictionConfig } from '../../modules/jobs/job.config.js';
import { subsetByName } from './common.js';
import { JobInputError, type Runner } from './context.js';
import { writeReports } from './reports.js';

function rows(p: Prediction, sampleIds: string[]): Record<string, unknown>[] {
  return sampleIds.map((id, i) => {
    if (p.kind === 'class') {
      const k = p.classes.length;
      const proba = Object.fromEntries(p.classes.map((c, j) => [c, p.proba[i * k + j]!]));
      return { sampleId: id, label: p.classes[p.labels[i]!], proba };
    }
    if (p.kind === 'value') return { sampleId: id, value: p.values[i]! };
    return { sampleId: id, risk: p.risk[i]! };
  });
}

export const runPrediction: Runner = async rc => {
  const cfg = rc.spec.config as unknown as PredictionConfig;
  const field = 'config.modelJob';
  const found = await rc.io.loadJob(cfg.modelJob);
  if (!found || found.job.type !== 'MODEL_TRAINING') {
    throw new JobInputError(
      'BAD_CONFIG',
      `job ${cfg.modelJob} is not one of your model-training jobs`,
      field,
    );
  }
  const key = found.result?.data.modelArtifact;
  if (typeof key !== 'string') {
    throw new JobInputError(
      'BAD_CONFIG',
      `job ${cfg.modelJob} has no trained model (status ${found.job.status})`,
      field,
    );
  }
  if (((found.result?.data.preprocessing as unknown[] | undefined) ?? []).length > 0) {
    throw new JobInputError(
      'BAD_CONFIG',
      'models trained with preprocessing steps cannot be applied yet (fitted preprocessors are not saved)',
      field,
    );
  }
  rc.run.progress(0.05, 'loading model');
  const state = JSON.parse((await rc.io.getArtifact(key)).toString('utf8')) as ModelState;
  const model = getModel(state.code).load(state);
  rc.run.progress(0.2, 'loading data');
  const full = await rc.io.loadDataset(rc.spec.datasetId);
  const ds = subsetByName(full, model.featureNames, field);
  rc.run.progress(0.5, 'predicting');
  const pred = model.predict(ds);
  let metrics: Record<string, number | null> | null = null;
  if (taskOf(ds) !== 'unsupervised') {
    const scored = scoreAll(defaultMetrics(taskOf(ds)), ds.outcome, pred);
    metrics = Object.fromEntries(
      Object.entries(scored).map(([k, v]) => [k, Number.isFinite(v) ? v : null]),
    );
  }
  const data: Record<string, unknown> = {
    model: state.code,
    modelJob: cfg.modelJob,
    predictions: rows(pred, ds.sampleIds),
    metrics,
  };
  // With an outcome in the dataset, the predictions also give a ROC / Kaplan–Meier plot.
  const predictions =
    taskOf(ds) === 'unsupervised'
      ? []
      : [
          {
            label: state.code,
            source: `predictions on this job's dataset (n = ${ds.nSamples})`,
            parts: [{ group: 'all', sampleIds: ds.sampleIds, truth: ds.outcome, prediction: pred }],
          },
        ];
  const reports = await writeReports(rc, { type: 'PREDICTION', data, predictions });
  rc.run.progress(1, 'done');
  return {
    summary: { model: state.code, nSamples: ds.nSamples, ...(metrics ?? {}) },
    data: { ...data, reports },
    artifacts: reports.map(r => r.key),
  };
};
