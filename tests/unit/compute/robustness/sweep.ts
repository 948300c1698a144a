/**
 * The table-driven body shared by the sweep test files: every (method, case) pair the method's
 * outcome types allow, through the CLI's code path (run.ts), checked against expect.ts.
 */
import { models, selectors } from '../../../../compute/registry';
import { allCases, type Case } from './cases';
import {
  allowedNonFinite,
  expectedRefusal,
  K_MAY_FALL_SHORT,
  sweepK,
  sweepParams,
  WIDE_KIND_ORDER,
} from './expect';
import { runModel, runSelector, type Outcome } from './run';

const cases = allCases();

/** The methods each sweep file covers (together: the whole registry, checked in models.test.ts). */
export const SWEPT_SELECTORS = {
  filters: [
    'variance_threshold',
    'fold_change',
    't_test',
    'anova',
    'mann_whitney',
    'kruskal',
    'correlation',
    'correlation_filter',
    'mrmr',
    'relieff',
    'heg',
    'hdg',
    'cox',
  ],
  linear: ['lasso', 'elastic_net', 'ridge', 'l1_svm', 'stability_selection', 'ensemble'],
  trees: ['random_forest', 'gradient_boosting', 'boruta', 'rfe'],
} as const;

export const SWEPT_MODELS = [
  'logistic_regression',
  'linear_regression',
  'ridge',
  'linear_svm',
  'random_forest',
  'gradient_boosting',
  'cox',
  'svm',
  'knn',
] as const;

/** Codes of `codes` for which no case fits the method's outcome types (should be none). */
export function withoutCases(codes: readonly string[], kind: 'selector' | 'model'): string[] {
  const covered = new Set(pairs(codes, kind).map(([code]) => code));
  return codes.filter(c => !covered.has(c));
}

function supports(tasks: readonly string[], c: Pick<Case, 'kind'>): boolean {
  return tasks.includes(c.kind === 'none' ? 'unsupervised' : c.kind);
}

function pairs(codes: readonly string[], kind: 'selector' | 'model'): [string, string, Case][] {
  const list = kind === 'selector' ? selectors : models;
  return codes.flatMap(code => {
    const def = list.find(m => m.code === code);
    if (!def) throw new Error(`no ${kind} ${code}`);
    return cases
      .filter(c => supports(def.tasks, c))
      .filter(
        c =>
          c.id !== 'wide' || c.kind === WIDE_KIND_ORDER.find(k => supports(def.tasks, { kind: k })),
      )
      .map(c => [code, `${c.id}/${c.kind}`, c] as [string, string, Case]);
  });
}

function check(code: string, c: Case, o: Outcome, isModel = false): void {
  const refusal = expectedRefusal(isModel ? `model:${code}` : code, c);
  if (refusal) {
    // An expected refusal: an ordinary error whose message names what is at fault.
    expect({ status: o.status, detail: o.detail }).toEqual({
      status: 'refused',
      detail: expect.stringMatching(refusal),
    });
    return;
  }
  expect({ status: o.status, detail: o.detail }).toEqual({ status: 'ok', detail: '' });
  const unexpected = o.nonFinite.filter(
    ({ feature, value }) => !allowedNonFinite(code, c, o, feature, value),
  );
  expect(unexpected).toEqual([]);
}

/** Cases where a second run is too slow for the sweep's budget (determinism is checked on the rest). */
const HEAVY = new Set([
  'boruta',
  'rfe',
  'gradient_boosting',
  'relieff',
  'stability_selection',
  'ensemble',
  'correlation_filter',
]);

export function sweepSelectors(codes: readonly string[]): void {
  it.each(pairs(codes, 'selector'))('%s on %s', async (code, _name, c) => {
    const o = await runSelector(code, c, {
      params: sweepParams(code, c),
      k: sweepK(code, c),
      rerun: !(c.id === 'wide' && HEAVY.has(code)),
      kMayFallShort: code in K_MAY_FALL_SHORT,
    });
    check(code, c, o);
    const k = sweepK(code, c);
    if (o.status === 'ok' && k !== undefined && o.selected.length < Math.min(k, c.nFeatures)) {
      // Fewer than k only with the documented reason in the diagnostics.
      expect(o.diagnostics[K_MAY_FALL_SHORT[code]!]).toBeTruthy();
    }
    // A sane supervised method finds a perfectly separating feature.
    // (Stability selection with the univariate Cox base keeps nothing on 15-sample halves.)
    const exempt = code === 'stability_selection' && c.kind === 'survival';
    if (
      c.separating &&
      c.kind !== 'none' &&
      o.status === 'ok' &&
      SEES_OUTCOME.has(code) &&
      !exempt
    ) {
      // Boruta with the sweep's 10 iterations may still hold it as tentative (not rejected).
      const tentative = (o.diagnostics.tentative as string[] | undefined) ?? [];
      expect([...o.selected, ...tentative]).toContain(c.separating);
    }
  });
}

/** Selectors that rank by association with the outcome (the separating-feature check). */
const SEES_OUTCOME = new Set([
  'lasso',
  'elastic_net',
  'ridge',
  'l1_svm',
  'rfe',
  'boruta',
  'gradient_boosting',
  'random_forest',
  'ensemble',
  'stability_selection',
  't_test',
  'anova',
  'mann_whitney',
  'kruskal',
  'correlation',
  'mrmr',
  'relieff',
  'cox',
  'fold_change',
]);

export function sweepModels(codes: readonly string[]): void {
  it.each(pairs(codes, 'model'))('%s on %s', async (code, _name, c) => {
    const def = models.find(m => m.code === code)!;
    const o = await runModel(def, c, sweepParams(code, c, true));
    check(code, c, o, true);
  });
}
