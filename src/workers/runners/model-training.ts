/**
 * MODEL_TRAINING: optional leak-free cross-validation (preprocessing, selectors, tuning and model
 * all refitted inside every training fold and scored on the held-out fold — compute/evaluation),
 * then a final fit on all rows whose saved state is stored as `model.json` for PREDICTION jobs.
 */
import { crossValidate } from '../../../compute/evaluation/cross-validate.js';
import { fitPipeline } from '../../../compute/evaluation/pipeline.js';
import { getModel } from '../../../compute/registry.js';
import { type ModelTrainingConfig } from '../../modules/jobs/job.config.js';
import { assertTask, restrictFeatures, seconds } from './common.js';
import { stepProgress, subContext, type Runner } from './context.js';
import { jsonSafe, pipelineOf, splitOf, topScores, tuneSpec } from './pipeline.js';
import { outOfFold, withoutPredictions, writeReports } from './reports.js';
import { type PredictionSet } from '../../../compute/reports/types.js';

export const runModelTraining: Runner = async rc => {
  const cfg = rc.spec.config as unknown as ModelTrainingConfig;
  const def = getModel(cfg.model.code);
  rc.run.progress(0, 'loading data');
  let ds = await rc.io.loadDataset(rc.spec.datasetId);
  ds = await restrictFeatures(rc, ds, cfg);
  assertTask(ds, def, 'config.model.code');
  rc.log(`Training ${def.code} on ${ds.nSamples} samples × ${ds.nFeatures} features`);
  const pipeline = pipelineOf({
    preprocessing: cfg.preprocessing,
    selectors: cfg.selectors,
    model: cfg.model,
    tune: cfg.model.tune ? tuneSpec(cfg.model.tune, ds) : undefined,
  });
  const step = stepProgress(rc.run.progress, cfg.validation ? 2 : 1);

  let validation = null;
  let oof: PredictionSet[] = [];
  if (cfg.validation) {
    const cv = await crossValidate(
      pipeline,
      ds,
      splitOf(cfg.validation.splitter, ds),
      subContext(rc.run, 1, step(0, 'cross-validation')),
      {
        ...(cfg.validation.metrics.length ? { metrics: cfg.validation.metrics } : {}),
        keepPredictions: true, // ROC / Kaplan–Meier plots and the out-of-fold export
      },
    );
    oof = outOfFold(cv, ds, def.code);
    rc.log(
      `Cross-validation: ${Object.entries(cv.metrics)
        .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(3) : 'n/a'}`)
        .join(', ')}`,
    );
    validation = jsonSafe(withoutPredictions(cv));
  }

  const started = performance.now();
  const fitted = await fitPipeline(
    pipeline,
    ds,
    subContext(rc.run, 2, step(cfg.validation ? 1 : 0, 'final fit')),
  );
  const key = rc.artifactKey('model.json');
  await rc.io.putArtifact(
    key,
    Buffer.from(JSON.stringify(fitted.model.save())),
    'application/json',
  );
  const cvMetrics =
    (validation as { metrics?: Record<string, number | null> } | null)?.metrics ?? {};
  const data: Record<string, unknown> = {
    model: def.code,
    params: jsonSafe(fitted.modelParams),
    features: fitted.features,
    selection: fitted.selection.map(s => ({ ...s, scores: topScores(s.scores) })),
    tuning: fitted.tuning ? jsonSafe(fitted.tuning) : null,
    importance: fitted.model.importance ? topScores(fitted.model.importance()) : null,
    preprocessing: cfg.preprocessing,
    modelArtifact: key,
    validation,
    fitSeconds: seconds(started),
  };
  const reports = await writeReports(rc, { type: 'MODEL_TRAINING', data, predictions: oof });
  return {
    summary: {
      model: def.code,
      nSamples: ds.nSamples,
      nFeatures: fitted.features.length,
      ...cvMetrics,
    },
    data: { ...data, reports },
    artifacts: [key, ...reports.map(r => r.key)],
  };
};
