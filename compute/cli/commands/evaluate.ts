/**
 * `omicselector evaluate <model> --input data.csv --target col [--features a,b,c]
 *  [--selector code --k n] [--cv 5 --repeats 1] [--tune tpe --trials 20] --seed S --json`:
 * leak-free cross-validation of a model (optionally with a selector re-run inside every training
 * fold and tuning by inner CV). With --json one object goes to stdout:
 * {"model","task","metrics":{name: mean over folds},"metrics_std","folds":[...],"seconds"}.
 */
import { type Command } from 'commander';
import { selectFeaturesByName, taskOf, type Dataset } from '../../core/dataset';
import { DEFAULT_SEED } from '../../core/rng';
import { crossValidate } from '../../evaluation/cross-validate';
import { type Pipeline } from '../../evaluation/pipeline';
import { findMetric } from '../../metrics';
import { models, selectors } from '../../registry';
import { type SplitSpec } from '../../resampling';
import { type CliCommand } from '../command';
import { checkDatasetFlags, loadDataset, type DatasetFlags } from '../dataset';
import { UsageError } from '../errors';
import { methodArgs, parseBackend, parseNonNegativeInt, parseParamPairs } from '../options';
import { formatNumber, table, writeJson, writeStdout } from '../output';
import { runTimed } from '../run';

export interface EvaluateFlags extends DatasetFlags {
  features?: string;
  selector?: string;
  k?: string;
  param?: string[];
  selectorParam?: string[];
  cv?: string;
  repeats?: string;
  metrics?: string;
  tune?: string;
  trials?: string;
  timeout?: string;
  seed?: string;
  threads?: string;
  backend?: string;
  json?: boolean;
}

export function splitList(flag: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new UsageError(flag, 'expects a comma-separated list');
  return list;
}

export function knownCode(flag: string, code: string, list: readonly { code: string }[]): void {
  if (!list.some(m => m.code === code)) {
    throw new UsageError(
      flag,
      `unknown ${JSON.stringify(code)} (known: ${list.map(m => m.code).join(', ')})`,
    );
  }
}

export function checkMetrics(raw: string | undefined): string[] | undefined {
  const list = splitList('--metrics', raw);
  for (const m of list ?? []) {
    try {
      findMetric(m);
    } catch (e) {
      throw new UsageError('--metrics', (e as Error).message);
    }
  }
  return list;
}

export function restrictFeatures(ds: Dataset, names: string[] | undefined): Dataset {
  if (!names) return ds;
  try {
    return selectFeaturesByName(ds, names);
  } catch (e) {
    throw new UsageError('--features', (e as Error).message);
  }
}

export function cvSplit(folds: number, repeats: number, ds: Dataset): SplitSpec {
  if (folds < 2) throw new UsageError('--cv', `must be at least 2, got ${folds}`);
  if (folds > ds.nSamples)
    throw new UsageError('--cv', `${folds} folds for ${ds.nSamples} samples`);
  if (repeats < 1) throw new UsageError('--repeats', 'must be at least 1');
  const strat = ds.outcome.kind === 'survival' ? 'survival_stratified' : 'stratified_kfold';
  return repeats > 1
    ? { code: 'repeated', args: { n_splits: folds, n_repeats: repeats } }
    : { code: strat, args: { n_splits: folds } };
}

async function runEvaluate(code: string, f: EvaluateFlags): Promise<void> {
  knownCode('<model>', code, models);
  const model = models.find(m => m.code === code)!;
  const modelArgs = methodArgs(model.args, parseParamPairs(f.param));
  let selectorStep: Pipeline['selectors'];
  if (f.selector) {
    knownCode('--selector', f.selector, selectors);
    const sel = selectors.find(s => s.code === f.selector)!;
    selectorStep = [
      {
        code: f.selector,
        args: methodArgs(sel.args, parseParamPairs(f.selectorParam)),
        k: parseNonNegativeInt('--k', f.k),
      },
    ];
  } else if (f.k !== undefined || f.selectorParam) {
    throw new UsageError(
      f.k !== undefined ? '--k' : '--selector-param',
      'only applies with --selector',
    );
  }
  const tune = f.tune;
  if (tune !== undefined && tune !== 'tpe' && tune !== 'random') {
    throw new UsageError('--tune', `must be tpe or random, got ${JSON.stringify(tune)}`);
  }
  const seed = parseNonNegativeInt('--seed', f.seed) ?? DEFAULT_SEED;
  const folds = parseNonNegativeInt('--cv', f.cv) ?? 5;
  const repeats = parseNonNegativeInt('--repeats', f.repeats) ?? 1;
  const threads = parseNonNegativeInt('--threads', f.threads);
  const metrics = checkMetrics(f.metrics);
  const backend = parseBackend(f.backend);
  checkDatasetFlags(f, true, code);

  const { dataset: full, outcomeNote } = await loadDataset(f);
  const ds = restrictFeatures(full, splitList('--features', f.features));
  const task = taskOf(ds);
  if (!model.tasks.includes(task)) {
    throw new UsageError(
      f.time ? '--time' : '--target',
      `${code} supports ${model.tasks.join(', ')} outcomes; this outcome is ${outcomeNote}`,
    );
  }
  const pipeline: Pipeline = {
    selectors: selectorStep,
    model: {
      code,
      args: modelArgs,
      tune: tune
        ? {
            strategy: tune,
            n_trials: parseNonNegativeInt('--trials', f.trials) ?? 20,
            timeout_seconds: parseNonNegativeInt('--timeout', f.timeout) ?? null,
          }
        : undefined,
    },
  };
  const { result: r, seconds } = await runTimed({ json: f.json, seed, threads, backend }, ctx =>
    crossValidate(pipeline, ds, cvSplit(folds, repeats, ds), ctx, { metrics }),
  );
  if (f.json) {
    return writeJson({
      model: code,
      task,
      metrics: r.metrics,
      metrics_std: r.metrics_std,
      folds: r.folds.map(x => ({
        fold: x.fold,
        n_train: x.n_train,
        n_test: x.n_test,
        metrics: x.metrics,
        selected: x.selected,
        model_params: x.model_params,
        ...(x.tuning ? { tuning: x.tuning } : {}),
        seconds: x.seconds,
      })),
      ...(selectorStep ? { selection_frequency: r.selection_frequency } : {}),
      seconds,
    });
  }
  const names = Object.keys(r.metrics);
  return writeStdout(
    [
      `${code}  ${ds.nSamples} samples × ${ds.nFeatures} features  outcome: ${outcomeNote}`,
      `${r.folds.length} folds (${folds}-fold${repeats > 1 ? ` × ${repeats}` : ''})${selectorStep ? `, ${f.selector} re-run inside every training fold` : ''} in ${formatNumber(seconds)} s`,
      '',
      table(
        ['metric', 'mean', 'sd'],
        names.map(m => [m, r.metrics[m]!, r.metrics_std[m]!]),
      ),
    ].join('\n'),
  );
}

export const evaluate: CliCommand = {
  name: 'evaluate',
  register(program: Command) {
    program
      .command('evaluate')
      .description(
        'cross-validate a model (selection and tuning re-run inside every training fold)',
      )
      .argument('<model>', 'model code (see `omicselector methods`)')
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
      .option('--features <list>', 'comma-separated features to use (default: all)')
      .option('--selector <code>', 'selector re-run inside every training fold')
      .option('--k <n>', 'features the selector keeps (0 or absent: its own rule)')
      .option('--selector-param <key=value...>', 'selector parameter, repeatable')
      .option('--param <key=value...>', 'model parameter, repeatable')
      .option('--cv <n>', 'number of folds (default 5, stratified)')
      .option('--repeats <n>', 'repeat the k-fold with new shuffles (default 1)')
      .option('--metrics <list>', 'comma-separated metric codes (default: per task)')
      .option('--tune <strategy>', 'tune the model by inner CV: tpe or random')
      .option('--trials <n>', 'tuning trials per fold (default 20)')
      .option('--timeout <seconds>', 'tuning time bound per fold')
      .option('--seed <n>', `random seed (default ${DEFAULT_SEED})`)
      .option('--threads <n>', 'worker threads (default: all cores)')
      .option('--backend <name>', 'tensor backend: tensorflow, wasm or cpu')
      .option('--json', 'print exactly one JSON object on stdout')
      .action((model: string, flags: EvaluateFlags) => runEvaluate(model, flags));
  },
};
