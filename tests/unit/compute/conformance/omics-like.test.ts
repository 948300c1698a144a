/**
 * Conformance on omics-like data: every issue-#4 selector and model, run through the CLI's code
 * path (`selectOutput` = what `omicselector select <method> --input f.csv --target t --json`
 * prints) on RNA-seq counts, log2(CPM+1), methylation betas (NA cells), proteomics (missing not at
 * random), scikit-learn's breast cancer and diabetes sets, against scikit-learn 1.2 / scipy 1.10 /
 * R glmnet 4.1 / R stats references (scripts/fixtures/omics_like.py, omics_like_glmnet.R).
 *
 * Tolerances (issue #4):
 *   - filters: p-values and adjusted p-values 1e-8 relative; statistics 1e-8 relative; variance,
 *     fold change 1e-10 relative; rankings identical as tie groups: features whose reference
 *     scores are equal within 1e-9 relative (duplicated features, tied counts) form one group, any
 *     order inside it (ours: column order, the documented tie rule); NaN scores rank last;
 *   - own-rule selections (adjusted p ≤ alpha, variance > threshold, |log2FC| ≥ 1 …) equal the
 *     reference's sets, in the same tie-group order;
 *   - coefficients at a fixed alpha: |Δ| ≤ 1e-4·max(1, |β|) (glmnet thresh 1e-14); predicted
 *     probabilities 1e-5, fitted values 1e-6 relative;
 *   - CV-chosen lasso selections: median Jaccard ≥ 0.8 against cv.glmnet over 20 fold seeds (our
 *     folds come from our generator, so one R draw is not "the" answer).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../../../compute/core/args';
import { type Dataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { cvElnet } from '../../../../compute/linear/cv';
import { DEFAULT_CONTROL } from '../../../../compute/linear/path';
import { targetOf } from '../../../../compute/linear/selector';
import { type LinearModel } from '../../../../compute/linear/model';
import { getModel } from '../../../../compute/registry';
import {
  close,
  FIXTURES,
  jaccard,
  loadFixture,
  median,
  mismatches,
  type Num,
  rankingDisagreement,
  readRef,
  runCli,
  type JsonOutput,
  OUTCOMES,
  tieGroups,
} from './helpers';

jest.setTimeout(120_000);

interface SelectorCase {
  id: string;
  input: string;
  method: string;
  target: string | null;
  positive?: string;
  params: Record<string, unknown>;
  k: number;
  scores?: Num[];
  statistic?: Num[];
  pValues?: Num[];
  adj_bh?: Num[];
  adj_bonferroni?: Num[];
  adj_holm?: Num[];
  keep?: string[];
  log2fc?: Num[];
  kept?: string[];
  nonzero?: string[];
}

const selectorCases = readRef<SelectorCase[]>('ref_selectors.json');

/** Feature names in column order, as the CLI parses them (cached per file). */
const namesCache = new Map<string, Promise<string[]>>();
function featureNames(input: string, target: string | null): Promise<string[]> {
  if (!namesCache.has(input)) {
    const outcome = target ?? OUTCOMES[input]![0]!;
    namesCache.set(
      input,
      loadFixture(input, outcome).then(ds => ds.featureNames),
    );
  }
  return namesCache.get(input)!;
}

/** CLI outputs per case id (own rule), shared by the reference and the R cross-checks. */
const outputs = new Map<string, Promise<JsonOutput>>();
function ownRule(c: SelectorCase): Promise<JsonOutput> {
  if (!outputs.has(c.id)) outputs.set(c.id, runCli({ ...c, k: 0 }));
  return outputs.get(c.id)!;
}

function record(out: JsonOutput, key: string): Record<string, Num> {
  return (out.diagnostics[key] ?? {}) as Record<string, Num>;
}

/** Reference −log10 p with p = 0 (underflow in scipy) as +∞, so it ranks first. */
function refScores(c: SelectorCase): Num[] {
  if (!c.pValues) return c.scores!;
  return c.pValues.map((p, j) => (p === 0 ? Infinity : c.scores![j]!));
}

const P_METHODS = new Set(['t_test', 'mann_whitney', 'anova', 'kruskal', 'correlation']);

describe('statistical filters on omics-like data (scipy / scikit-learn references)', () => {
  const pCases = selectorCases.filter(c => P_METHODS.has(c.method));

  it.each(pCases.map(c => [c.id, c] as const))(
    '%s: p-values, statistics, adjusted p',
    async (_, c) => {
      const names = await featureNames(c.input, c.target);
      const out = await ownRule(c);
      const p = record(out, 'pValues');
      // scipy underflows to 0 below ~1e-308 where we still carry ln p; both must be tiny then
      const pBad = mismatches(names, n => p[n] ?? null, c.pValues!, 1e-8, 0).filter(
        m => !/vs ref 0$/.test(m) || !/ours (0|[0-9.]+e-3\d\d)/.test(m),
      );
      expect(pBad).toEqual([]);
      const stat = record(out, 'statistic');
      expect(mismatches(names, n => stat[n] ?? null, c.statistic!, 1e-8, 1e-12)).toEqual([]);
      const method = (c.params.p_adjust as string | undefined) ?? 'bh';
      const refAdj = c[`adj_${method}` as 'adj_bh'];
      if (refAdj) {
        const adj = record(out, 'adjustedPValues');
        expect(mismatches(names, n => adj[n] ?? null, refAdj, 1e-8, 0)).toEqual([]);
      }
    },
  );

  it.each(pCases.map(c => [c.id, c] as const))(
    '%s: own-rule selection and full ranking',
    async (_, c) => {
      const names = await featureNames(c.input, c.target);
      const out = await ownRule(c);
      const method = (c.params.p_adjust as string | undefined) ?? 'bh';
      const alpha = (c.params.alpha as number | undefined) ?? 0.05;
      const refAdj = c[`adj_${method}` as 'adj_bh']!;
      // features with adjusted p within 1e-8 of alpha could fall either side; none occur here
      const border = names.filter((_n, j) => refAdj[j] !== null && close(refAdj[j]!, alpha, 1e-8));
      expect(border).toEqual([]);
      const keep = new Set(names.filter((_n, j) => refAdj[j] !== null && refAdj[j]! <= alpha));
      const scores = refScores(c);
      const keptGroups = tieGroups(names, scores)
        .map(g => g.filter(n => keep.has(n)))
        .filter(g => g.length > 0);
      expect(new Set(out.selected)).toEqual(keep);
      expect(rankingDisagreement(out.selected, keptGroups)).toBeNull();

      // every feature ranked: --k p
      const all = await runCli({ ...c, k: names.length });
      const groups = tieGroups(names, scores);
      const ranked = groups.flat();
      expect(rankingDisagreement(all.selected.slice(0, ranked.length), groups)).toBeNull();
      // undefined scores (constant / all-missing features) come last
      const undefinedRef = names.filter(n => !ranked.includes(n));
      expect(new Set(all.selected.slice(ranked.length))).toEqual(new Set(undefinedRef));
    },
  );

  const varCases = selectorCases.filter(c => c.method === 'variance_threshold');
  it.each(varCases.map(c => [c.id, c] as const))('%s', async (_, c) => {
    const names = await featureNames(c.input, c.target);
    const out = await runCli({ ...c, k: 0 });
    expect(mismatches(names, n => out.scores[n] ?? null, c.scores!, 1e-10, 1e-300)).toEqual([]);
    expect(new Set(out.selected)).toEqual(new Set(c.keep));
    const keep = new Set(c.keep);
    const groups = tieGroups(names, c.scores!)
      .map(g => g.filter(n => keep.has(n)))
      .filter(g => g.length > 0);
    expect(rankingDisagreement(out.selected, groups)).toBeNull();
  });

  const fcCases = selectorCases.filter(c => c.method === 'fold_change');
  it.each(fcCases.map(c => [c.id, c] as const))('%s', async (_, c) => {
    const names = await featureNames(c.input, c.target);
    const out = await runCli({ ...c, k: 0 });
    const lfc = record(out, 'log2FoldChange');
    expect(mismatches(names, n => lfc[n] ?? null, c.log2fc!, 1e-10, 1e-12)).toEqual([]);
    const keep = new Set(names.filter((_n, j) => c.scores![j] !== null && c.scores![j]! >= 1));
    expect(new Set(out.selected)).toEqual(keep);
    const groups = tieGroups(names, c.scores!)
      .map(g => g.filter(n => keep.has(n)))
      .filter(g => g.length > 0);
    expect(rankingDisagreement(out.selected, groups)).toBeNull();
  });

  const cfCases = selectorCases.filter(c => c.method === 'correlation_filter');
  it.each(cfCases.map(c => [c.id, c] as const))('%s: same greedy keep list', async (_, c) => {
    const out = await runCli({ ...c, k: 0 });
    expect(out.selected).toEqual(c.kept);
  });

  const svmCases = selectorCases.filter(c => c.method === 'l1_svm');
  it.each(svmCases.map(c => [c.id, c] as const))(
    '%s: LinearSVC l1 non-zero set and weights',
    async (_, c) => {
      // The l1 squared-hinge objective is nearly flat along collinear real features (breast
      // cancer radius / perimeter / area …): at equal objective (|Δ| ~1e-12 relative) the weights
      // of liblinear and ours differ by up to 5 %, so the objectives are compared, per
      // one-vs-rest problem, with both solvers run to tol 1e-8 / 1e-10.
      const ds = await loadFixture(c.input, c.target!, c.positive);
      const out = await runCli({
        ...c,
        params: { ...c.params, tol: 1e-8, max_iter: 100000 },
        k: 0,
      });
      const n = ds.nSamples;
      const p = ds.nFeatures;
      const C = (c.params.C as number | undefined) ?? 1;
      const coef = out.diagnostics.coefficients as Record<string, number | number[]>;
      const icpt = ([] as number[]).concat(out.diagnostics.intercept as number | number[]);
      const K = icpt.length;
      const y =
        ds.outcome.kind === 'binary' || ds.outcome.kind === 'multiclass' ? ds.outcome.labels : null;
      expect(y).not.toBeNull();
      for (let k = 0; k < K; k++) {
        const w = ds.featureNames.map(f => {
          const v = coef[f];
          return v === undefined ? 0 : Array.isArray(v) ? v[k]! : v;
        });
        const f = new Float64Array(n);
        let bWork = icpt[k]!;
        let l1 = 0;
        for (let j = 0; j < p; j++) {
          const col = ds.data.subarray(j * n, (j + 1) * n);
          let mean = 0;
          for (let i = 0; i < n; i++) mean += col[i]!;
          mean /= n;
          let v = 0;
          for (let i = 0; i < n; i++) v += (col[i]! - mean) ** 2;
          const sd = Math.sqrt(v / n);
          if (w[j] === 0 || sd === 0) continue;
          l1 += Math.abs(w[j]!);
          bWork += (w[j]! * mean) / sd;
          for (let i = 0; i < n; i++) f[i] += (w[j]! * (col[i]! - mean)) / sd;
        }
        let loss = 0;
        for (let i = 0; i < n; i++) {
          const yi = (K === 1 ? y![i] === 1 : y![i] === k) ? 1 : -1;
          loss += Math.max(0, 1 - yi * (f[i]! + bWork)) ** 2;
        }
        const ours = l1 + Math.abs(bWork) + C * loss;
        const ref = (c as SelectorCase & { objective: number[] }).objective[k]!;
        expect(ours).toBeLessThanOrEqual(ref * (1 + 1e-7));
        expect(ours).toBeGreaterThanOrEqual(ref * (1 - 1e-7));
      }
    },
  );
});

interface RTest {
  id: string;
  input: string;
  target: string;
  p: Num[];
  bh: Num[];
}

describe("R's own tests agree with ours (t.test, wilcox.test, kruskal.test, cor.test, p.adjust)", () => {
  const rTests = readRef<RTest[]>('ref_r_tests.json');
  it.each(rTests.map(t => [t.id, t] as const))('%s', async (_, t) => {
    const c = selectorCases.find(s => s.id === t.id)!;
    expect(c).toBeDefined();
    const names = await featureNames(c.input, c.target);
    const out = await ownRule(c);
    const p = record(out, 'pValues');
    // all-tied features (all-zero counts): R's wilcox.test gives NaN (0/0), scipy and ours p = 1
    const rp = t.p.map((v, j) =>
      v === null && c.method === 'mann_whitney' && p[names[j]!] === 1 ? 1 : v,
    );
    expect(mismatches(names, n => p[n] ?? null, rp, 1e-8)).toEqual([]);
    if (c.method === 'mann_whitney' && rp.some((v, j) => v !== t.p[j])) return; // m differs
    if (((c.params.p_adjust as string | undefined) ?? 'bh') === 'bh') {
      const adj = record(out, 'adjustedPValues');
      expect(mismatches(names, n => adj[n] ?? null, t.bh, 1e-8)).toEqual([]);
    }
  });
});

interface GlmnetFixed {
  id: string;
  input: string;
  method: string;
  target: string;
  positive: string | null;
  alpha: number[];
  l1_ratio: number[];
  family: string;
  coef: number[] | number[][];
  intercept: number[];
}
interface GlmnetCv {
  id: string;
  input: string;
  method: string;
  target: string;
  positive: string | null;
  family: string;
  l1_ratio: number[];
  lambda_min: number[];
  lambda_1se: number[];
  selected_min: number[][];
  selected_1se: number[][];
  /** cv.glmnet on R's seed-1 folds, refitted at thresh 1e-14 (0-based indices). */
  shared: {
    foldid: number[];
    lambda: number[];
    cvm: number[];
    cvsd: number[];
    index_min: number[];
    index_1se: number[];
  };
}
const glmnet = readRef<{ fixed: GlmnetFixed[]; cv: GlmnetCv[] }>('ref_glmnet.json');

/** |Δ| ≤ 1e-4·max(1, |β|) for coefficient vectors. */
function coefMismatches(names: string[], ours: (j: number) => number, ref: number[]): string[] {
  return mismatches(names, (_n, j) => ours(j), ref, 1e-4, 1e-4);
}

/** Gaussian tol is relative to var(y) (~6,000 for diabetes), so it needs to be tighter. */
const TOL: Record<string, number> = { gaussian: 1e-16 };

describe('penalised linear selectors at a fixed alpha (R glmnet, thresh 1e-14)', () => {
  const cases = glmnet.fixed.filter(c => c.method !== 'logistic_regression');
  it.each(cases.map(c => [c.id, c] as const))('%s', async (_, c) => {
    const names = await featureNames(c.input, c.target);
    // tol 1e-12 (glmnet's thresh is 1e-14 in the reference): at the default tol 1e-7 (glmnet's
    // default) coefficients agree only to ~1e-3 relative on these data, as glmnet's own would
    const params: Record<string, unknown> = { alpha: c.alpha[0], tol: TOL[c.family] ?? 1e-12 };
    if (c.method === 'elastic_net') params.l1_ratio = c.l1_ratio[0];
    const out = await runCli({ ...c, params, k: 0 });
    expect(out.diagnostics.family).toBe(c.family);
    const coef = (out.diagnostics.coefficients_original ?? {}) as Record<string, number | number[]>;
    if (c.family === 'multinomial') {
      const ref = c.coef as number[][];
      ref.forEach((row, k) => {
        const got = (j: number) => ((coef[names[j]!] as number[] | undefined) ?? [])[k] ?? 0;
        expect(coefMismatches(names, got, row)).toEqual([]);
      });
    } else {
      const got = (j: number) => (coef[names[j]!] as number | undefined) ?? 0;
      expect(coefMismatches(names, got, c.coef as number[])).toEqual([]);
      expect(close(out.diagnostics.intercept as number, c.intercept[0]!, 1e-4, 1e-4)).toBe(true);
    }
  });
});

describe('penalised linear selectors with alpha chosen by CV (cv.glmnet over 20 fold seeds)', () => {
  it.each(glmnet.cv.map(c => [c.id, c] as const))('%s', async (_, c) => {
    const names = await featureNames(c.input, c.target);
    for (const rule of ['min', '1se'] as const) {
      const out = await runCli({ ...c, params: { lambda_rule: rule }, k: 0 });
      const refSets = (rule === 'min' ? c.selected_min : c.selected_1se).map(s =>
        s.map(j => names[j]!),
      );
      const js = refSets.map(s => jaccard(out.selected, s));
      const rr: number[] = [];
      for (let a = 0; a < refSets.length; a++)
        for (let b = a + 1; b < refSets.length; b++) rr.push(jaccard(refSets[a]!, refSets[b]!));
      const lambdas = rule === 'min' ? c.lambda_min : c.lambda_1se;
      const chosen = out.diagnostics.chosen_alpha as number;
      // for the report: ours vs R, and R against itself across fold seeds
      console.log(
        `${c.id} lambda.${rule}: ours ${chosen.toPrecision(4)} (${out.selected.length} features), ` +
          `R ${Math.min(...lambdas).toPrecision(4)}..${Math.max(...lambdas).toPrecision(4)} ` +
          `(median ${median(lambdas).toPrecision(4)}); Jaccard ours–R median ${median(js).toFixed(3)} ` +
          `min ${Math.min(...js).toFixed(3)}; R–R median ${median(rr).toFixed(3)}`,
      );
      if (c.id === 'lasso/diabetes/progression' && rule === '1se') {
        // FINDING F8 (explained: fold-draw variance, no bug). Our default-seed folds give 3.93 (6
        // features), below R's 20 draws (4.21–10.43); cv.glmnet given those same fold ids picks
        // 3.93 too (and our λ.1se equals R's on shared folds for seeds 1–7, 42; the test below
        // checks the curves). One draw against R's spread fails here by chance, so this case
        // compares 20 of our draws (seeds 1–20: diabetes is cheap) with R's 20.
        const ours: string[][] = [out.selected];
        for (let seed = 1; seed <= 20; seed++) {
          const o = await runCli({ ...c, params: { lambda_rule: rule }, k: 0, seed });
          ours.push(o.selected);
        }
        const pairs = ours.flatMap(a => refSets.map(b => jaccard(a, b)));
        console.log(`F8: 21 draws ours–R median Jaccard ${median(pairs).toFixed(3)}`);
        expect(median(pairs)).toBeGreaterThanOrEqual(Math.min(0.8, median(rr)));
        continue;
      }
      expect(median(js)).toBeGreaterThanOrEqual(Math.min(0.8, median(rr)));
    }
  });
});

/**
 * cv.glmnet and our CV on the SAME fold ids (R's seed-1 draw, glmnet thresh 1e-14): the λ path
 * (1e-10), cvm and cvsd (5e-4 relative) and both chosen indices (exactly) must agree. Measured:
 * diabetes cvm 9e-8 / cvsd 4e-7, breast cancer 3e-6, log-CPM binomial 1e-5; p ≫ n Gaussian
 * log-CPM 3e-4 at the smallest λ (nearly interpolating fold fits), ≤ 2e-7 up to its λ.min. This checks the CV rules themselves
 * (fold fits on their own paths, lambda.interp alignment, fold-size-weighted cvm, cvsd =
 * sqrt(weighted mean((fold mean − cvm)²) / (K − 1)), the largest λ with cvm ≤ min + cvsd[min])
 * free of fold-draw variance (finding F8).
 */
describe('CV on shared fold ids: cvm / cvsd / lambda.min / lambda.1se as cv.glmnet', () => {
  it.each(glmnet.cv.map(c => [c.id, c] as const))('%s', async (_, c) => {
    const ds = await loadFixture(c.input, c.target, c.positive);
    const target = targetOf(ds);
    const sh = c.shared;
    const { curve } = await cvElnet(
      ds.data,
      ds.nSamples,
      ds.nFeatures,
      target,
      {
        l1Ratio: c.l1_ratio[0]!,
        nLambda: 100,
        eps: 1e-3,
        standardize: true,
        intercept: true,
        control: { ...DEFAULT_CONTROL, tol: TOL[c.family] ?? 1e-13 },
      },
      Int32Array.from(sh.foldid),
      { threads: 1 },
    );
    expect(curve.lambdas.length).toBe(sh.lambda.length);
    const idx = sh.lambda.map((_l, t) => `λ${t}`);
    expect(mismatches(idx, (_n, t) => curve.lambdas[t]!, sh.lambda, 1e-10, 0)).toEqual([]);
    const worst = (a: Float64Array, b: number[]) =>
      Math.max(...b.map((v, t) => Math.abs(a[t]! - v) / Math.abs(v)));
    console.log(
      `${c.id} shared folds: cvm max rel ${worst(curve.cvm, sh.cvm).toExponential(2)}, ` +
        `cvsd ${worst(curve.cvsd, sh.cvsd).toExponential(2)}, min/1se ${curve.indexMin}/${curve.index1se}`,
    );
    expect(mismatches(idx, (_n, t) => curve.cvm[t]!, sh.cvm, 5e-4, 0)).toEqual([]);
    expect(mismatches(idx, (_n, t) => curve.cvsd[t]!, sh.cvsd, 5e-4, 0)).toEqual([]);
    expect([curve.indexMin, curve.index1se]).toEqual([sh.index_min[0], sh.index_1se[0]]);
  });
});

interface ModelCase {
  id: string;
  input: string;
  model: string;
  target: string;
  positive?: string;
  params: Record<string, unknown>;
  coef: number[] | number[][];
  intercept: number | number[];
  proba?: number[] | number[][];
  values?: number[];
  decision?: number[] | number[][];
}

async function fitModel(
  code: string,
  input: string,
  target: string,
  positive: string | null | undefined,
  params: Record<string, unknown>,
) {
  const ds = await loadFixture(input, target, positive);
  const def = getModel(code);
  const args = parseArgs(def.args, params, code);
  const model = (await def.fit(ds, args as never, quietContext(1))) as LinearModel;
  return { ds, model, p: ds.nFeatures };
}

/**
 * Findings F5 / F6, explained: scikit-learn's lbfgs stops on its relative-objective rule (ftol
 * 64ε) before the coefficients settle, even at tol 1e-12; ours reaches a LOWER objective
 * (logcpm multinomial: 1.9970158 vs sklearn 2.0000103; l2 C = 0.01: 0.1147027705 vs …7718), so
 * these cases are compared by objective — ours ≤ the reference's — not coefficient by coefficient.
 */
const BY_OBJECTIVE = [
  'logistic_regression/logcpm/l2/1.0',
  'logistic_regression/logcpm/l2/0.01',
  'logistic_regression/logcpm/multinomial',
];

/**
 * Finding F4, explained (the reference stops early, as F5 / F6): on the raw breast cancer
 * features (areas ~1e3, smoothness ~1e-1; cond(Hessian) ≈ 2e9) scikit-learn's lbfgs stops ~5 %
 * from the optimum even at tol 1e-12 (C = 1: objective 53.80087 vs the exact 53.79461). The
 * fixture also holds the exact optimum (damped Newton on the full Hessian, gradient ≤ 4e-9); these
 * cases compare with that, and by objective with scikit-learn.
 */
const EXACT_REF = [
  'logistic_regression/breast_cancer/l2/1.0',
  'logistic_regression/breast_cancer/l2/0.05',
];

describe('models (scikit-learn references; l1 logistic from glmnet at lambda = 1/(C·n))', () => {
  const all = readRef<ModelCase[]>('ref_models.json');
  const cases = all.filter(c => !EXACT_REF.includes(c.id) && !BY_OBJECTIVE.includes(c.id));
  it.each(cases.map(c => [c.id, c] as const))('%s', async (_, c) => {
    // logistic_regression converged as tightly as the reference (lbfgs tol 1e-12); linear_svm
    // (p > n: liblinear's dual, as the reference) at tol 1e-6 — 1e-4 already agrees to 2e-6
    // relative (finding F7), 1e-8 (the reference's setting) costs ~4× the sweeps for 1e-10
    const params =
      c.model === 'logistic_regression'
        ? { ...c.params, tol: 1e-14 }
        : c.model === 'linear_svm'
          ? { ...c.params, tol: 1e-6 }
          : c.params;
    const { ds, model, p } = await fitModel(c.model, c.input, c.target, c.positive, params);
    const names = ds.featureNames;
    const rows = (Array.isArray(c.coef[0]) ? c.coef : [c.coef]) as number[][];
    const icpt = ([] as number[]).concat(c.intercept);
    const K = model.state.intercept.length;
    expect(K).toBe(rows.length);
    rows.forEach((row, k) => {
      expect(coefMismatches(names, j => model.state.coef[k * p + j]!, row)).toEqual([]);
      expect(close(model.state.intercept[k]!, icpt[k]!, 1e-4, 1e-4)).toBe(true);
    });
    const pred = model.predict(ds);
    if (c.proba) {
      if (pred.kind !== 'class') throw new Error('expected class predictions');
      const nc = pred.classes.length;
      const ref = c.proba as (number | number[])[];
      const bad = ref.filter((r, i) =>
        Array.isArray(r)
          ? r.some((v, k) => Math.abs(pred.proba[i * nc + k]! - v) > 1e-5)
          : Math.abs(pred.proba[i * nc + 1]! - r) > 1e-5,
      );
      expect(bad.length).toBe(0);
    }
    if (c.values) {
      if (pred.kind !== 'value') throw new Error('expected values');
      const rowIds = c.values.map((_v, i) => `row ${i}`);
      expect(mismatches(rowIds, (_n, i) => pred.values[i]!, c.values, 1e-6, 1e-6)).toEqual([]);
    }
    if (c.decision) {
      const d = model.decision(ds);
      const ref = (c.decision as (number | number[])[]).flat();
      const top = Math.max(1, ...ref.map(Math.abs));
      const bad = ref.filter((v, i) => Math.abs(d[i]! - v) > 1e-4 * top);
      expect(bad.length).toBe(0);
    }
  });

  const l1 = glmnet.fixed.filter(c => c.method === 'logistic_regression');
  it.each(l1.map(c => [c.id, c] as const))('%s', async (_, c) => {
    const C = 1 / (c.alpha[0]! * 72);
    const { ds, model, p } = await fitModel('logistic_regression', c.input, c.target, c.positive, {
      penalty: 'l1',
      C,
      tol: 1e-14,
    });
    expect(ds.nSamples).toBe(72);
    const ref = c.coef as number[];
    expect(coefMismatches(ds.featureNames, j => model.state.coef[j]!, ref)).toEqual([]);
    expect(p).toBe(ref.length);
  });
});

/** scikit-learn's logistic objective: C·Σ log-loss + ½‖W‖² (intercepts unpenalised). */
function logisticObjective(
  ds: Dataset,
  coef: ArrayLike<number>,
  intercept: ArrayLike<number>,
  C: number,
): number {
  const n = ds.nSamples;
  const p = ds.nFeatures;
  const o = ds.outcome;
  if (o.kind !== 'binary' && o.kind !== 'multiclass') throw new Error('classes expected');
  const K = intercept.length;
  let loss = 0;
  const z = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = intercept[k]!;
      for (let j = 0; j < p; j++) s += coef[k * p + j]! * ds.data[j * n + i]!;
      z[k] = s;
    }
    const y = o.labels[i]!;
    if (K === 1) {
      const v = z[0]!;
      loss += Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))) - y * v;
    } else {
      const m = Math.max(...z);
      let se = 0;
      for (let k = 0; k < K; k++) se += Math.exp(z[k]! - m);
      loss += m + Math.log(se) - z[y]!;
    }
  }
  let pen = 0;
  for (let q = 0; q < K * p; q++) pen += coef[q]! ** 2;
  return C * loss + pen / 2;
}

describe('logistic cases where scikit-learn stops early (F5, F6): compared by objective', () => {
  const all = readRef<(ModelCase & { classes?: string[] })[]>('ref_models.json');
  it.each(BY_OBJECTIVE.map(id => [id, all.find(c => c.id === id)!] as const))(
    '%s: our objective ≤ scikit-learn’s',
    async (_, c) => {
      const { ds, model, p } = await fitModel(c.model, c.input, c.target, c.positive, {
        ...c.params,
        tol: 1e-14,
      });
      const C = Number(c.params.C ?? 1);
      const rows = (Array.isArray(c.coef[0]) ? c.coef : [c.coef]) as number[][];
      const icpt = ([] as number[]).concat(c.intercept);
      // reference rows in our class order (multinomial), else as given
      const o = ds.outcome;
      const order =
        o.kind === 'multiclass' && c.classes
          ? o.classes.map(name => c.classes!.indexOf(name))
          : rows.map((_r, k) => k);
      const refCoef = order.flatMap(k => rows[k]!);
      const refIcpt = order.map(k => icpt[k]!);
      expect(refCoef).toHaveLength(model.state.coef.length);
      expect(p).toBe(rows[0]!.length);
      const ours = logisticObjective(ds, model.state.coef, model.state.intercept, C);
      const ref = logisticObjective(ds, refCoef, refIcpt, C);
      expect(ours).toBeLessThanOrEqual(ref * (1 + 1e-12));
      expect(ref - ours).toBeLessThan(1e-2 * ref); // the same optimum, not a different problem
    },
  );
});

describe('logistic on raw breast cancer (F4): the exact optimum, and ≤ scikit-learn’s objective', () => {
  const all =
    readRef<(ModelCase & { exact_coef: number[]; exact_intercept: number })[]>('ref_models.json');
  it.each(EXACT_REF.map(id => [id, all.find(c => c.id === id)!] as const))('%s', async (_, c) => {
    // tol 1e-12: coordinate descent on these unscaled, collinear columns gains about one digit
    // per ~2,000 passes (C = 1: 1e-10 → 6e-4, 1e-11 → 2e-4, 1e-12 → 6e-5 from the optimum; ~2 s)
    const { ds, model, p } = await fitModel(c.model, c.input, c.target, c.positive, {
      ...c.params,
      tol: 1e-12,
    });
    expect(p).toBe(c.exact_coef.length);
    expect(coefMismatches(ds.featureNames, j => model.state.coef[j]!, c.exact_coef)).toEqual([]);
    expect(close(model.state.intercept[0]!, c.exact_intercept, 1e-4, 1e-4)).toBe(true);
    const C = Number(c.params.C ?? 1);
    const ours = logisticObjective(ds, model.state.coef, model.state.intercept, C);
    const sk = logisticObjective(
      ds,
      (c.coef as number[][]).flat(),
      ([] as number[]).concat(c.intercept),
      C,
    );
    const exact = logisticObjective(ds, c.exact_coef, [c.exact_intercept], C);
    expect(ours).toBeLessThanOrEqual(sk);
    console.log(`${c.id}: objective ours ${ours} exact ${exact} scikit-learn ${sk}`);
    expect(ours - exact).toBeLessThan(1e-8 * exact);
  });
});

describe('behaviour on awkward omics data', () => {
  it('odd sample ids and feature names survive parsing (quotes, commas, |, /, spaces, unicode)', async () => {
    const names = await featureNames('counts.csv', 'condition');
    for (const n of [
      'quoted,comma',
      'a"b',
      'ENSG00000141510.17|TP53',
      'KRT5/6',
      'gene with space',
      'Ähnlich-α',
      '1-Mar',
      'NA_gene',
    ]) {
      expect(names).toContain(n);
    }
    expect(names).toHaveLength(360);
    const ds = await loadFixture('counts.csv', 'condition');
    expect(ds.sampleIds).toContain('sample "3", rep b');
  });

  it('binary target: positive class is the second in sorted order unless --positive-class', async () => {
    const ds = await loadFixture('counts.csv', 'condition');
    expect(ds.outcome.kind === 'binary' && ds.outcome.classes).toEqual(['normal', 'tumor']);
    const bc = await loadFixture('breast_cancer.csv', 'diagnosis');
    // "malignant" sorts second, as scikit-learn's target 0 = malignant would not suggest
    expect(bc.outcome.kind === 'binary' && bc.outcome.classes).toEqual(['benign', 'malignant']);
  });

  // FINDING F1 (fixed: compute/linear/selector.ts names the feature): lasso / elastic_net / ridge on data
  // with NA cells fail with "column 1 has missing values: impute before fitting a penalised linear
  // model" (a 0-based index, no feature name); l1_svm and the models name the feature.
  it('penalised selectors refuse NA cells, naming the column (finding F1)', async () => {
    await expect(
      runCli({
        input: 'methylation.csv',
        method: 'lasso',
        target: 'status',
        params: { alpha: 0.05 },
      }),
    ).rejects.toThrow(/feature "cg\d+[^"]*" has missing values/);
  });

  it('l1_svm refuses NA cells, naming the column', async () => {
    await expect(
      runCli({ input: 'proteomics.csv', method: 'l1_svm', target: 'group' }),
    ).rejects.toThrow(/l1_svm needs complete data: feature "sp\|P\d+\|PROT\d+_HUMAN"/);
  });

  it('constant, all-zero and duplicated features: NaN p-values last, duplicates tie by column', async () => {
    const c = selectorCases.find(s => s.id === 't_test/counts/welch')!;
    const all = await runCli({ ...c, k: 360 });
    const p = record(all, 'pValues');
    for (const n of ['G0010', 'G0011', 'MT-CO1']) expect(p[n]).toBeNull(); // all-zero, constant 7
    expect(all.selected.slice(-3).sort()).toEqual(['G0010', 'G0011', 'MT-CO1'].sort());
    // G0013 duplicates a DE gene: same score, listed right after it (tie → column order)
    const dupOf = Object.keys(all.scores).find(
      n => n !== 'G0013' && all.scores[n] === all.scores.G0013,
    )!;
    expect(dupOf).toBeDefined();
    const i = all.selected.indexOf('G0013');
    const j = all.selected.indexOf(dupOf);
    expect(Math.abs(i - j)).toBe(1);
  });

  it('results do not depend on column order (reversed CSV): same scores, same ranking up to ties', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omics-like-'));
    try {
      const lines = readFileSync(join(FIXTURES, 'logcpm.csv'), 'utf8').trimEnd().split('\n');
      // no quoted cells in the first column / outcome columns here; reverse the feature columns
      const split = (l: string) =>
        l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map(s => s.replace(/,$/, ''));
      const rev = lines.map(l => {
        const f = split(l).slice(0, -1);
        const feats = f.slice(1, f.length - 3).reverse();
        return [f[0], ...feats, ...f.slice(f.length - 3)].join(',');
      });
      const path = join(dir, 'logcpm_reversed.csv');
      writeFileSync(path, rev.join('\n') + '\n');
      for (const [method, params] of [
        ['t_test', {}],
        // converged tightly: at the default tol (glmnet's 1e-7 on the deviance) a p ≫ n binomial
        // lasso's coefficients move by up to 0.5 % with the visiting order (glmnet's do too)
        ['lasso', { alpha: 0.02, tol: 1e-13 }],
        ['l1_svm', { C: 0.1, tol: 1e-10 }],
      ] as const) {
        const a = await runCli({ input: 'logcpm.csv', method, target: 'condition', params, k: 0 });
        const b = await runCli(
          { input: 'logcpm.csv', method, target: 'condition', params, k: 0 },
          path,
        );
        const names = Object.keys(a.scores);
        expect(Object.keys(b.scores).sort()).toEqual(names.slice().sort());
        const tol = method === 't_test' ? 1e-12 : 1e-4; // iterative fits: the coefficient tolerance
        expect(
          mismatches(
            names,
            n => b.scores[n] ?? null,
            names.map(n => a.scores[n] ?? null),
            tol,
            1e-9,
          ),
        ).toEqual([]);
        const groups = tieGroups(
          names,
          names.map(n => a.scores[n] ?? null),
          1e-6,
        );
        const keep = new Set(a.selected);
        expect(new Set(b.selected)).toEqual(keep);
        expect(
          rankingDisagreement(
            b.selected,
            groups.map(g => g.filter(n => keep.has(n))).filter(g => g.length > 0),
          ),
        ).toBeNull();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
