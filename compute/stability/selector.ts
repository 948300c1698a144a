/** `stability_selection` as a registered selector wrapping any other registered selector. */
import { type ArgSpecs } from '../core/args';
import { type SelectorDef } from '../core/method';
import { stabilitySelection } from './stability';

export interface StabilitySelectorArgs {
  base: string;
  base_args: string;
  base_k: number;
  n_subsamples: number;
  sample_fraction: number;
  threshold: number;
  stratify: boolean;
  confidence: number;
  path: 'auto' | 'batched' | 'threads';
}

const args = {
  base: { type: 'string', required: true, doc: 'Code of the selector run on every subsample.' },
  base_args: {
    type: 'string',
    default: '{}',
    doc: 'JSON object of the base selector’s arguments, e.g. {"alpha":0.05}.',
  },
  base_k: {
    type: 'integer',
    default: 0,
    min: 0,
    doc: 'Top k kept by the base selector per subsample (0: its own rule).',
  },
  n_subsamples: { type: 'integer', default: 100, min: 2, doc: 'Number of subsamples.' },
  sample_fraction: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    exclusiveMin: true,
    doc: 'Subsample size as a fraction of n (0.5 as Meinshausen–Bühlmann; 0.8 as OmicSelector2).',
  },
  threshold: {
    type: 'number',
    default: 0.6,
    min: 0,
    max: 1,
    exclusiveMin: true,
    doc: 'Keep features selected in at least this fraction of subsamples.',
  },
  stratify: { type: 'boolean', default: true, doc: 'Stratify subsamples by class / event.' },
  confidence: {
    type: 'number',
    default: 0.95,
    min: 0.5,
    max: 0.999,
    doc: 'Level of the stability-index confidence interval.',
  },
  path: {
    type: 'enum',
    values: ['auto', 'batched', 'threads'],
    default: 'auto',
    doc: 'auto: one batched tensor computation when the base selector supports it (lasso / elastic_net at a fixed alpha) and native TensorFlow (CPU/GPU) is the tensor backend, else subsamples on worker threads; batched / threads force one.',
  },
} satisfies ArgSpecs;

export function parseJsonObject(field: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${field}: not valid JSON: ${text}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error(`${field}: must be a JSON object`);
  }
  return v as Record<string, unknown>;
}

export const stabilitySelector: SelectorDef<StabilitySelectorArgs> = {
  kind: 'selector',
  code: 'stability_selection',
  label: 'Stability selection',
  description:
    'Runs a base selector on many subsamples; keeps features selected in at least `threshold` of them. Reports selection frequencies, the Meinshausen–Bühlmann PFER bound and the Nogueira stability index with a CI.',
  reference:
    'Meinshausen & Bühlmann (2010) JRSS-B 72:417–473; Nogueira, Sechidis & Brown (2018) JMLR 18(174)',
  tasks: ['binary', 'multiclass', 'continuous', 'survival'],
  device: 'both',
  gpuMinCells: 2_000_000,
  args,
  async run(ds, a, ctx, k) {
    const r = await stabilitySelection(
      ds,
      {
        base: a.base,
        base_args: parseJsonObject('base_args', a.base_args),
        base_k: a.base_k,
        n_subsamples: a.n_subsamples,
        sample_fraction: a.sample_fraction,
        threshold: a.threshold,
        stratify: a.stratify,
        confidence: a.confidence,
        path: a.path,
      },
      ctx,
      undefined,
      k,
    );
    const scores: Record<string, number> = {};
    ds.featureNames.forEach((f, j) => (scores[f] = r.frequency[j]!));
    return {
      selected: r.selected,
      scores,
      params: { ...a },
      diagnostics: {
        frequency: scores,
        q: r.q,
        pfer_bound: r.pfer_bound,
        pfer_bound_valid: a.sample_fraction === 0.5 && a.threshold > 0.5,
        nogueira: r.nogueira,
        path: r.path,
        base_backend: r.backend,
      },
      backend: r.path === 'batched' ? r.backend : `${r.backend} (${r.path})`,
    };
  },
};
