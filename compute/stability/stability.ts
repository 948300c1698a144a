/**
 * Stability selection (Meinshausen & Bühlmann 2010) over any registered selector: run it on
 * `n_subsamples` subsamples drawn without replacement (size ⌊sample_fraction · n⌋, stratified by
 * class / event by default), count how often each feature is selected, keep features selected in
 * at least `threshold` of the runs. Reports the PFER bound and Nogueira's stability index with a
 * confidence interval. Subsamples run on worker threads (each with its own seed); when the base
 * selector has a batched tensor kernel, all subsamples run as one batched computation instead.
 */
import { parseArgs } from '../core/args';
import { subsetSamples, type Dataset } from '../core/dataset';
import { checkAbort, type RunContext, type SelectorDef } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';
import { Rng } from '../core/rng';
import { initTensorBackend } from '../core/tensor';
import { shareDataset } from '../evaluation/cross-validate';
import { registryResolver, type Resolver } from '../evaluation/pipeline';
import { defaultStrata } from '../resampling/strata';
import { BUILTIN_BATCHED } from './batched';
import { CD_CHUNK_MODULE, type CdChunkTask, cdChunkTasks } from './float64';
import { nogueiraStability, pferBound, type StabilityIndex } from './nogueira';

export interface StabilityOptions {
  base: string;
  base_args?: Record<string, unknown>;
  /** k handed to the base selector per subsample (0: its own rule). */
  base_k?: number;
  n_subsamples?: number;
  sample_fraction?: number;
  threshold?: number;
  stratify?: boolean;
  confidence?: number;
  /**
   * auto: the batched tensor kernel when the base selector has one and can use it, else threads;
   * batched: require the kernel; threads: always fit subsamples one by one.
   */
  path?: 'auto' | 'batched' | 'threads';
}

export interface StabilityResult {
  /** Selection frequency per feature (in dataset order). */
  frequency: Float64Array;
  counts: Int32Array;
  /** Features with frequency ≥ threshold, most frequent first (ties by column order). */
  selected: string[];
  /** Feature indices chosen in each subsample. */
  sets: Int32Array[];
  /** Average number of features selected per subsample (q). */
  q: number;
  pfer_bound: number;
  nogueira: StabilityIndex;
  n_subsamples: number;
  sample_fraction: number;
  threshold: number;
  path: 'batched' | 'threads' | 'in-process';
  backend: string;
}

/** Subsample index sets, stratified by class (event for survival) when asked. */
/**
 * Below this many subsample cells (Σ rows × p) the float64 path runs on the calling thread
 * (environment override OMICSELECTOR_CD_THREAD_MIN_CELLS, used by tests).
 */
export const CD_THREAD_MIN_CELLS = 50_000_000;

export function drawSubsamples(
  ds: Dataset,
  m: number,
  fraction: number,
  stratify: boolean,
  rng: Rng,
): Int32Array[] {
  const n = ds.nSamples;
  const strata = stratify ? defaultStrata(ds) : new Int32Array(n);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(strata[i]!) ?? [];
    g.push(i);
    groups.set(strata[i]!, g);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const out: Int32Array[] = [];
  for (let s = 0; s < m; s++) {
    const r = rng.fork(s);
    const idx: number[] = [];
    for (const key of keys) {
      const members = groups.get(key)!;
      const take = Math.max(1, Math.floor(members.length * fraction));
      for (const j of r.sample(members.length, take)) idx.push(members[j]!);
    }
    out.push(Int32Array.from(idx).sort());
  }
  return out;
}

export interface SubsampleTask {
  ds: Dataset;
  idx: Int32Array;
  base: string;
  baseArgs: Record<string, unknown>;
  baseK: number;
  seed: number;
  threads: number;
}

/** One subsample (exported for worker threads): indices of the selected features. */
export async function runSubsample(
  task: SubsampleTask,
  resolver: Resolver = registryResolver,
  signal?: AbortSignal,
): Promise<{ selected: Int32Array; backend: string }> {
  const def = resolver.selector(task.base) as SelectorDef<Record<string, unknown>>;
  const sub = subsetSamples(task.ds, task.idx);
  const res = await def.run(
    sub,
    task.baseArgs,
    { rng: new Rng(task.seed), signal, progress: () => undefined, threads: task.threads },
    task.baseK > 0 ? task.baseK : undefined,
  );
  const index = new Map(task.ds.featureNames.map((f, j) => [f, j]));
  return { selected: Int32Array.from(res.selected, f => index.get(f)!), backend: res.backend };
}

/**
 * A batched kernel for a base selector: all subsamples in one computation. Registered by the
 * kernels that support it (lasso / elastic net / logistic on the tensor backend).
 */
export type BatchedSelection = (
  ds: Dataset,
  subsamples: Int32Array[],
  baseArgs: Record<string, unknown>,
  baseK: number,
  ctx: RunContext,
) => Promise<{ sets: Int32Array[]; backend: string } | null>;

const batchedKernels = new Map<string, BatchedSelection>(Object.entries(BUILTIN_BATCHED));

export function registerBatchedSelection(code: string, kernel: BatchedSelection): void {
  batchedKernels.set(code, kernel);
}

export async function stabilitySelection(
  ds: Dataset,
  opts: StabilityOptions,
  ctx: RunContext,
  resolver: Resolver = registryResolver,
  k?: number,
): Promise<StabilityResult> {
  const m = opts.n_subsamples ?? 100;
  const fraction = opts.sample_fraction ?? 0.5;
  const threshold = opts.threshold ?? 0.6;
  if (!(fraction > 0 && fraction < 1)) throw new Error('sample_fraction must be in (0, 1)');
  const def = resolver.selector(opts.base) as SelectorDef<Record<string, unknown>>;
  const baseArgs = parseArgs(def.args, opts.base_args, `base_args.`);
  const baseK = opts.base_k ?? 0;
  const subsamples = drawSubsamples(ds, m, fraction, opts.stratify ?? true, ctx.rng.fork(0));
  const seeds = subsamples.map((_, i) => ctx.rng.fork(1000 + i).seed);

  let sets: Int32Array[] | null = null;
  let backend = 'float64';
  let path: StabilityResult['path'] = 'in-process';
  const want = opts.path ?? 'auto';
  let kernel =
    resolver === registryResolver && want !== 'threads' ? batchedKernels.get(opts.base) : undefined;
  // auto: batch only on native TensorFlow (CPU or GPU). Elsewhere the batched kernel's host
  // engine is about as fast as the float64 coordinate descent on worker threads (100 Gaussian
  // subsamples of 100 × 2,000: 0.63 s vs 0.76 s), and the float64 path solves each subsample
  // exactly rather than in float32.
  if (kernel && want === 'auto' && (await initTensorBackend('auto')) !== 'tensorflow') {
    kernel = undefined;
  }
  if (kernel) {
    const out = await kernel(ds, subsamples, baseArgs, baseK, ctx);
    if (out) {
      sets = out.sets;
      backend = out.backend;
      path = 'batched';
    }
  }
  if (want === 'batched' && !sets) {
    throw new Error(
      `path=batched: no batched kernel for ${opts.base} with these arguments (needs lasso / elastic_net with a fixed alpha on a continuous or binary outcome without missing values)`,
    );
  }
  const threads = Math.max(1, Math.min(ctx.threads ?? defaultThreads(), m));
  const custom = resolver !== registryResolver;
  if (!sets && !custom) {
    // glmnet-style selectors at a fixed alpha: chunks of subsamples fitted straight from the
    // shared matrix (float64.ts), the same sets as the per-subsample selector runs below.
    // Small jobs stay on this thread: each worker pays its own JIT warm-up of the solver (≈ 1 s
    // CPU), more than all 100 fits at 100 × 2,000 once optimised (≈ 0.65 s).
    let cells = 0;
    for (const idx of subsamples) cells += idx.length * ds.nFeatures;
    const minCells = Number(process.env.OMICSELECTOR_CD_THREAD_MIN_CELLS ?? CD_THREAD_MIN_CELLS);
    const cdThreads = cells < minCells ? 1 : threads;
    const shared = cdThreads > 1 ? shareDataset(ds) : ds;
    const tasks = cdChunkTasks(shared, opts.base, baseArgs, baseK, subsamples, cdThreads * 4);
    if (tasks) {
      const chunks = await parallelMap<CdChunkTask, Int32Array[]>(
        CD_CHUNK_MODULE,
        'cdChunk',
        tasks,
        {
          threads: cdThreads,
          signal: ctx.signal,
          onDone: (done, total) => ctx.progress(done / total, `subsample chunk ${done}/${total}`),
        },
      );
      sets = chunks.flat();
      path = cdThreads > 1 ? 'threads' : 'in-process';
    }
  }
  if (!sets) {
    const onDone = (done: number, total: number): void =>
      ctx.progress(done / total, `subsample ${done}/${total}`);
    const shared = threads > 1 && !custom ? shareDataset(ds) : ds;
    const tasks: SubsampleTask[] = subsamples.map((idx, i) => ({
      ds: shared,
      idx,
      base: opts.base,
      baseArgs,
      baseK,
      seed: seeds[i]!,
      threads: threads > 1 ? 1 : (ctx.threads ?? defaultThreads()),
    }));
    let results: { selected: Int32Array; backend: string }[];
    if (custom) {
      results = [];
      for (const t of tasks) {
        checkAbort(ctx.signal);
        results.push(await runSubsample(t, resolver, ctx.signal));
        onDone(results.length, tasks.length);
      }
    } else {
      path = threads > 1 ? 'threads' : 'in-process';
      results = await parallelMap(__filename, 'runSubsample', tasks, {
        threads,
        signal: ctx.signal,
        onDone,
      });
    }
    sets = results.map(r => r.selected);
    backend = results[0]?.backend ?? backend;
  }
  return summarise(ds, sets, {
    m,
    fraction,
    threshold,
    level: opts.confidence ?? 0.95,
    k,
    path,
    backend,
  });
}

function summarise(
  ds: Dataset,
  sets: Int32Array[],
  o: {
    m: number;
    fraction: number;
    threshold: number;
    level: number;
    k?: number;
    path: StabilityResult['path'];
    backend: string;
  },
): StabilityResult {
  const p = ds.nFeatures;
  const counts = new Int32Array(p);
  let total = 0;
  for (const s of sets) {
    total += s.length;
    for (const j of s) counts[j]!++;
  }
  const frequency = Float64Array.from(counts, c => c / sets.length);
  const order = Array.from({ length: p }, (_, j) => j).sort(
    (a, b) => frequency[b]! - frequency[a]! || a - b,
  );
  const chosen =
    o.k && o.k > 0 ? order.slice(0, o.k) : order.filter(j => frequency[j]! >= o.threshold);
  const q = total / sets.length;
  return {
    frequency,
    counts,
    selected: chosen.map(j => ds.featureNames[j]!),
    sets,
    q,
    pfer_bound: pferBound(q, p, o.threshold),
    nogueira: nogueiraStability(sets, p, o.level),
    n_subsamples: o.m,
    sample_fraction: o.fraction,
    threshold: o.threshold,
    path: o.path,
    backend: o.backend,
  };
}
