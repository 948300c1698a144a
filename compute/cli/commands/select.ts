/**
 * `omicselector select <method> --input data.csv (--target col | --time col --event col) …`:
 * run one registered selector on a CSV/TSV file. `seconds` is the selector's compute time only
 * (CSV parsing excluded). With --json, exactly one JSON object goes to stdout:
 * {"method","task","selected","scores","params","diagnostics","backend","seconds"}
 * (NaN and ±Infinity, which JSON cannot represent, are written as null).
 */
import { type Command } from 'commander';
import { taskOf } from '../../core/dataset';
import { type SelectorDef } from '../../core/method';
import { DEFAULT_SEED } from '../../core/rng';
import { selectors } from '../../registry';
import { type CliCommand } from '../command';
import { checkDatasetFlags, loadDataset, type DatasetFlags } from '../dataset';
import { UsageError } from '../errors';
import { methodArgs, parseBackend, parseNonNegativeInt, parseParamPairs } from '../options';
import { formatNumber, table, writeJson, writeStdout } from '../output';
import { runTimed } from '../run';

export interface SelectFlags extends DatasetFlags {
  k?: string;
  param?: string[];
  seed?: string;
  backend?: string;
  json?: boolean;
}

export function findSelector(code: string): SelectorDef {
  const def = selectors.find(s => s.code === code);
  if (!def) {
    throw new UsageError(
      '<method>',
      `unknown selector ${JSON.stringify(code)} (known: ${selectors.map(s => s.code).join(', ')}; see \`omicselector methods\`)`,
    );
  }
  return def as unknown as SelectorDef;
}

/** The object `select --json` prints (before JSON turns NaN/±Infinity into null). */
export interface SelectOutput {
  method: string;
  task: string;
  selected: string[];
  scores: Record<string, number>;
  params: Record<string, unknown>;
  diagnostics: Record<string, unknown>;
  backend: string;
  seconds: number;
}

/**
 * Flags → parsed file → selector → the `--json` object: the whole code path of `select` but the
 * printing (the conformance tests call this on real-looking CSV files).
 */
export async function selectOutput(
  code: string,
  f: SelectFlags,
): Promise<{ output: SelectOutput; rows: number; features: number; outcomeNote: string }> {
  const def = findSelector(code);
  const k = parseNonNegativeInt('--k', f.k);
  const seed = parseNonNegativeInt('--seed', f.seed) ?? DEFAULT_SEED;
  const args = methodArgs(def.args, parseParamPairs(f.param));
  const backend = parseBackend(f.backend);
  checkDatasetFlags(f, !def.tasks.includes('unsupervised'), code);

  const { dataset, outcomeNote } = await loadDataset(f);
  const task = taskOf(dataset);
  if (!def.tasks.includes(task)) {
    const flag = f.time ? '--time' : '--target';
    throw new UsageError(
      flag,
      `${code} supports ${def.tasks.join(', ')} outcomes; this outcome is ${outcomeNote}`,
    );
  }
  const { result, seconds } = await runTimed({ json: f.json, seed, backend }, ctx =>
    def.run(dataset, args, ctx, k),
  );
  return {
    output: {
      method: code,
      task,
      selected: result.selected,
      scores: result.scores,
      params: result.params,
      diagnostics: result.diagnostics,
      backend: result.backend,
      seconds,
    },
    rows: dataset.nSamples,
    features: dataset.nFeatures,
    outcomeNote,
  };
}

async function runSelect(code: string, f: SelectFlags): Promise<void> {
  const {
    output: result,
    rows: nSamples,
    features: nFeatures,
    outcomeNote,
  } = await selectOutput(code, f);
  if (f.json) return writeJson(result);
  const { seconds } = result;
  const k = parseNonNegativeInt('--k', f.k);
  const p = result.diagnostics.pValues as Record<string, number> | undefined;
  const adj = result.diagnostics.adjustedPValues as Record<string, number> | undefined;
  const header = [
    'rank',
    'feature',
    'score',
    ...(p ? ['p-value'] : []),
    ...(adj ? ['adj. p'] : []),
  ];
  const rows = result.selected.map((name, r) => [
    r + 1,
    name,
    result.scores[name] ?? NaN,
    ...(p ? [p[name] ?? NaN] : []),
    ...(adj ? [adj[name] ?? NaN] : []),
  ]);
  const rule = k && k > 0 ? `top ${k}` : "the method's own rule";
  const lines = [
    `${code}  ${nSamples} samples × ${nFeatures} features  outcome: ${outcomeNote}`,
    `selected ${result.selected.length} of ${nFeatures} (${rule}) in ${formatNumber(seconds)} s on ${result.backend}`,
    `params: ${Object.entries(result.params)
      .map(([key, v]) => `${key}=${JSON.stringify(v)}`)
      .join(' ')}`,
    '',
    table(header, rows),
  ];
  return writeStdout(lines.join('\n'));
}

export const select: CliCommand = {
  name: 'select',
  register(program: Command) {
    program
      .command('select')
      .description('run a feature selector on a CSV/TSV file (samples as rows)')
      .argument('<method>', 'selector code (see `omicselector methods`)')
      .option('--input <file>', 'CSV or TSV file, optionally .gz; one row per sample')
      .option('--sample-id <column>', 'sample id column (default: the first column)')
      .option(
        '--ignore <column...>',
        'columns that are neither features nor the outcome (e.g. other clinical annotations)',
      )
      .option('--target <column>', 'outcome column (binary, multiclass or continuous)')
      .option(
        '--positive-class <value>',
        'positive class of a binary target (default: second in sorted order)',
      )
      .option('--task <type>', 'force the target type: binary, multiclass or continuous')
      .option('--time <column>', 'survival time column (with --event)')
      .option('--event <column>', 'survival event column, 1 = event, 0 = censored (with --time)')
      .option('--k <n>', 'keep the top n features; 0 or absent: the method’s own rule')
      .option('--param <key=value...>', 'method parameter, repeatable (names as in `methods`)')
      .option('--seed <n>', `random seed (default ${DEFAULT_SEED})`)
      .option('--backend <name>', 'tensor backend: tensorflow, wasm or cpu')
      .option('--json', 'print exactly one JSON object on stdout')
      .action((method: string, flags: SelectFlags) => runSelect(method, flags));
  },
};
