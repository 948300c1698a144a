/**
 * BENCHMARKING: candidate signatures (selectors, user lists, earlier feature-selection jobs) ×
 * models on a train/test/validation split with repeated CV on the training part, ranked by
 * OmicSelector's metaindex, with a recommended signature — compute/evaluation/benchmark.
 */
import { benchmark, type SignatureSource } from '../../../compute/evaluation/benchmark.js';
import { type BenchmarkingConfig } from '../../modules/jobs/job.config.js';
import { signatureFromJob, subsetByName } from './common.js';
import { type Runner } from './context.js';
import { jsonSafe, selectorSteps } from './pipeline.js';

export const runBenchmarking: Runner = async rc => {
  const cfg = rc.spec.config as unknown as BenchmarkingConfig;
  rc.run.progress(0, 'loading data');
  const ds = await rc.io.loadDataset(rc.spec.datasetId);
  const signatures: SignatureSource[] = [];
  for (const [i, s] of cfg.signatures.entries()) {
    const field = `config.signatures[${i}]`;
    if (s.selector) signatures.push({ name: s.name, selector: selectorSteps([s.selector])[0]! });
    else {
      const features = s.fromJob
        ? await signatureFromJob(rc, s.fromJob, `${field}.fromJob`)
        : s.features!;
      subsetByName(ds, features, `${field}.features`); // clear error on a missing feature
      signatures.push({ name: s.name, features });
    }
  }
  const r = await benchmark(
    ds,
    {
      signatures,
      models: cfg.models.map(m => ({ code: m.code, args: m.args })),
      preprocess: cfg.preprocessing.map(p => ({ code: p.code, args: p.args })),
      ...(cfg.split ? { split: { code: cfg.split.code, args: cfg.split.args } } : {}),
      cv: { n_splits: cfg.cv.nSplits, n_repeats: cfg.cv.nRepeats },
      ...(cfg.metrics.length ? { metrics: cfg.metrics } : {}),
      compare_top: cfg.compareTop,
    },
    rc.run,
  );
  rc.log(
    `Recommended signature: ${r.recommended.signature} (${r.recommended.features.length} features)`,
  );
  return {
    summary: {
      task: r.task,
      signatures: r.signatures.length,
      models: cfg.models.length,
      recommended: r.recommended.signature,
      metaindex: Number.isFinite(r.recommended.metaindex) ? r.recommended.metaindex : null,
    },
    data: jsonSafe(r) as Record<string, unknown>,
    artifacts: [],
  };
};
