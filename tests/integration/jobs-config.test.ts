/**
 * Job config validation against the compute registry (no services needed): every problem names the
 * exact field, defaults are filled in, nested selector args (stability, ensemble) are checked too,
 * and routing follows the registry's device declarations.
 */
import { ConfigError, validateJobConfig } from '../../src/modules/jobs/job.config';
import { NO_GPU_WORKER, needsGpuWorkerCount, routeJob } from '../../src/queue/routing';
import { Throttle } from '../../src/queue/throttle';
import { stallMessage } from '../../src/modules/jobs/job.reconciler';
import { classify } from '../../src/workers/compute-child';
import { JobInputError } from '../../src/workers/runners/context';
import { parseWorkerArgs } from '../../src/workers/main';
import { parseNvidiaSmiCsv } from '../../src/workers/gpu';
import { type JobTypeName } from '../../src/modules/jobs/job.model';

function fieldOf(type: JobTypeName, config: unknown): string {
  try {
    validateJobConfig(type, config);
  } catch (e) {
    if (e instanceof ConfigError) return e.field;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('job config validation', () => {
  test.each<[JobTypeName, unknown, string]>([
    ['FEATURE_SELECTION', {}, 'config.selectors'],
    ['FEATURE_SELECTION', { selectors: [] }, 'config.selectors'],
    ['FEATURE_SELECTION', { selectors: [{ code: 'nope' }] }, 'config.selectors[0].code'],
    [
      'FEATURE_SELECTION',
      { selectors: [{ code: 't_test', args: { alpha: 7 } }] },
      'config.selectors[0].args.alpha',
    ],
    [
      'FEATURE_SELECTION',
      { selectors: [{ code: 't_test' }, { code: 't_test', args: { bogus: 1 } }] },
      'config.selectors[1].args.bogus',
    ],
    ['FEATURE_SELECTION', { selectors: [{ code: 't_test', k: 0 }] }, 'config.selectors[0].k'],
    ['FEATURE_SELECTION', { selectors: [{ code: 't_test' }], extra: 1 }, 'config.extra'],
    [
      'FEATURE_SELECTION',
      { selectors: [{ code: 't_test' }], preprocessing: [{ code: 'zscore', args: { nope: 1 } }] },
      'config.preprocessing[0].args.nope',
    ],
    [
      'FEATURE_SELECTION',
      { selectors: [{ code: 'stability_selection', args: { base: 'nope' } }] },
      'config.selectors[0].args.base',
    ],
    [
      'FEATURE_SELECTION',
      {
        selectors: [
          { code: 'stability_selection', args: { base: 't_test', base_args: { alpha: -1 } } },
        ],
      },
      'config.selectors[0].args.base_args.alpha',
    ],
    [
      'FEATURE_SELECTION',
      { selectors: [{ code: 'stability_selection', args: { base: 't_test', n_subsamples: 1 } }] },
      'config.selectors[0].args.n_subsamples',
    ],
    [
      'FEATURE_SELECTION',
      { selectors: [{ code: 'ensemble', args: { selectors: ['t_test', 'nope'] } }] },
      'config.selectors[0].args.selectors[1]',
    ],
    [
      'FEATURE_SELECTION',
      {
        selectors: [
          {
            code: 'ensemble',
            args: { selectors: ['t_test', 'anova'], selector_args: { anova: { alpha: 2 } } },
          },
        ],
      },
      'config.selectors[0].args.selector_args.anova.alpha',
    ],
    ['MODEL_TRAINING', {}, 'config.model'],
    [
      'MODEL_TRAINING',
      { model: { code: 'knn', args: { n_neighbors: 0 } } },
      'config.model.args.n_neighbors',
    ],
    ['MODEL_TRAINING', { model: { code: 'knn' }, features: ['a', 'a'] }, 'config.features[1]'],
    [
      'MODEL_TRAINING',
      { model: { code: 'knn' }, features: ['a'], fromJob: '00000000-0000-4000-8000-000000000000' },
      'config.fromJob',
    ],
    ['MODEL_TRAINING', { model: { code: 'knn' }, fromJob: 'not-an-id' }, 'config.fromJob'],
    [
      'MODEL_TRAINING',
      {
        model: { code: 'knn' },
        validation: { splitter: { code: 'kfold', args: { n_splits: 1 } } },
      },
      'config.validation.splitter.args.n_splits',
    ],
    [
      'MODEL_TRAINING',
      { model: { code: 'knn' }, validation: { metrics: ['nope'] } },
      'config.validation.metrics[0]',
    ],
    [
      'MODEL_TRAINING',
      { model: { code: 'knn', tune: { nTrials: 0 } } },
      'config.model.tune.nTrials',
    ],
    [
      'HYPERPARAMETER_TUNING',
      { model: { code: 'knn' }, searchSpace: { bogus: { type: 'int', low: 1, high: 3 } } },
      'config.searchSpace.bogus',
    ],
    [
      'HYPERPARAMETER_TUNING',
      { model: { code: 'knn' }, searchSpace: { n_neighbors: { type: 'int', low: 9, high: 3 } } },
      'config.searchSpace.n_neighbors',
    ],
    [
      'HYPERPARAMETER_TUNING',
      {
        model: { code: 'knn' },
        searchSpace: { weights: { type: 'categorical', choices: ['uniform', 'nope'] } },
      },
      'config.searchSpace.weights.choices[1]',
    ],
    ['HYPERPARAMETER_TUNING', { model: { code: 'knn' }, strategy: 'grid' }, 'config.strategy'],
    ['BENCHMARKING', { models: [{ code: 'knn' }] }, 'config.signatures'],
    [
      'BENCHMARKING',
      {
        signatures: [{ name: 'a', features: ['g1'], selector: { code: 't_test' } }],
        models: [{ code: 'knn' }],
      },
      'config.signatures[0]',
    ],
    ['BENCHMARKING', { selectors: [{ code: 't_test' }], models: [] }, 'config.models'],
    [
      'BENCHMARKING',
      { selectors: [{ code: 't_test' }], models: [{ code: 'knn' }], cv: { nSplits: 1 } },
      'config.cv.nSplits',
    ],
    ['PREPROCESSING', { steps: [] }, 'config.steps'],
    ['PREDICTION', {}, 'config.modelJob'],
  ])('%s %j → %s', (type, config, field) => {
    expect(fieldOf(type, config)).toBe(field);
  });

  test('defaults are filled in and nested args normalised for the compute', () => {
    const v = validateJobConfig('FEATURE_SELECTION', {
      selectors: [
        { code: 'stability_selection', args: { base: 't_test', base_args: { alpha: 0.1 } } },
      ],
    });
    const sel = (v.config.selectors as { args: Record<string, unknown>; k: number | null }[])[0]!;
    expect(sel.args).toMatchObject({
      base: 't_test',
      base_args: '{"alpha":0.1}',
      n_subsamples: 100,
      sample_fraction: 0.5,
    });
    expect(sel.k).toBeNull();
    expect(v.config.seed).toBe(42);
    expect(v.methods.map(m => m.code)).toEqual(['stability_selection', 't_test']);
  });

  test('jobs a config reads are reported for ownership checks and dependencies', () => {
    const id = '11111111-1111-4111-8111-111111111111';
    const v = validateJobConfig('BENCHMARKING', {
      signatures: [{ name: 'prior', fromJob: { jobId: id, selector: 't_test' } }],
      selectors: [{ code: 'anova', k: 5 }],
      models: [{ code: 'knn' }],
    });
    expect(v.jobRefs).toEqual([
      { path: 'config.signatures[0].fromJob.jobId', jobId: id, types: ['FEATURE_SELECTION'] },
    ]);
    expect((v.config.signatures as { name: string }[]).map(s => s.name)).toEqual([
      'prior',
      'anova',
    ]);
  });
});

describe('routing', () => {
  const gpuMethod = [{ code: 'stability_selection', device: 'both' as const, gpuMinCells: 1000 }];
  const base = { methods: gpuMethod, cells: 5000, liveGpuWorkers: 1, defaultGpuMinCells: 10 };
  test('CPU → cpu, GPU → gpu, with a waiting reason when no GPU worker is live', () => {
    expect(routeJob({ ...base, device: 'CPU' }).pool).toBe('cpu');
    expect(routeJob({ ...base, device: 'GPU' })).toMatchObject({
      pool: 'gpu',
      waitingReason: null,
    });
    expect(routeJob({ ...base, device: 'GPU', liveGpuWorkers: 0 })).toMatchObject({
      pool: 'gpu',
      waitingReason: NO_GPU_WORKER,
    });
  });
  test('AUTO → gpu only with a live GPU worker, GPU-capable methods and enough cells', () => {
    expect(routeJob({ ...base, device: 'AUTO' }).pool).toBe('gpu');
    expect(routeJob({ ...base, device: 'AUTO', cells: 999 }).pool).toBe('cpu');
    expect(routeJob({ ...base, device: 'AUTO', liveGpuWorkers: 0 }).pool).toBe('cpu');
    const mixed = [...gpuMethod, { code: 't_test', device: 'cpu' as const }];
    expect(routeJob({ ...base, device: 'AUTO', methods: mixed })).toMatchObject({
      pool: 'cpu',
      explanation: expect.stringContaining('t_test'),
    });
    const noThreshold = [{ code: 'x', device: 'gpu' as const }];
    expect(routeJob({ ...base, device: 'AUTO', methods: noThreshold, cells: 9 }).pool).toBe('cpu');
    expect(routeJob({ ...base, device: 'AUTO', methods: noThreshold, cells: 10 }).pool).toBe('gpu');
    // With no GPU worker live, a CPU-only method still names itself as the reason.
    expect(routeJob({ ...base, device: 'AUTO', methods: mixed, liveGpuWorkers: 0 })).toMatchObject({
      pool: 'cpu',
      explanation: expect.stringContaining('t_test'),
    });
  });
  test('the live GPU worker count is looked up only when it can change the decision', () => {
    const { liveGpuWorkers: _ignored, ...facts } = base;
    expect(needsGpuWorkerCount({ ...facts, device: 'CPU' })).toBe(false);
    expect(needsGpuWorkerCount({ ...facts, device: 'GPU' })).toBe(true);
    expect(needsGpuWorkerCount({ ...facts, device: 'AUTO' })).toBe(true);
    expect(needsGpuWorkerCount({ ...facts, device: 'AUTO', cells: 999 })).toBe(false);
    const mixed = [...gpuMethod, { code: 't_test', device: 'cpu' as const }];
    expect(needsGpuWorkerCount({ ...facts, device: 'AUTO', methods: mixed })).toBe(false);
    expect(needsGpuWorkerCount({ ...facts, device: 'AUTO', methods: [] })).toBe(false);
  });
});

describe('worker pieces', () => {
  test('progress throttle: first value at once, then at most one per interval, latest value last', () => {
    jest.useFakeTimers();
    const seen: number[] = [];
    let now = 0;
    const th = new Throttle<number>(
      100,
      v => seen.push(v),
      () => now,
    );
    th.push(1);
    th.push(2);
    th.push(3);
    expect(seen).toEqual([1]);
    now = 100;
    jest.advanceTimersByTime(100);
    expect(seen).toEqual([1, 3]);
    th.push(4);
    th.cancel();
    jest.advanceTimersByTime(200);
    expect(seen).toEqual([1, 3]);
    jest.useRealTimers();
  });

  test('failure classification decides retries: only I/O problems are transient', () => {
    expect(
      classify(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), false).kind,
    ).toBe('TRANSIENT');
    expect(
      classify(new JobInputError('BAD_DATA', 'feature missing', 'config.features'), false),
    ).toEqual({ kind: 'BAD_DATA', message: 'feature missing', field: 'config.features' });
    expect(classify(new Error('matrix is singular'), false).kind).toBe('COMPUTE_FAILED');
    expect(classify(new Error('anything'), true).kind).toBe('ABORTED');
    expect(classify(Object.assign(new Error('x'), { name: 'AbortError' }), false).kind).toBe(
      'ABORTED',
    );
  });

  test('a second stall fails the job with a clear reason', () => {
    expect(stallMessage('job stalled more than allowable limit')).toMatchObject({
      code: 'WORKER_LOST',
      text: expect.stringMatching(/stopped responding twice/),
    });
  });

  test('worker CLI arguments', () => {
    expect(parseWorkerArgs(['--pool', 'gpu', '--allow-cpu-fallback'])).toMatchObject({
      pool: 'gpu',
      allowCpuFallback: true,
      concurrency: 1,
    });
    expect(parseWorkerArgs(['--pool', 'cpu', '--concurrency', '3'])).toMatchObject({
      pool: 'cpu',
      concurrency: 3,
      allowCpuFallback: false,
    });
    expect(() => parseWorkerArgs(['--pool', 'tpu'])).toThrow();
    expect(() => parseWorkerArgs(['--pool', 'cpu', '--concurrency', '0'])).toThrow();
  });

  test('nvidia-smi CSV → device facts', () => {
    expect(
      parseNvidiaSmiCsv(
        'NVIDIA A100-SXM4-40GB, 40960, 535.104.05\nTesla T4, 15360, 535.104.05\n',
        '12.2',
      ),
    ).toEqual([
      { name: 'NVIDIA A100-SXM4-40GB', memoryMb: 40960, driver: '535.104.05', cuda: '12.2' },
      { name: 'Tesla T4', memoryMb: 15360, driver: '535.104.05', cuda: '12.2' },
    ]);
  });
});
