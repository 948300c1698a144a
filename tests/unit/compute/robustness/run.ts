/**
 * Runs one method on one robustness case through the CLI's own code path and classifies what
 * happened: `ok` (a result that passed the sanity checks), `refused` (an ordinary Error whose
 * message is returned for the caller to check), or `bad` (a crash-class error — TypeError,
 * RangeError … — or a result that fails a check; `detail` says which).
 */
import { loadDataset } from '../../../../compute/cli/dataset';
import { findSelector, selectOutput } from '../../../../compute/cli/commands/select';
import { methodArgs, parseParamPairs } from '../../../../compute/cli/options';
import { taskOf, type Dataset } from '../../../../compute/core/dataset';
import { parseArgs } from '../../../../compute/core/args';
import { quietContext, type ModelDef, type Prediction } from '../../../../compute/core/method';
import { type Case } from './cases';

export type Status = 'ok' | 'refused' | 'bad';
export interface Outcome {
  status: Status;
  detail: string;
  /** Features whose score (selectors) or importance (models) is NaN or ±Infinity. */
  nonFinite: { feature: string; value: number }[];
  selected: string[];
  diagnostics: Record<string, unknown>;
  /** Features constant over the samples (observed values), from the parsed file. */
  constantFeatures: string[];
  seconds: number;
}

export interface RunOptions {
  params?: Record<string, unknown>;
  k?: number;
  seed?: number;
  /** Run a second time with the same seed and compare (default true). */
  rerun?: boolean;
  /** With k, may select fewer than min(k, p) (documented for the method). */
  kMayFallShort?: boolean;
}

const CRASH = ['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'InternalError'];

function paramFlags(params: Record<string, unknown>): string[] {
  return Object.entries(params).map(([key, v]) => `${key}=${String(v)}`);
}

function classifyError(e: unknown): Pick<Outcome, 'status' | 'detail'> {
  const err = e instanceof Error ? e : new Error(String(e));
  const crash = CRASH.includes(err.name) || !(e instanceof Error);
  return {
    status: crash ? 'bad' : 'refused',
    detail: `${crash ? `${err.name}: ` : ''}${err.message}`.slice(0, 300),
  };
}

async function selectOnce(
  code: string,
  c: Case,
  params: Record<string, unknown>,
  seed: number,
  k: number | undefined,
) {
  const { output } = await selectOutput(code, {
    input: c.path,
    ...c.flags,
    k: k !== undefined ? String(k) : undefined,
    param: paramFlags(params),
    seed: String(seed),
    json: true,
  });
  return output;
}

export async function runSelector(code: string, c: Case, opt: RunOptions = {}): Promise<Outcome> {
  const { params = {}, seed = 7, k } = opt;
  const t0 = performance.now();
  const base = { nonFinite: [], selected: [], seconds: 0, diagnostics: {}, constantFeatures: [] };
  let out;
  try {
    // The CLI path (CSV parsing, flags, task check) runs for the first method on each case; later
    // methods on the same file reuse its parsed dataset with the same argument parsing and run —
    // parsing the 40 × 3,000 file again for each of ~40 methods was most of the sweep's time.
    const parsed = cache.get(c.path);
    out = parsed
      ? await rerunSelector(code, parsed, params, seed, k)
      : await selectOnce(code, c, params, seed, k);
  } catch (e) {
    return { ...base, ...classifyError(e), seconds: (performance.now() - t0) / 1000 };
  }
  const seconds = (performance.now() - t0) / 1000;
  const problems: string[] = [];
  const { loaded } = await loadNames(c);
  const names = loaded.featureNames;
  const known = new Set(names);
  const unknown = out.selected.filter(s => !known.has(s));
  if (unknown.length) problems.push(`selected unknown features ${unknown.slice(0, 3).join(',')}`);
  if (new Set(out.selected).size !== out.selected.length) problems.push('duplicate selections');
  const scored = Object.keys(out.scores);
  if (scored.length !== names.length || scored.some(s => !known.has(s))) {
    problems.push(`scores for ${scored.length} of ${names.length} features`);
  }
  const nonFinite = names
    .filter(f => !Number.isFinite(out.scores[f]))
    .map(f => ({ feature: f, value: out.scores[f]! }));
  const want = k !== undefined && k > 0 ? Math.min(k, names.length) : undefined;
  if (
    want !== undefined &&
    (opt.kMayFallShort ? out.selected.length > want : out.selected.length !== want)
  ) {
    problems.push(`k=${k}: selected ${out.selected.length} of ${names.length}`);
  }
  // The same seed must give the same answer (diagnostics may carry timings; selection and
  // scores may not move).
  try {
    // The second run skips the CSV parsing (the first one went through it): the same parsed
    // dataset, arguments and seed as `select` gives its selector.
    const again = opt.rerun === false ? out : await rerunSelector(code, loaded, params, seed, k);
    if (
      JSON.stringify(again.selected) !== JSON.stringify(out.selected) ||
      JSON.stringify(again.scores) !== JSON.stringify(out.scores)
    ) {
      problems.push('not deterministic for the same seed');
    }
  } catch (e) {
    problems.push(`second run failed: ${(e as Error).message}`);
  }
  return {
    status: problems.length ? 'bad' : 'ok',
    detail: problems.join('; '),
    nonFinite,
    selected: out.selected,
    diagnostics: out.diagnostics,
    constantFeatures: constantFeatures(loaded),
    seconds,
  };
}

async function rerunSelector(
  code: string,
  ds: Dataset,
  params: Record<string, unknown>,
  seed: number,
  k: number | undefined,
) {
  const def = findSelector(code);
  const args = methodArgs(def.args, parseParamPairs(paramFlags(params)));
  return def.run(ds, args, quietContext(seed), k);
}

/** Features whose observed values are all equal (or that have fewer than two observed). */
function constantFeatures(ds: Dataset): string[] {
  const out: string[] = [];
  for (let j = 0; j < ds.nFeatures; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < ds.nSamples; i++) {
      const v = ds.data[j * ds.nSamples + i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi > lo)) out.push(ds.featureNames[j]!);
  }
  return out;
}

const cache = new Map<string, Dataset>();
async function loadNames(c: Case): Promise<{ loaded: Dataset }> {
  let ds = cache.get(c.path);
  if (!ds) {
    ds = (await loadDataset({ input: c.path, ...c.flags })).dataset;
    cache.set(c.path, ds);
  }
  return { loaded: ds };
}

function checkPrediction(p: Prediction, ds: Dataset): string[] {
  const n = ds.nSamples;
  const problems: string[] = [];
  if (p.kind === 'class') {
    const m = p.classes.length;
    if (p.labels.length !== n) problems.push(`${p.labels.length} labels for ${n} samples`);
    if (p.proba.length !== n * m) problems.push(`proba has ${p.proba.length} cells`);
    for (let i = 0; i < n; i++) {
      const l = p.labels[i]!;
      if (l < 0 || l >= m) {
        problems.push(`label ${l} out of range`);
        break;
      }
      let s = 0;
      for (let c = 0; c < m; c++) {
        const v = p.proba[i * m + c]!;
        if (!(v >= 0 && v <= 1)) {
          problems.push(`probability ${v} at sample ${i}`);
          return problems;
        }
        s += v;
      }
      if (Math.abs(s - 1) > 1e-6) {
        problems.push(`probabilities of sample ${i} sum to ${s}`);
        break;
      }
    }
  } else {
    const v = p.kind === 'value' ? p.values : p.risk;
    if (v.length !== n) problems.push(`${v.length} predictions for ${n} samples`);
    const bad = Array.from(v).findIndex(x => !Number.isFinite(x));
    if (bad >= 0) problems.push(`prediction ${v[bad]} at sample ${bad}`);
  }
  return problems;
}

function predictionKey(p: Prediction): string {
  if (p.kind === 'class') return JSON.stringify([Array.from(p.labels), Array.from(p.proba)]);
  return JSON.stringify(Array.from(p.kind === 'value' ? p.values : p.risk));
}

/**
 * The model path of `evaluate`/`train`: the CLI's parsing, fit with the registry's argument
 * parsing, predict on the same rows, save → JSON → load → predict again, and a second fit with
 * the same seed.
 */
export async function runModel(
  def: ModelDef<never>,
  c: Case,
  params: Record<string, unknown> = {},
  seed = 7,
): Promise<Outcome> {
  const base = { nonFinite: [], selected: [], seconds: 0, diagnostics: {}, constantFeatures: [] };
  const t0 = performance.now();
  let ds: Dataset;
  try {
    ds = (await loadNames(c)).loaded;
    if (!def.tasks.includes(taskOf(ds))) throw new Error(`task ${taskOf(ds)} not supported`);
    const args = parseArgs(def.args, params) as never;
    const fitted = await def.fit(ds, args, quietContext(seed));
    const pred = fitted.predict(ds);
    const problems = checkPrediction(pred, ds);
    const importance = fitted.importance?.();
    const nonFinite = importance
      ? Object.entries(importance)
          .filter(([, v]) => !Number.isFinite(v))
          .map(([feature, value]) => ({ feature, value }))
      : [];
    const state = JSON.parse(JSON.stringify(fitted.save())) as ReturnType<typeof fitted.save>;
    const reloaded = def.load(state).predict(ds);
    if (predictionKey(reloaded) !== predictionKey(pred))
      problems.push('save/load changes predictions');
    const again = await def.fit(ds, args, quietContext(seed));
    if (predictionKey(again.predict(ds)) !== predictionKey(pred)) {
      problems.push('not deterministic for the same seed');
    }
    return {
      status: problems.length ? 'bad' : 'ok',
      detail: problems.join('; '),
      nonFinite,
      selected: [],
      diagnostics: {},
      constantFeatures: constantFeatures(ds),
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    return { ...base, ...classifyError(e), seconds: (performance.now() - t0) / 1000 };
  }
}
