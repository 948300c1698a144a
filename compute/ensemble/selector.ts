/** `ensemble` as a registered selector over other registered selectors. */
import { type ArgSpecs } from '../core/args';
import { type SelectorDef } from '../core/method';
import { type SelectorStep } from '../evaluation/pipeline';
import { parseJsonObject } from '../stability/selector';
import { ENSEMBLE_MODES, type EnsembleMode } from './aggregate';
import { runEnsemble } from './ensemble';

export interface EnsembleArgs {
  selectors: string[];
  selector_args: string;
  mode: EnsembleMode;
  base_k: number;
  min_votes: number;
  weights: number[];
  soft_threshold: number;
  rra_alpha: number;
}

const args = {
  selectors: { type: 'string[]', required: true, doc: 'Codes of the member selectors.' },
  selector_args: {
    type: 'string',
    default: '{}',
    doc: 'JSON: an object keyed by selector code, or an array aligned with `selectors`, of argument objects.',
  },
  mode: {
    type: 'enum',
    values: ENSEMBLE_MODES,
    default: 'majority',
    doc: 'majority | soft_vote | borda | mean_rank | rra | intersection | union.',
  },
  base_k: {
    type: 'integer',
    default: 0,
    min: 0,
    doc: 'Top k each member keeps (0: each member’s own rule).',
  },
  min_votes: {
    type: 'number',
    default: 0.5,
    min: 0,
    exclusiveMin: true,
    doc: 'majority: votes needed — a count (≥ 1) or a fraction of the members (< 1, rounded up).',
  },
  weights: {
    type: 'number[]',
    default: [],
    doc: 'soft_vote: one weight per member (default equal).',
  },
  soft_threshold: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'soft_vote: keep features whose weighted normalised score reaches this.',
  },
  rra_alpha: {
    type: 'number',
    default: 0.05,
    min: 0,
    max: 1,
    doc: 'rra: keep features whose Bonferroni-corrected RRA p-value is at most this.',
  },
} satisfies ArgSpecs;

export function memberSteps(codes: string[], selectorArgs: string, baseK: number): SelectorStep[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(selectorArgs);
  } catch {
    throw new Error(`selector_args: not valid JSON: ${selectorArgs}`);
  }
  if (Array.isArray(parsed)) {
    if (parsed.length !== codes.length) {
      throw new Error(`selector_args: ${parsed.length} entries for ${codes.length} selectors`);
    }
    return codes.map((code, s) => ({
      code,
      args: parseJsonObject(`selector_args[${s}]`, JSON.stringify(parsed[s] ?? {})),
      k: baseK,
    }));
  }
  const byCode = parseJsonObject('selector_args', selectorArgs);
  for (const key of Object.keys(byCode)) {
    if (!codes.includes(key))
      throw new Error(`selector_args: "${key}" is not one of the selectors`);
  }
  return codes.map(code => ({
    code,
    args: (byCode[code] as Record<string, unknown> | undefined) ?? {},
    k: baseK,
  }));
}

export const ensembleSelector: SelectorDef<EnsembleArgs> = {
  kind: 'selector',
  code: 'ensemble',
  label: 'Ensemble of selectors',
  description:
    'Runs several selectors and combines them by majority vote, soft voting, Borda / mean-rank consensus, robust rank aggregation, intersection or union.',
  reference:
    'Kolde et al. (2012) Bioinformatics 28:573–580 (RRA); OmicSelector2 features/ensemble.py',
  tasks: ['binary', 'multiclass', 'continuous', 'survival'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    if (a.selectors.length < 2) throw new Error('selectors: an ensemble needs at least two');
    const steps = memberSteps(a.selectors, a.selector_args, a.base_k);
    const r = await runEnsemble(
      ds,
      steps,
      a.mode,
      {
        min_votes: a.min_votes,
        weights: a.weights,
        soft_threshold: a.soft_threshold,
        rra_alpha: a.rra_alpha,
      },
      ctx,
      undefined,
      k,
    );
    return {
      selected: r.selected,
      scores: r.scores,
      params: { ...a },
      diagnostics: { members: r.members, votes: r.votes, p_values: r.p_values },
      backend: [...new Set(r.members.map(m => m.backend))].join('+'),
    };
  },
};
