/**
 * Test-only methods (never registered): a Welch-t univariate selector, a nearest-centroid
 * classifier with probabilities and a tunable shrinkage, and a resolver that serves them. They let
 * the evaluation machinery be tested before (and independently of) the real selectors and models.
 */
import { classLabels, column, makeDataset, type Dataset } from '../../../../compute/core/dataset';
import {
  type FittedModel,
  type ModelDef,
  type PreprocessorDef,
  type SelectorDef,
} from '../../../../compute/core/method';
import { rankAndSelect } from '../../../../compute/core/select';
import { Rng } from '../../../../compute/core/rng';
import { type Resolver } from '../../../../compute/evaluation/pipeline';

/** Every sample id a test method was fitted on (leak checks). */
export const seenIds = new Set<string>();

export const tSelector: SelectorDef<{ min_abs_t: number }> = {
  kind: 'selector',
  code: 'test_t',
  label: 'test Welch t',
  description: 'test only',
  reference: 'test',
  tasks: ['binary'],
  device: 'cpu',
  args: { min_abs_t: { type: 'number', default: 2, doc: 'own rule: keep |t| ≥ this' } },
  async run(ds, args, ctx, k) {
    ds.sampleIds.forEach(id => seenIds.add(id));
    const { labels } = classLabels(ds);
    const scores = new Float64Array(ds.nFeatures);
    for (let j = 0; j < ds.nFeatures; j++) scores[j] = Math.abs(welchT(column(ds, j), labels));
    ctx.progress(1, 'done');
    const r = rankAndSelect(ds, scores, k, j => scores[j]! >= args.min_abs_t);
    return {
      selected: r.selected,
      scores: r.scores,
      params: { ...args },
      diagnostics: {},
      backend: 'float64',
    };
  },
};

export function welchT(x: Float64Array, labels: Int32Array): number {
  let n0 = 0;
  let n1 = 0;
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < x.length; i++) {
    if (labels[i] === 1) {
      n1++;
      s1 += x[i]!;
    } else {
      n0++;
      s0 += x[i]!;
    }
  }
  const m0 = s0 / n0;
  const m1 = s1 / n1;
  let v0 = 0;
  let v1 = 0;
  for (let i = 0; i < x.length; i++) {
    if (labels[i] === 1) v1 += (x[i]! - m1) ** 2;
    else v0 += (x[i]! - m0) ** 2;
  }
  return (m1 - m0) / Math.sqrt(v0 / (n0 - 1) / n0 + v1 / (n1 - 1) / n1 || 1e-300);
}

/** Nearest centroid; P(positive) = logistic(d0² − d1²) scaled; `shrink` pulls centroids together. */
export const centroidModel: ModelDef<{ shrink: number; temperature: number }> = {
  kind: 'model',
  code: 'test_centroid',
  label: 'test nearest centroid',
  description: 'test only',
  reference: 'test',
  tasks: ['binary'],
  device: 'cpu',
  args: {
    shrink: { type: 'number', default: 0, min: 0, max: 1, doc: 'centroid shrinkage' },
    temperature: { type: 'number', default: 1, min: 0.01, max: 100, doc: 'probability scale' },
  },
  async fit(ds, args) {
    ds.sampleIds.forEach(id => seenIds.add(id));
    const { labels, classes } = classLabels(ds);
    const p = ds.nFeatures;
    const c = [new Float64Array(p), new Float64Array(p)];
    const n = [0, 0];
    for (let i = 0; i < ds.nSamples; i++) n[labels[i]!]!++;
    for (let j = 0; j < p; j++) {
      const col = column(ds, j);
      for (let i = 0; i < ds.nSamples; i++) c[labels[i]!]![j]! += col[i]! / n[labels[i]!]!;
      const mid = (c[0]![j]! + c[1]![j]!) / 2;
      c[0]![j] = mid + (1 - args.shrink) * (c[0]![j]! - mid);
      c[1]![j] = mid + (1 - args.shrink) * (c[1]![j]! - mid);
    }
    return centroidFitted(ds.featureNames, classes, c, args);
  },
  load: s => {
    const st = s.state as { classes: string[]; c: number[][] };
    return centroidFitted(
      s.featureNames,
      st.classes,
      st.c.map(a => Float64Array.from(a)),
      s.params as { shrink: number; temperature: number },
    );
  },
};

function centroidFitted(
  featureNames: string[],
  classes: string[],
  c: Float64Array[],
  args: { shrink: number; temperature: number },
): FittedModel {
  return {
    code: 'test_centroid',
    featureNames,
    predict(ds: Dataset) {
      const n = ds.nSamples;
      const proba = new Float64Array(2 * n);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let d0 = 0;
        let d1 = 0;
        for (let j = 0; j < featureNames.length; j++) {
          const x = ds.data[j * n + i]!;
          d0 += (x - c[0]![j]!) ** 2;
          d1 += (x - c[1]![j]!) ** 2;
        }
        const pp = 1 / (1 + Math.exp(-(d0 - d1) / args.temperature));
        proba[2 * i] = 1 - pp;
        proba[2 * i + 1] = pp;
        labels[i] = pp >= 0.5 ? 1 : 0;
      }
      return { kind: 'class', labels, proba, classes };
    },
    save: () => ({
      code: 'test_centroid',
      version: 1,
      featureNames,
      params: { ...args },
      state: { classes, c: c.map(a => Array.from(a)) },
    }),
  };
}

/** Standardise with training means / sds (to check preprocessing is fitted on training rows). */
export const standardise: PreprocessorDef<Record<string, never>> = {
  kind: 'preprocessor',
  code: 'test_standardise',
  label: 'test standardise',
  description: 'test only',
  reference: 'test',
  tasks: ['binary'],
  device: 'cpu',
  args: {},
  fit(ds) {
    ds.sampleIds.forEach(id => seenIds.add(id));
    const mu = new Float64Array(ds.nFeatures);
    const sd = new Float64Array(ds.nFeatures);
    for (let j = 0; j < ds.nFeatures; j++) {
      const col = column(ds, j);
      mu[j] = col.reduce((a, b) => a + b, 0) / col.length;
      sd[j] = Math.sqrt(col.reduce((a, b) => a + (b - mu[j]!) ** 2, 0) / (col.length - 1)) || 1;
    }
    return {
      transform(x: Dataset) {
        const data = new Float64Array(x.data.length);
        for (let j = 0; j < x.nFeatures; j++) {
          for (let i = 0; i < x.nSamples; i++)
            data[j * x.nSamples + i] = (x.data[j * x.nSamples + i]! - mu[j]!) / sd[j]!;
        }
        return { ...x, data };
      },
    };
  },
};

const selectors: Record<string, SelectorDef<never>> = { test_t: tSelector as SelectorDef<never> };
const models: Record<string, ModelDef<never>> = { test_centroid: centroidModel as ModelDef<never> };

export function testResolver(extraSelectors: Record<string, SelectorDef<never>> = {}): Resolver {
  return {
    selector: code => {
      const s = extraSelectors[code] ?? selectors[code];
      if (!s) throw new Error(`unknown selector "${code}"`);
      return s;
    },
    model: code => {
      const m = models[code];
      if (!m) throw new Error(`unknown model "${code}"`);
      return m;
    },
    preprocessor: code => {
      if (code !== 'test_standardise') throw new Error(`unknown preprocessor "${code}"`);
      return standardise as PreprocessorDef<never>;
    },
  };
}

/** n × p standard-normal noise; `signal` features shifted by `effect` in the positive class. */
export function syntheticBinary(
  seed: number,
  n: number,
  p: number,
  signal = 0,
  effect = 1.5,
): Dataset {
  const rng = new Rng(seed);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 2;
  rng.shuffle(labels);
  const data = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++)
      data[j * n + i] = rng.normal() + (j < signal && labels[i] ? effect : 0);
  }
  return makeDataset({
    data,
    nSamples: n,
    featureNames: Array.from({ length: p }, (_, j) => `g${j + 1}`),
    outcome: { kind: 'binary', labels, classes: ['ctrl', 'case'] },
  });
}
