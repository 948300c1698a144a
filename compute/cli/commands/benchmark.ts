/**
 * `omicselector benchmark --input data.csv --target col --selectors a,b --models c,d --seed S
 *  [--k 10] [--signature name=f1,f2,…] [--stability] [--ensemble majority] --json`:
 * OmicSelector-style signature benchmarking on a seeded 60/20/20 train/test/validation split.
 * With --json one object goes to stdout:
 * {"signatures":[...],"table":[...],"recommended":{...},"comparisons":[...],"split","cv","task","seconds"}.
 */
import { type Command } from 'commander';
import { taskOf } from '../../core/dataset';
import { DEFAULT_SEED } from '../../core/rng';
import { ENSEMBLE_MODES, type EnsembleMode } from '../../ensemble/aggregate';
import { benchmark, type SignatureSource } from '../../evaluation/benchmark';
import { models, selectors } from '../../registry';
import { type CliCommand } from '../command';
import { checkDatasetFlags, loadDataset, type DatasetFlags } from '../dataset';
import { UsageError } from '../errors';
import { methodArgs, parseBackend, parseNonNegativeInt, parseParamPairs } from '../options';
import { formatNumber, table, writeJson, writeStdout } from '../output';
import { runTimed } from '../run';
import { checkMetrics, knownCode, splitList } from './evaluate';

interface BenchmarkFlags extends DatasetFlags {
  selectors?: string;
  models?: string;
  k?: string;
  signature?: string[];
  param?: string[];
  stability?: boolean;
  subsamples?: string;
  ensemble?: string;
  cv?: string;
  repeats?: string;
  testSize?: string;
  validationSize?: string;
  metrics?: string;
  seed?: string;
  threads?: string;
  backend?: string;
  json?: boolean;
}

/** `--param code.key=value` → per-method raw args. */
function paramsByMethod(pairs: string[] | undefined): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const [key, value] of Object.entries(parseParamPairs(pairs))) {
    const dot = key.indexOf('.');
    if (dot <= 0)
      throw new UsageError('--param', `expects method.key=value, got "${key}=${value}"`);
    const code = key.slice(0, dot);
    const args = out.get(code) ?? {};
    args[key.slice(dot + 1)] = value;
    out.set(code, args);
  }
  return out;
}

function fraction(flag: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!(v >= 0 && v < 1)) throw new UsageError(flag, `must be a fraction in [0, 1), got ${raw}`);
  return v;
}

async function runBenchmark(f: BenchmarkFlags): Promise<void> {
  const selCodes = splitList('--selectors', f.selectors) ?? [];
  const modelCodes = splitList('--models', f.models);
  if (!modelCodes) throw new UsageError('--models', 'is required (comma-separated model codes)');
  for (const c of selCodes) knownCode('--selectors', c, selectors);
  for (const c of modelCodes) knownCode('--models', c, models);
  const params = paramsByMethod(f.param);
  for (const code of params.keys()) {
    if (!selCodes.includes(code) && !modelCodes.includes(code)) {
      throw new UsageError('--param', `"${code}" is not one of the --selectors or --models`);
    }
  }
  const argsOf = (code: string, list: readonly { code: string; args: object }[]) =>
    methodArgs(list.find(m => m.code === code)!.args as never, params.get(code) ?? {});
  const k = parseNonNegativeInt('--k', f.k) ?? 10;
  const signatures: SignatureSource[] = selCodes.map(code => ({
    name: code,
    selector: { code, args: argsOf(code, selectors), k },
  }));
  if (f.stability) {
    const n = parseNonNegativeInt('--subsamples', f.subsamples) ?? 100;
    for (const code of selCodes) {
      signatures.push({
        name: `stability(${code})`,
        selector: {
          code: 'stability_selection',
          args: {
            base: code,
            base_args: JSON.stringify(argsOf(code, selectors)),
            base_k: k,
            n_subsamples: n,
          },
          k,
        },
      });
    }
  }
  if (f.ensemble !== undefined) {
    if (!(ENSEMBLE_MODES as readonly string[]).includes(f.ensemble)) {
      throw new UsageError('--ensemble', `must be one of ${ENSEMBLE_MODES.join(', ')}`);
    }
    if (selCodes.length < 2) throw new UsageError('--ensemble', 'needs at least two --selectors');
    signatures.push({
      name: `ensemble(${f.ensemble})`,
      selector: {
        code: 'ensemble',
        args: {
          selectors: selCodes,
          selector_args: JSON.stringify(selCodes.map(c => argsOf(c, selectors))),
          mode: f.ensemble as EnsembleMode,
          base_k: k,
        },
        k,
      },
    });
  }
  for (const raw of f.signature ?? []) {
    const eq = raw.indexOf('=');
    const list = eq > 0 ? splitList('--signature', raw.slice(eq + 1)) : undefined;
    if (!list)
      throw new UsageError(
        '--signature',
        `expects name=feature1,feature2,…, got ${JSON.stringify(raw)}`,
      );
    signatures.push({ name: raw.slice(0, eq).trim(), features: list });
  }
  if (signatures.length === 0) {
    throw new UsageError('--selectors', 'give at least one selector or --signature');
  }
  const seed = parseNonNegativeInt('--seed', f.seed) ?? DEFAULT_SEED;
  const threads = parseNonNegativeInt('--threads', f.threads);
  const metrics = checkMetrics(f.metrics);
  const backend = parseBackend(f.backend);
  const testSize = fraction('--test-size', f.testSize, 0.2);
  const validationSize = fraction('--validation-size', f.validationSize, 0.2);
  if (!(testSize > 0)) throw new UsageError('--test-size', 'must be above 0');
  checkDatasetFlags(f, true, 'benchmark');

  const { dataset: ds, outcomeNote } = await loadDataset(f);
  const task = taskOf(ds);
  for (const code of [...selCodes, ...modelCodes]) {
    const def = [...selectors, ...models].find(m => m.code === code)!;
    if (!def.tasks.includes(task)) {
      throw new UsageError(
        selCodes.includes(code) ? '--selectors' : '--models',
        `${code} supports ${def.tasks.join(', ')} outcomes; this outcome is ${outcomeNote}`,
      );
    }
  }
  const { result: r, seconds } = await runTimed({ json: f.json, seed, threads, backend }, ctx =>
    benchmark(
      ds,
      {
        signatures,
        models: modelCodes.map(code => ({ code, args: argsOf(code, models) })),
        split: {
          code: 'train_test_validation',
          args: { test_size: testSize, validation_size: validationSize },
        },
        cv: {
          n_splits: parseNonNegativeInt('--cv', f.cv) ?? 5,
          n_repeats: parseNonNegativeInt('--repeats', f.repeats) ?? 2,
        },
        metrics,
      },
      ctx,
    ),
  );
  if (f.json) {
    return writeJson({
      task: r.task,
      split: r.split,
      cv: r.cv,
      metrics: r.metrics,
      signatures: r.signatures,
      table: r.table,
      comparisons: r.comparisons,
      recommended: r.recommended,
      seconds,
    });
  }
  const primary = r.signatures[0]?.metaindex_metric ?? 'accuracy';
  const ranked = [...r.signatures].sort((a, b) => a.rank_metaindex - b.rank_metaindex);
  return writeStdout(
    [
      `benchmark  ${ds.nSamples} samples × ${ds.nFeatures} features  outcome: ${outcomeNote}`,
      `split ${r.split.n_train}/${r.split.n_test}/${r.split.n_validation} (train/test/validation), CV ${r.cv.n_splits}-fold × ${r.cv.n_repeats} on train, ${formatNumber(seconds)} s`,
      '',
      table(
        [
          'rank',
          'signature',
          'features',
          'metaindex',
          `train ${primary}`,
          `test ${primary}`,
          `valid ${primary}`,
          'valid Youden',
          'CV score',
        ],
        ranked.map(s => [
          s.rank_metaindex,
          s.name,
          s.n_features,
          s.metaindex,
          s.mean_score.train,
          s.mean_score.test,
          s.mean_score.validation,
          s.validation_youden,
          s.cv_score,
        ]),
      ),
      `recommended: ${r.recommended.signature}`,
      ...r.recommended.reasons.map(x => `  - ${x}`),
      '',
    ].join('\n'),
  );
}

export const benchmarkCommand: CliCommand = {
  name: 'benchmark',
  register(program: Command) {
    program
      .command('benchmark')
      .description('benchmark candidate signatures × models on a train/test/validation split')
      .option('--input <file>', 'CSV or TSV file, optionally .gz; one row per sample')
      .option('--sample-id <column>', 'sample id column (default: the first column)')
      .option(
        '--ignore <column...>',
        'columns that are neither features nor the outcome (e.g. other clinical annotations)',
      )
      .option('--target <column>', 'outcome column (binary, multiclass or continuous)')
      .option('--positive-class <value>', 'positive class of a binary target')
      .option('--task <type>', 'force the target type: binary, multiclass or continuous')
      .option('--time <column>', 'survival time column (with --event)')
      .option('--event <column>', 'survival event column, 1 = event, 0 = censored (with --time)')
      .option('--selectors <list>', 'comma-separated selector codes, one signature each')
      .option('--models <list>', 'comma-separated model codes')
      .option(
        '--k <n>',
        'features per selected signature (default 10; 0: each selector’s own rule)',
      )
      .option(
        '--signature <name=f1,f2...>',
        'a user-given signature name=feature1,feature2, repeatable',
      )
      .option('--stability', 'add stability selection of each selector as a signature')
      .option('--subsamples <n>', 'stability subsamples (default 100)')
      .option(
        '--ensemble <mode>',
        `add an ensemble of the selectors (${ENSEMBLE_MODES.join(', ')})`,
      )
      .option('--param <method.key=value...>', 'selector / model parameter, repeatable')
      .option('--cv <n>', 'CV folds on the training split (default 5)')
      .option('--repeats <n>', 'CV repeats (default 2)')
      .option('--test-size <f>', 'test fraction (default 0.2)')
      .option('--validation-size <f>', 'validation fraction (default 0.2)')
      .option('--metrics <list>', 'comma-separated metric codes (default: per task)')
      .option('--seed <n>', `random seed (default ${DEFAULT_SEED})`)
      .option('--threads <n>', 'worker threads (default: all cores)')
      .option('--backend <name>', 'tensor backend: tensorflow, wasm or cpu')
      .option('--json', 'print exactly one JSON object on stdout')
      .action((flags: BenchmarkFlags) => runBenchmark(flags));
  },
};
