/**
 * MODEL_TRAINING: optional cross-validation (preprocessing and model refitted inside every
 * training fold, scored on the held-out fold), then a final fit on all rows whose saved state is
 * stored as an artifact (`model.json`) that PREDICTION jobs reload.
 */
import { subsetSamples, taskOf, type Dataset } from '../../../compute/core/dataset.js';
import { checkAbort, type Fold, type MetricDef } from '../../../compute/core/method.js';
import {
  getMetric,
  getModel,
  getSplitter,
  metrics as allMetrics,
} from '../../../compute/registry.js';
import { type MethodRef, type ModelTrainingConfig } from '../../modules/jobs/job.config.js';
import {
  applyPreprocessing,
  assertTask,
  fitPreprocessing,
  restrictFeatures,
  seconds,
} from './common.js';
import { stepProgress, subContext, type Runner, type RunnerContext } from './context.js';

export function defaultSplitter(ds: Dataset): MethodRef {
  const task = taskOf(ds);
  if (task === 'binary' || task === 'multiclass') return { code: 'stratified_kfold', args: {} };
  if (task === 'survival') return { code: 'survival_stratified', args: {} };
  return { code: 'kfold', args: {} };
}

export function metricsFor(ds: Dataset, codes: readonly string[]): MetricDef[] {
  if (codes.length) return codes.map(c => getMetric(c));
  const task = taskOf(ds);
  return allMetrics.filter(m => m.tasks.includes(task));
}

export function makeFoldsFor(
  rc: RunnerContext,
  ds: Dataset,
  splitter: MethodRef | null,
  stream: number,
): Fold[] {
  const spec = splitter ?? defaultSplitter(ds);
  const def = getSplitter(spec.code);
  return def.split(ds, spec.args as never, rc.run.rng.fork(stream));
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export const runModelTraining: Runner = async rc => {
  const cfg = rc.spec.config as unknown as ModelTrainingConfig;
  const def = getModel(cfg.model.code);
  const folds: Fold[] = [];
  let ds = await rc.io.loadDataset(rc.spec.datasetId);
  ds = await restrictFeatures(rc, ds, cfg);
  assertTask(ds, def, 'config.model.code');
  rc.log(`Training ${def.code} on ${ds.nSamples} samples × ${ds.nFeatures} features`);
  if (cfg.validation) folds.push(...makeFoldsFor(rc, ds, cfg.validation.splitter, 1));
  const metricDefs = cfg.validation ? metricsFor(ds, cfg.validation.metrics) : [];
  const step = stepProgress(rc.run.progress, folds.length + 1);

  const foldRows: { fold: number; metrics: Record<string, number | null>; seconds: number }[] = [];
  for (const [i, fold] of folds.entries()) {
    checkAbort(rc.run.signal);
    const started = performance.now();
    const train = subsetSamples(ds, fold.train);
    const test = subsetSamples(ds, fold.test);
    const chain = fitPreprocessing(train, cfg.preprocessing);
    const ctx = subContext(rc.run, 100 + i, step(i, `fold ${i + 1}/${folds.length}`));
    const fitted = await def.fit(applyPreprocessing(train, chain), cfg.model.args as never, ctx);
    const testPre = applyPreprocessing(test, chain);
    const pred = fitted.predict(testPre);
    const m = Object.fromEntries(
      metricDefs.map(md => [md.code, finite(md.compute(testPre.outcome, pred))]),
    );
    foldRows.push({ fold: i + 1, metrics: m, seconds: seconds(started) });
    ctx.progress(1, 'scored');
  }
  const mean: Record<string, number | null> = {};
  const sd: Record<string, number | null> = {};
  for (const md of metricDefs) {
    const xs = foldRows.map(r => r.metrics[md.code]).filter((x): x is number => x !== null);
    const mu = xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
    mean[md.code] = xs.length ? mu : null;
    sd[md.code] =
      xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / (xs.length - 1)) : null;
  }

  checkAbort(rc.run.signal);
  const started = performance.now();
  const chain = fitPreprocessing(ds, cfg.preprocessing);
  const ctx = subContext(rc.run, 1, step(folds.length, 'final fit'));
  const fitted = await def.fit(applyPreprocessing(ds, chain), cfg.model.args as never, ctx);
  const state = fitted.save();
  const key = rc.artifactKey('model.json');
  await rc.io.putArtifact(key, Buffer.from(JSON.stringify(state)), 'application/json');
  const importance = fitted.importance?.() ?? null;
  ctx.progress(1, 'saved');
  return {
    summary: { model: def.code, nSamples: ds.nSamples, nFeatures: ds.nFeatures, ...mean },
    data: {
      model: def.code,
      args: cfg.model.args,
      features: ds.featureNames,
      preprocessing: cfg.preprocessing,
      modelArtifact: key,
      importance,
      validation: cfg.validation ? { folds: foldRows, mean, sd } : null,
      fitSeconds: seconds(started),
    },
    artifacts: [key],
  };
};
