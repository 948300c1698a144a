/**
 * The job runners write their reports through the storage port under the run's prefix (in-process
 * here, with stub I/O): a survival MODEL_TRAINING job gets out-of-fold predictions and a
 * Kaplan–Meier plot; a PREDICTION job on a binary dataset gets a ROC plot.
 */
import { makeDataset, type Dataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { type RunnerContext } from '../../../../src/workers/runners/context';
import { runModelTraining } from '../../../../src/workers/runners/model-training';
import { runPrediction } from '../../../../src/workers/runners/prediction';
import { type RunSpec } from '../../../../src/workers/protocol';
import { hostileBinary } from './fixtures';

function survivalData(seed: number, n: number, p: number): Dataset {
  const rng = new Rng(seed);
  const data = new Float64Array(n * p);
  for (let k = 0; k < data.length; k++) data[k] = rng.normal();
  const time = new Float64Array(n);
  const event = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const lp = 0.9 * data[i]! - 0.7 * data[n + i]!;
    const t = -Math.log(rng.random()) / Math.exp(lp);
    const c = -Math.log(rng.random()) * 3;
    time[i] = Math.min(t, c);
    event[i] = t <= c ? 1 : 0;
  }
  return makeDataset({
    data,
    nSamples: n,
    featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
    outcome: { kind: 'survival', time, event },
  });
}

function context(
  type: RunSpec['type'],
  config: Record<string, unknown>,
  ds: Dataset,
  store: Map<string, { body: Buffer; type: string }>,
  jobs: Record<string, unknown> = {},
): RunnerContext {
  const spec: RunSpec = {
    jobId: 'job-1',
    ownerId: 'u',
    datasetId: 'd',
    type,
    config,
    attempt: 3,
    backend: 'auto',
    threads: 1,
  };
  return {
    spec,
    io: {
      loadDataset: async () => ds,
      loadJob: async id => (jobs[id] as never) ?? null,
      putArtifact: async (key, body, t) => void store.set(key, { body, type: t }),
      getArtifact: async key => store.get(key)!.body,
    },
    run: quietContext(5),
    log: () => undefined,
    artifactKey: name => `jobs/job-1/attempt-3/${name}`,
  };
}

describe('runners write report artifacts', () => {
  it('MODEL_TRAINING (survival, CV): out-of-fold predictions and Kaplan–Meier plot', async () => {
    const store = new Map<string, { body: Buffer; type: string }>();
    const ds = survivalData(11, 80, 4);
    const out = await runModelTraining(
      context(
        'MODEL_TRAINING',
        {
          model: { code: 'cox', args: {}, tune: null },
          features: null,
          fromJob: null,
          selectors: [],
          preprocessing: [],
          validation: { splitter: { code: 'kfold', args: { n_splits: 4 } }, metrics: [] },
          seed: 1,
        },
        ds,
        store,
      ),
    );
    expect(out.artifacts[0]).toBe('jobs/job-1/attempt-3/model.json');
    const reports = out.data.reports as { name: string; key: string; contentType: string }[];
    const names = reports.map(r => r.name);
    expect(names).toEqual(
      expect.arrayContaining(['folds.csv', 'predictions.csv', 'results.xlsx', 'km-cox.svg']),
    );
    expect(names.some(n => n.startsWith('roc-'))).toBe(false); // no ROC for survival
    for (const r of reports) {
      expect(r.key).toBe(`jobs/job-1/attempt-3/reports/${r.name}`);
      expect(out.artifacts).toContain(r.key);
      expect(store.get(r.key)!.type).toBe(r.contentType);
    }
    const preds = store.get('jobs/job-1/attempt-3/reports/predictions.csv')!.body.toString();
    expect(preds.split('\r\n')[0]).toBe('group,sample_id,truth,time,event,risk');
    expect(preds.trimEnd().split('\r\n')).toHaveLength(81); // every sample once, out of fold
    const km = store.get('jobs/job-1/attempt-3/reports/km-cox.svg')!.body.toString();
    expect(km.split('class="curve"').length - 1).toBe(2);
    expect(km).toContain('median split within each fold');
    // the stored result document keeps no typed-array predictions
    expect(JSON.stringify(out.data)).not.toContain('"prediction"');
  });

  it('PREDICTION on a labelled dataset: prediction table with the truth and a ROC plot', async () => {
    const store = new Map<string, { body: Buffer; type: string }>();
    const ds = hostileBinary(3, 40, 8);
    const train = await runModelTraining(
      context(
        'MODEL_TRAINING',
        {
          model: { code: 'logistic_regression', args: {}, tune: null },
          features: null,
          fromJob: null,
          selectors: [],
          preprocessing: [],
          validation: null,
          seed: 1,
        },
        ds,
        store,
      ),
    );
    expect((train.data.reports as { name: string }[]).map(r => r.name)).toContain(
      'importance-logistic_regression.svg',
    );
    const out = await runPrediction(
      context('PREDICTION', { modelJob: 'm1' }, ds, store, {
        m1: { job: { type: 'MODEL_TRAINING', status: 'COMPLETED' }, result: { data: train.data } },
      }),
    );
    const names = (out.data.reports as { name: string }[]).map(r => r.name);
    expect(names).toEqual(
      expect.arrayContaining(['predictions.csv', 'metrics.csv', 'roc-logistic_regression.svg']),
    );
    const csv = store.get('jobs/job-1/attempt-3/reports/predictions.csv')!.body.toString();
    expect(csv.split('\r\n')[0]).toBe('group,sample_id,truth,predicted,proba_ctrl,proba_case');
  });
});
