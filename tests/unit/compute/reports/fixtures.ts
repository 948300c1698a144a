/**
 * Result documents shaped as the job runners store them (src/workers/runners/*), built from real
 * compute output on small synthetic data, with hostile feature names (< & " = …) on purpose.
 */
import { makeDataset, subsetSamples, type Dataset } from '../../../../compute/core/dataset';
import { parseArgs } from '../../../../compute/core/args';
import { quietContext, type SelectorDef } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { benchmark } from '../../../../compute/evaluation/benchmark';
import { crossValidate } from '../../../../compute/evaluation/cross-validate';
import { getSelector } from '../../../../compute/registry';
import { type PredictionSet } from '../../../../compute/reports/types';
import { syntheticBinary, testResolver } from '../evaluation/helpers';

export const HOSTILE = ['<g1> & "co"', '=HYPERLINK("x")', "it's", '-g4'];

/** syntheticBinary with the first features renamed to hostile names. */
export function hostileBinary(seed: number, n: number, p: number): Dataset {
  const ds = syntheticBinary(seed, n, p, 5, 1.6);
  const names = [...ds.featureNames];
  HOSTILE.forEach((h, j) => (names[j] = h));
  return { ...ds, featureNames: names, sampleIds: ds.sampleIds.map(s => `=S${s}`) };
}

/** JSON round trip, as the result document is stored (NaN → null, typed arrays → objects). */
const stored = (v: unknown) =>
  JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'number' && !Number.isFinite(x)
        ? null
        : ArrayBuffer.isView(x)
          ? Array.from(x as unknown as ArrayLike<number>)
          : x,
    ),
  ) as Record<string, unknown>;

async function runSelector(ds: Dataset, code: string, raw: Record<string, unknown>, k?: number) {
  const def = getSelector(code) as SelectorDef<Record<string, unknown>>;
  const out = await def.run(ds, parseArgs(def.args, raw) as never, quietContext(3), k);
  return {
    selector: code,
    args: raw,
    k: k ?? null,
    selected: out.selected,
    scores: out.scores,
    params: out.params,
    diagnostics: out.diagnostics,
    backend: out.backend,
    seconds: 0.1,
  };
}

export async function featureSelectionDoc(): Promise<Record<string, unknown>> {
  const ds = hostileBinary(5, 60, 40);
  const selectors = [
    await runSelector(ds, 't_test', {}, 8),
    await runSelector(ds, 'stability_selection', {
      base: 't_test',
      base_k: 5,
      n_subsamples: 12,
      threshold: 0.6,
      path: 'threads',
    }),
  ];
  return stored({
    signatures: selectors.map(s => ({ name: s.selector, features: s.selected })),
    selectors,
  });
}

/** A MODEL_TRAINING document with CV (test methods, in-process) and its out-of-fold predictions. */
export async function modelTrainingDoc(): Promise<{
  data: Record<string, unknown>;
  predictions: PredictionSet[];
}> {
  const ds = hostileBinary(9, 60, 20);
  const resolver = testResolver();
  const pipeline = {
    preprocess: [],
    selectors: [{ code: 'test_t', k: 5 }],
    model: { code: 'test_centroid', args: {} },
  };
  const cv = await crossValidate(
    pipeline,
    ds,
    { code: 'stratified_kfold', args: { n_splits: 4 } },
    quietContext(4),
    { resolver, keepPredictions: true },
  );
  const parts = cv.folds.map(f => {
    const test = subsetSamples(ds, f.test_index!);
    return {
      group: String(f.fold + 1),
      sampleIds: test.sampleIds,
      truth: test.outcome,
      prediction: f.prediction!,
    };
  });
  const importance = Object.fromEntries(ds.featureNames.slice(0, 5).map((f, j) => [f, 5 - j]));
  return {
    data: stored({
      model: 'test_centroid',
      params: {},
      features: ds.featureNames.slice(0, 5),
      selection: [{ code: 'test_t', selected: ds.featureNames.slice(0, 5), scores: importance }],
      tuning: null,
      importance,
      preprocessing: [],
      modelArtifact: 'jobs/x/attempt-1/model.json',
      validation: { ...cv, folds: cv.folds.map(({ prediction: _p, test_index: _t, ...f }) => f) },
    }),
    predictions: [{ label: 'test_centroid', source: 'out-of-fold predictions (4 folds)', parts }],
  };
}

export async function benchmarkDoc(): Promise<{
  data: Record<string, unknown>;
  predictions: PredictionSet[];
}> {
  const ds = hostileBinary(41, 90, 60);
  const r = await benchmark(
    ds,
    {
      signatures: [
        { selector: { code: 'test_t', k: 5 } },
        { name: 'noise <&>', features: ['g50', 'g51', 'g52'] },
        { name: 'truth', features: [HOSTILE[0]!, HOSTILE[1]!, 'g5'] },
      ],
      models: [{ code: 'test_centroid' }, { code: 'test_centroid', args: { shrink: 0.5 } }],
      cv: { n_splits: 3, n_repeats: 1 },
      keep_predictions: true,
    },
    quietContext(7),
    testResolver(),
  );
  const { holdout, predictions, ...rest } = r;
  const val = subsetSamples(ds, holdout!.validation);
  return {
    data: stored(rest),
    predictions: predictions!.map((p, i) => ({
      label: `${p.model}#${i % 2}`,
      signature: p.signature,
      model: p.model,
      source: `final fits on the held-out validation split (n = ${val.nSamples})`,
      parts: [
        {
          group: 'validation',
          sampleIds: val.sampleIds,
          truth: val.outcome,
          prediction: p.validation!,
        },
      ],
    })),
  };
}

/** Survival outcome whose hazard rises with a linear risk score; predictions = that score + noise. */
export function survivalPredictions(seed = 3, n = 80): PredictionSet {
  const rng = new Rng(seed);
  const time = new Float64Array(n);
  const event = new Uint8Array(n);
  const risk = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lp = rng.normal();
    risk[i] = lp + 0.3 * rng.normal();
    const t = -Math.log(rng.random()) / Math.exp(lp);
    const c = -Math.log(rng.random()) * 2;
    time[i] = Math.round(Math.min(t, c) * 1000) / 1000;
    event[i] = t <= c ? 1 : 0;
  }
  const ds = makeDataset({
    data: new Float64Array(n),
    nSamples: n,
    featureNames: ['x'],
    outcome: { kind: 'survival', time, event },
  });
  return {
    label: 'coxnet',
    source: "predictions on this job's dataset (n = 80)",
    parts: [
      {
        group: 'all',
        sampleIds: ds.sampleIds,
        truth: ds.outcome,
        prediction: { kind: 'risk', risk },
      },
    ],
  };
}
