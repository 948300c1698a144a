/**
 * FEATURE_SELECTION: run each configured selector on the (preprocessed) dataset, one progress
 * step per selector. Each selector gets its own rng stream, so adding a selector does not change
 * the others' results. Stability selection and ensembles are selectors (`stability_selection`,
 * `ensemble`) and report per subsample / member through the same progress channel.
 */
import { ArgumentError } from '../../../compute/core/args.js';
import { checkAbort } from '../../../compute/core/method.js';
import { getSelector } from '../../../compute/registry.js';
import { type FeatureSelectionConfig } from '../../modules/jobs/job.config.js';
import { applyPreprocessing, assertTask, fitPreprocessing, seconds } from './common.js';
import { JobInputError, stepProgress, subContext, type Runner } from './context.js';
import { writeReports } from './reports.js';

/** Scores kept per selector in the result document (the full ranking can be 20k+ features). */
const MAX_SCORES = 5000;

export const runFeatureSelection: Runner = async rc => {
  const cfg = rc.spec.config as unknown as FeatureSelectionConfig;
  const step = stepProgress(rc.run.progress, cfg.selectors.length + 1);
  step(0, 'loading data')(0, '');
  let ds = await rc.io.loadDataset(rc.spec.datasetId);
  rc.log(`Data loaded: ${ds.nSamples} samples × ${ds.nFeatures} features`);
  if (cfg.preprocessing.length) {
    ds = applyPreprocessing(ds, fitPreprocessing(ds, cfg.preprocessing));
  }
  step(0, 'loading data')(1, '');

  const results = [];
  for (const [i, sel] of cfg.selectors.entries()) {
    checkAbort(rc.run.signal);
    const def = getSelector(sel.code);
    assertTask(ds, def, `config.selectors[${i}].code`);
    const started = performance.now();
    const ctx = subContext(rc.run, i + 1, step(i + 1, sel.code));
    ctx.progress(0, 'start');
    const out = await def.run(ds, sel.args, ctx, sel.k ?? undefined).catch((e: unknown) => {
      // A method's own argument check (e.g. mrmr needs k) names a field relative to the selector.
      if (e instanceof ArgumentError) {
        const field = e.field === 'k' ? 'k' : `args.${e.field}`;
        throw new JobInputError('BAD_CONFIG', e.message, `config.selectors[${i}].${field}`);
      }
      throw e;
    });
    ctx.progress(1, 'done');
    const ranked = Object.entries(out.scores)
      .sort((a, b) => (Number.isNaN(a[1]) ? 1 : Number.isNaN(b[1]) ? -1 : b[1] - a[1]))
      .slice(0, MAX_SCORES);
    results.push({
      selector: sel.code,
      args: sel.args,
      k: sel.k,
      selected: out.selected,
      scores: Object.fromEntries(ranked.map(([f, s]) => [f, Number.isFinite(s) ? s : null])),
      params: out.params,
      diagnostics: out.diagnostics,
      backend: out.backend,
      seconds: seconds(started),
    });
    rc.log(`${sel.code}: ${out.selected.length} features selected in ${seconds(started)} s`);
  }
  const signatures = results.map(r => ({ name: r.selector, features: r.selected }));
  const data: Record<string, unknown> = { signatures, selectors: results };
  const reports = await writeReports(rc, { type: 'FEATURE_SELECTION', data });
  return {
    summary: {
      nSamples: ds.nSamples,
      nFeatures: ds.nFeatures,
      selectors: results.length,
      selected: results[0]?.selected.length ?? 0,
    },
    data: { ...data, reports },
    artifacts: reports.map(r => r.key),
  };
};
