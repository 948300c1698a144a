/** Run several selectors on the same data and combine them (see aggregate.ts for the modes). */
import { parseArgs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { checkAbort, type RunContext, type SelectorDef, type SelectorResult } from '../core/method';
import { rankAndSelect } from '../core/select';
import { registryResolver, type Resolver, type SelectorStep } from '../evaluation/pipeline';
import { aggregate, type AggregateOptions, type EnsembleMode } from './aggregate';

export interface EnsembleResult {
  selected: string[];
  scores: Record<string, number>;
  members: { code: string; selected: string[]; backend: string }[];
  votes: Record<string, number>;
  p_values?: Record<string, number>;
}

export async function runEnsemble(
  ds: Dataset,
  members: readonly SelectorStep[],
  mode: EnsembleMode,
  opts: AggregateOptions,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
  k?: number,
): Promise<EnsembleResult> {
  const results: SelectorResult[] = [];
  for (let s = 0; s < members.length; s++) {
    checkAbort(ctx.signal);
    const step = members[s]!;
    const def = resolver.selector(step.code) as SelectorDef<Record<string, unknown>>;
    const args = parseArgs(def.args, step.args, `${step.code}.`);
    results.push(
      await def.run(
        ds,
        args,
        {
          ...ctx,
          rng: ctx.rng.fork(s),
          progress: (f, stage) => ctx.progress((s + f) / members.length, `${step.code}: ${stage}`),
        },
        step.k && step.k > 0 ? step.k : undefined,
      ),
    );
  }
  const agg = aggregate(ds.featureNames, results, mode, opts);
  const r = rankAndSelect(ds, agg.score, k, agg.keep);
  const byName = (a: ArrayLike<number>): Record<string, number> =>
    Object.fromEntries(ds.featureNames.map((f, j) => [f, a[j]!]));
  return {
    selected: r.selected,
    scores: r.scores,
    members: results.map((res, s) => ({
      code: members[s]!.code,
      selected: res.selected,
      backend: res.backend,
    })),
    votes: byName(agg.votes),
    p_values: agg.pValues ? byName(agg.pValues) : undefined,
  };
}
