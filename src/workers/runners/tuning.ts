/**
 * HYPERPARAMETER_TUNING: random search or TPE over the search space by inner CV on the
 * (preprocessed, feature-restricted) dataset — compute/tuning — with the trial history. With
 * `validation`, an outer CV re-runs the whole tuning inside each training fold, so the reported
 * score of the tuned model is not biased by the search (nested CV).
 */
import { crossValidate } from '../../../compute/evaluation/cross-validate.js';
import { registryResolver } from '../../../compute/evaluation/pipeline.js';
import { getModel } from '../../../compute/registry.js';
import { tuneModel } from '../../../compute/tuning/tune.js';
import { type HyperparameterTuningConfig } from '../../modules/jobs/job.config.js';
import { applyPreprocessing, assertTask, fitPreprocessing, restrictFeatures } from './common.js';
import { stepProgress, subContext, type Runner } from './context.js';
import { jsonSafe, pipelineOf, splitOf, tuneSpec } from './pipeline.js';
import { outOfFold, withoutPredictions, writeReports } from './reports.js';
import { type PredictionSet } from '../../../compute/reports/types.js';

export const runTuning: Runner = async rc => {
  const cfg = rc.spec.config as unknown as HyperparameterTuningConfig;
  const def = getModel(cfg.model.code);
  rc.run.progress(0, 'loading data');
  let ds = await rc.io.loadDataset(rc.spec.datasetId);
  ds = await restrictFeatures(rc, ds, cfg);
  assertTask(ds, def, 'config.model.code');
  const spec = tuneSpec(cfg, ds);
  const step = stepProgress(rc.run.progress, cfg.validation ? 2 : 1);
  const pre = applyPreprocessing(ds, fitPreprocessing(ds, cfg.preprocessing));
  const tuned = await tuneModel(
    def.code,
    pre,
    { ...spec, fixed: cfg.model.args },
    subContext(rc.run, 1, step(0, 'tuning')),
    registryResolver,
  );
  rc.log(
    `Best ${tuned.metric} ${tuned.best_score.toFixed(4)} with ${JSON.stringify(tuned.best_params)}`,
  );
  let nested = null;
  let oof: PredictionSet[] = [];
  if (cfg.validation) {
    const cv = await crossValidate(
      pipelineOf({ preprocessing: cfg.preprocessing, model: cfg.model, tune: spec }),
      ds,
      splitOf(cfg.validation.splitter, ds),
      subContext(rc.run, 2, step(1, 'nested cross-validation')),
      {
        ...(cfg.validation.metrics.length ? { metrics: cfg.validation.metrics } : {}),
        keepPredictions: true, // ROC / Kaplan–Meier plots of the nested CV
      },
    );
    oof = outOfFold(cv, ds, def.code);
    nested = jsonSafe(withoutPredictions(cv));
  }
  const data: Record<string, unknown> = { ...(jsonSafe(tuned) as Record<string, unknown>), nested };
  const reports = await writeReports(rc, {
    type: 'HYPERPARAMETER_TUNING',
    data,
    predictions: oof,
  });
  return {
    summary: {
      model: def.code,
      metric: tuned.metric,
      bestScore: Number.isFinite(tuned.best_score) ? tuned.best_score : null,
      trials: tuned.trials.length,
    },
    data: { ...data, reports },
    artifacts: reports.map(r => r.key),
  };
};
