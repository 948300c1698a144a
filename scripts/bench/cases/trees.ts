/**
 * Tree ensembles, Boruta and RFE against scikit-learn 1.2 / xgboost 1.7 at the same settings,
 * both sides on 2 threads. Ours bins features once (≤ 255 value bins) and searches splits on
 * histograms; scikit-learn's forests sort values per node (exact splits), xgboost `hist` builds
 * its own quantile sketch — same models, different split-search machinery.
 *
 * Boruta: BorutaPy is not installed, so the reference is BorutaPy's loop written out with
 * scikit-learn forests (shadows, hits against the shadow maximum, BH + Bonferroni two-step
 * binomial tests, BorutaPy's 'auto' tree count, max_depth 5, balanced classes) — the same work
 * our implementation does, step for step.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from '../../../compute/core/args';
import { type Dataset } from '../../../compute/core/dataset';
import { quietContext } from '../../../compute/core/method';
import { closeThreadPool } from '../../../compute/core/parallel';
import { getSelector } from '../../../compute/registry';
import { type BenchCase } from '../case';
import { syntheticDataset } from '../run';

function ours(code: string, raw: Record<string, unknown>, k?: number) {
  return (ds: Dataset) => {
    const def = getSelector(code);
    return def.run(ds, parseArgs(def.args, raw) as never, quietContext(42), k);
  };
}

const BORUTA_PY = `
from scipy.stats import binom
from sklearn.ensemble import RandomForestClassifier
rs = np.random.RandomState(0)
n, p = X.shape
dec = np.zeros(p, dtype=int)
hits = np.zeros(p, dtype=int)
def bh(ps, alpha):
    m = len(ps)
    order = np.argsort(ps)
    ok = ps[order] <= np.arange(1, m + 1) / m * alpha
    out = np.zeros(m, dtype=bool)
    if ok.any():
        out[order[: np.max(np.where(ok)[0]) + 1]] = True
    return out
it = 1
while np.any(dec == 0) and it < 100:
    cur = np.where(dec >= 0)[0]
    m = len(cur)
    n_tree = int((2 * m) / (np.sqrt(2 * m) * 5) * 100)
    xc = X[:, cur]
    sh = np.apply_along_axis(rs.permutation, 0, xc)
    rf = RandomForestClassifier(n_estimators=n_tree, max_depth=5, class_weight='balanced',
                                n_jobs=2, random_state=rs.randint(1 << 30))
    imp = rf.fit(np.hstack([xc, sh]), y).feature_importances_
    smax = imp[m:].max()
    hits[cur[imp[:m] > smax]] += 1
    h = hits[cur]
    acc_p = binom.sf(h - 1, it, 0.5)
    rej_p = binom.cdf(h, it, 0.5)
    acc = bh(acc_p, 0.05) & (acc_p <= 0.05 / it)
    rej = bh(rej_p, 0.05) & (rej_p <= 0.05 / it)
    tent = dec[cur] == 0
    dec[cur[acc & tent]] = 1
    dec[cur[rej & tent]] = -1
    it += 1
`;

export const cases: BenchCase[] = [
  {
    name: 'random_forest (500 trees)',
    task: 'binary',
    ours: ours('random_forest', { n_estimators: 500 }),
    reference: {
      label: 'sklearn RandomForestClassifier(500, n_jobs=2)',
      python:
        'from sklearn.ensemble import RandomForestClassifier\n' +
        'imp = RandomForestClassifier(n_estimators=500, n_jobs=2, random_state=0).fit(X, y).feature_importances_',
    },
  },
  {
    name: 'gradient_boosting (100 rounds)',
    task: 'binary',
    ours: ours('gradient_boosting', { n_estimators: 100 }),
    reference: {
      label: "xgboost XGBClassifier(100, tree_method='hist', nthread=2)",
      python:
        'import xgboost as xgb\n' +
        "imp = xgb.XGBClassifier(n_estimators=100, tree_method='hist', max_depth=6, learning_rate=0.3, " +
        'base_score=0.5, nthread=2, random_state=0).fit(X, y).feature_importances_',
    },
  },
  {
    name: 'boruta (max_iter 100)',
    task: 'binary',
    ours: ours('boruta', { max_iter: 100 }),
    reference: { label: 'BorutaPy loop with sklearn forests (n_jobs=2)', python: BORUTA_PY },
  },
  {
    name: 'rfe (random_forest, step 0.1, keep 10)',
    task: 'binary',
    ours: ours('rfe', { step: 0.1, n_features_to_select: 10 }),
    reference: {
      label: 'sklearn RFE(RandomForestClassifier(100, n_jobs=2), step=0.1)',
      python:
        'from sklearn.ensemble import RandomForestClassifier\n' +
        'from sklearn.feature_selection import RFE\n' +
        'sel = RFE(RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0), ' +
        'n_features_to_select=10, step=0.1).fit(X, y).support_',
    },
  },
];

/**
 * One run to completion at a chosen size, with the outcome (`npm run build`, then
 * `node dist/scripts/bench/cases/trees.js [n] [p] [code] [args-json]`, defaults 500 20000 boruta
 * '{"max_iter":100}'): the bench's binary synthetic data (10 informative features), 2 threads,
 * seed 42. Prints wall and process CPU seconds, load averages, and for Boruta the iterations,
 * confirmed / tentative / rejected counts and the recall of the informative features.
 */
async function runToCompletion(argv: string[]): Promise<void> {
  const n = Number(argv[0] ?? 500);
  const p = Number(argv[1] ?? 20000);
  const code = argv[2] ?? 'boruta';
  const raw = JSON.parse(argv[3] ?? '{"max_iter":100}') as Record<string, unknown>;
  const ds = syntheticDataset('binary', { label: `${n}×${p}`, n, p });
  const def = getSelector(code);
  const loadStart = loadavg();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let stage = '';
  const ctx = {
    ...quietContext(42),
    threads: 2,
    progress: (_f: number, s: string) => {
      if (s === stage) return;
      stage = s;
      const c = process.cpuUsage(c0);
      process.stderr.write(
        `${new Date().toISOString()} ${s} wall ${((performance.now() - t0) / 1000).toFixed(1)} s, cpu ${((c.user + c.system) / 1e6).toFixed(1)} s, load ${loadavg()
          .map(x => x.toFixed(1))
          .join(' ')}\n`,
      );
    },
  };
  const res = await def.run(ds, parseArgs(def.args, raw) as never, ctx, undefined);
  const c = process.cpuUsage(c0);
  const d = res.diagnostics as Record<string, unknown>;
  const confirmed = (d.confirmed as string[] | undefined) ?? res.selected;
  const informative = Array.from({ length: 10 }, (_, j) => `f${j + 1}`);
  process.stdout.write(
    JSON.stringify({
      n,
      p,
      code,
      args: raw,
      wall: (performance.now() - t0) / 1000,
      cpu: (c.user + c.system) / 1e6,
      loadStart,
      loadEnd: loadavg(),
      iterations: d.iterations,
      selected: confirmed.length,
      tentative: (d.tentative as string[] | undefined)?.length,
      rejected: d.rejected_count,
      recall: informative.filter(f => confirmed.includes(f)).length / informative.length,
      treesPerIteration: d.trees_per_iteration,
      first: confirmed.slice(0, 20),
    }) + '\n',
  );
  await closeThreadPool();
}

if (require.main === module) {
  runToCompletion(process.argv.slice(2)).catch(e => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
