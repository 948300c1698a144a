/**
 * L1-SVM selection: l1-penalised squared-hinge linear SVM (scikit-learn LinearSVC(penalty='l1',
 * loss='squared_hinge', dual=False)) on standardised features; one-vs-rest for multiclass.
 * Score = |standardised weight| (multiclass: L2 norm over the one-vs-rest weights); own rule =
 * non-zero weights (empty when C is so small that every weight is 0).
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type SelectorDef } from '../core/method';
import { recordOf, withLazy } from '../stats/lazy';
import { selectTop } from '../stats/selection';
import { assertNoMissing } from '../linear/model';
import { fitLinearSvc } from '../linear/svm';

export interface L1SvmArgs {
  C: number;
  standardize: boolean;
  tol: number;
  max_iter: number;
}

const args = {
  C: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    doc: 'Weight of the summed squared hinge loss (LinearSVC C); smaller = sparser.',
  },
  standardize: {
    type: 'boolean',
    default: true,
    doc: 'Centre and scale features to unit population sd first (StandardScaler).',
  },
  tol: {
    type: 'number',
    default: 1e-4,
    min: 0,
    exclusiveMin: true,
    doc: 'Stop when the largest optimality violation falls below tol × its initial value.',
  },
  max_iter: { type: 'integer', default: 10000, min: 1, doc: 'Maximum coordinate-descent sweeps.' },
} satisfies ArgSpecs;

export const l1Svm: SelectorDef<L1SvmArgs> = {
  kind: 'selector',
  code: 'l1_svm',
  label: 'L1-SVM',
  description:
    'l1-penalised squared-hinge linear SVM (LinearSVC penalty=l1, dual=False) on standardised ' +
    'features; one-vs-rest for multiclass. Score = |standardised weight|; own rule = non-zero ' +
    'weights.',
  reference:
    'Bradley & Mangasarian (1998) ICML; Yuan et al. (2010) JMLR 11:3183; scikit-learn LinearSVC',
  tasks: ['binary', 'multiclass'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    assertNoMissing(ds, 'l1_svm');
    const { labels, classes } = classLabels(ds);
    const p = ds.nFeatures;
    ctx.progress(0, 'fit');
    const r = fitLinearSvc(ds.data, ds.nSamples, p, labels, classes.length, {
      C: a.C,
      penalty: 'l1',
      interceptScaling: 1,
      tol: a.tol,
      maxIter: a.max_iter,
      standardize: a.standardize,
      signal: ctx.signal,
    });
    const K = r.intercept.length;
    const scores = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let c = 0; c < K; c++) {
        const b = r.coef[c * p + j]! * r.sd[j]!;
        s += b * b;
      }
      scores[j] = Math.sqrt(s);
    }
    const selected = selectTop(ds, scores, k, j => scores[j]! > 0);
    const coefficients: Record<string, number | number[]> = {};
    for (let j = 0; j < p; j++) {
      if (scores[j] === 0) continue;
      const w = Array.from({ length: K }, (_, c) => r.coefWorking[c * p + j]!);
      coefficients[ds.featureNames[j]!] = K === 1 ? w[0]! : w;
    }
    ctx.progress(1, 'done');
    // the score record is built on first read (stats/lazy.ts)
    const names = ds.featureNames;
    return withLazy(
      {
        selected,
        params: { ...a },
        diagnostics: {
          iterations: r.iterations,
          converged: r.converged,
          n_nonzero: Object.keys(coefficients).length,
          intercept: K === 1 ? r.intercept[0] : Array.from(r.intercept),
          classes,
          coefficients,
        },
        backend: 'float64',
      },
      { scores: () => recordOf(names, scores) },
    );
  },
};
