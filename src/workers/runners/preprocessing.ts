/**
 * PREPROCESSING: fit the steps on the dataset and store the transformed matrix (the platform's
 * binary matrix format) as an artifact, with a summary of what changed.
 */
import { checkAbort } from '../../../compute/core/method.js';
import { encodeDataset } from '../../../compute/io/binary.js';
import { getPreprocessor } from '../../../compute/registry.js';
import { type PreprocessingConfig } from '../../modules/jobs/job.config.js';
import { type Runner } from './context.js';

export const runPreprocessing: Runner = async rc => {
  const cfg = rc.spec.config as unknown as PreprocessingConfig;
  rc.run.progress(0, 'loading data');
  const original = await rc.io.loadDataset(rc.spec.datasetId);
  let ds = original;
  const steps = [];
  for (const [i, step] of cfg.steps.entries()) {
    checkAbort(rc.run.signal);
    rc.run.progress((i + 0.5) / (cfg.steps.length + 1), step.code);
    const before = ds.nFeatures;
    ds = getPreprocessor(step.code)
      .fit(ds, step.args as never)
      .transform(ds);
    steps.push({
      code: step.code,
      args: step.args,
      featuresBefore: before,
      featuresAfter: ds.nFeatures,
    });
  }
  let missing = 0;
  for (let i = 0; i < ds.data.length; i++) if (Number.isNaN(ds.data[i]!)) missing++;
  const key = rc.artifactKey('preprocessed.bin');
  await rc.io.putArtifact(key, encodeDataset(ds), 'application/octet-stream');
  rc.run.progress(1, 'stored');
  const kept = new Set(ds.featureNames);
  return {
    summary: {
      nSamples: ds.nSamples,
      featuresBefore: original.nFeatures,
      featuresAfter: ds.nFeatures,
      missing,
    },
    data: {
      steps,
      matrixArtifact: key,
      removedFeatures: original.featureNames.filter(f => !kept.has(f)).slice(0, 10_000),
    },
    artifacts: [key],
  };
};
