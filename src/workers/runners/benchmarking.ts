/**
 * BENCHMARKING: candidate signatures (selectors, user lists, earlier feature-selection jobs) ×
 * models on a train/test/validation split with repeated CV on the training part, ranked by
 * OmicSelector's metaindex, with a recommended signature — compute/evaluation/benchmark.
 */
import { subsetSamples, type Dataset } from '../../../compute/core/dataset.js';
import {
  benchmark,
  type BenchmarkResult,
  type SignatureSource,
} from '../../../compute/evaluation/benchmark.js';
import { type PredictionSet } from '../../../compute/reports/types.js';
import { type BenchmarkingConfig } from '../../modules/jobs/job.config.js';
import { signatureFromJob, subsetByName } from './common.js';
import { type Runner } from './context.js';
import { jsonSafe, selectorSteps } from './pipeline.js';
import { writeReports } from './reports.js';

/**
 * The final fits' predictions on the validation split (the test split when there is none): rows
 * no selection, tuning or fitting has seen, for the ROC / Kaplan–Meier plots.
 */
function heldOut(r: BenchmarkResult, ds: Dataset): PredictionSet[] {
  if (!r.holdout || !r.predictions) return [];
  const which = r.holdout.validation.length > 0 ? 'validation' : 'test';
  const idx = r.holdout[which];
  if (idx.length === 0) return [];
  const part = subsetSamples(ds, idx);
  const seen = new Map<string, number>();
  return r.predictions.flatMap(p => {
    // The same model code may be benchmarked twice with other arguments: "code", "code #2" ….
    const k = (seen.get(`${p.signature}\u0000${p.model}`) ?? 0) + 1;
    seen.set(`${p.signature}\u0000${p.model}`, k);
    const prediction = p[which];
    if (!prediction) return [];
    return [
      {
        label: k > 1 ? `${p.model} #${k}` : p.model,
        signature: p.signature,
        model: p.model,
        source: `final fits on the held-out ${which} split (n = ${idx.length})`,
        parts: [{ group: which, sampleIds: part.sampleIds, truth: part.outcome, prediction }],
      },
    ];
  });
}

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
      keep_predictions: true,
    },
    rc.run,
  );
  rc.log(
    `Recommended signature: ${r.recommended.signature} (${r.recommended.features.length} features)`,
  );
  const { holdout: _h, predictions: _p, ...result } = r;
  const data = jsonSafe(result) as Record<string, unknown>;
  const reports = await writeReports(rc, {
    type: 'BENCHMARKING',
    data,
    predictions: heldOut(r, ds),
  });
  return {
    summary: {
      task: r.task,
      signatures: r.signatures.length,
      models: cfg.models.length,
      recommended: r.recommended.signature,
      metaindex: Number.isFinite(r.recommended.metaindex) ? r.recommended.metaindex : null,
    },
    data: { ...data, reports },
    artifacts: reports.map(r => r.key),
  };
};
