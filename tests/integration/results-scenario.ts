/**
 * Shared body of tests/integration/results-{local,s3}.test.ts: real jobs through a real worker
 * process, then the typed result fields and the artifacts (download through the presigned URL,
 * expiry, ownership) read through GraphQL exactly as a client would, with the operations of
 * schema/operations/results.graphql.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type DefinitionNode } from 'graphql';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  gqlOk,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  TERMINAL,
  uploadCsv,
  waitForJob,
  type JobView,
} from '../helpers/worker';

Object.assign(process.env, FAST_JOB_ENV);

const OPS = parse(readFileSync(join(__dirname, '../../schema/operations/results.graphql'), 'utf8'));

/** One operation of results.graphql with the fragments it uses. */
function resultsOp(name: string): string {
  const def = OPS.definitions.find(
    d => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name,
  );
  if (!def) throw new Error(`no operation ${name} in results.graphql`);
  const text = print(def);
  const fragments = OPS.definitions.filter(
    (d: DefinitionNode) =>
      d.kind === Kind.FRAGMENT_DEFINITION && text.includes(`...${d.name.value}`),
  );
  return [text, ...fragments.map(f => print(f))].join('\n');
}

interface Metric {
  name: string;
  value: number | null;
  std: number | null;
}
interface ArtifactView {
  key: string;
  name: string;
  kind: string;
  contentType: string;
  bytes: number;
  createdAt: string;
  downloadUrl: string;
  expiresAt: string;
}
interface Typed {
  attempt: number;
  summary: Record<string, unknown>;
  artifactKeys: string[];
  params: Record<string, unknown> | null;
  metrics: Metric[];
  signatures: { name: string; features: string[]; source: string | null }[];
  features: {
    source: string;
    name: string;
    rank: number;
    score: number | null;
    selected: boolean;
    frequency: number | null;
    pValue: number | null;
    adjustedPValue: number | null;
  }[];
  folds: {
    signature: string | null;
    model: string | null;
    index: number;
    repeat: number;
    fold: number;
    nTrain: number | null;
    nTest: number | null;
    selected: string[];
    metrics: Metric[];
    trainMetrics: Metric[] | null;
  }[];
  benchmark: {
    signature: string;
    features: string[];
    nFeatures: number;
    model: string;
    metaindex: number | null;
    rank: number | null;
    train: Metric[];
    cv: Metric[];
    test: Metric[];
    validation: Metric[];
  }[];
  recommended: { signature: string; features: string[]; reasons: string[] } | null;
  comparisons: { a: string; b: string; pValue: number | null }[];
  tuning: {
    bestParams: Record<string, unknown>;
    bestScore: number | null;
    nTrials: number;
    trials: {
      number: number;
      params: Record<string, unknown>;
      score: number | null;
      scoresPerFold: number[];
    }[];
  } | null;
  predictions: {
    totalCount: number;
    offset: number;
    rows: {
      sampleId: string;
      label: string | null;
      probabilities: { class: string; probability: number | null }[] | null;
    }[];
  } | null;
  model: { code: string; formatVersion: number; features: string[]; artifactKey: string } | null;
  artifacts: ArtifactView[];
}
interface ResultsView {
  id: string;
  type: string;
  status: string;
  result: Typed | null;
}

const SIGNAL = ['g1', 'g2', 'g3', 'g4', 'g5'];

export function resultsScenario(storage: 'local' | 's3'): void {
  let t: TestApp;
  let alice: { id: string; accessToken: string };
  let bob: { id: string; accessToken: string };
  let datasetId: string;

  async function run(type: string, config: Record<string, unknown>): Promise<JobView> {
    const { submitJob } = await gqlOk<{ submitJob: JobView }>(
      t,
      'SubmitJob',
      { input: { type, datasetId, config, device: 'CPU' } },
      alice.accessToken,
    );
    const done = await waitForJob(
      t,
      alice.accessToken,
      submitJob.id,
      j => TERMINAL.has(j.status),
      150_000,
    );
    expect({ status: done.status, error: done.errorMessage }).toEqual({
      status: 'COMPLETED',
      error: null,
    });
    return done;
  }

  async function results(
    id: string,
    vars: Record<string, unknown> = {},
    token = alice.accessToken,
  ): Promise<Typed> {
    const res = await t.gql<{ job: ResultsView }>(resultsOp('JobResults'), { id, ...vars }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.job.result!;
  }

  beforeAll(async () => {
    await ensureBuilt();
    // The shortest TTL the config allows, so expiry can be watched within the test.
    t = await startTestApp({ storage, env: { PRESIGNED_URL_TTL: '10' } });
    [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
    await setRoleInDb(t, alice.id, 'RESEARCHER');
    datasetId = await uploadCsv(t, alice.accessToken, syntheticCsv(60, 40, 7));
    const w = startWorker(t, { pool: 'cpu' });
    await w.live();
  });

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  let modelJob: string;

  test('FEATURE_SELECTION: typed per-feature rows with p-values and stability frequencies', async () => {
    const job = await run('FEATURE_SELECTION', {
      selectors: [
        { code: 't_test', k: 5 },
        {
          code: 'stability_selection',
          args: { base: 't_test', base_k: 5, n_subsamples: 20, threshold: 0.6 },
        },
      ],
    });
    const r = await results(job.id);
    const tt = r.features.filter(f => f.source === 't_test');
    expect(tt).toHaveLength(40);
    expect(tt.map(f => f.rank)).toEqual(tt.map((_, i) => i + 1));
    expect(tt.filter(f => f.selected)).toHaveLength(5);
    // Ranked by score, best first; the selected ones are the top 5 and carry the signal.
    for (let i = 1; i < tt.length; i++)
      expect(tt[i - 1]!.score!).toBeGreaterThanOrEqual(tt[i]!.score!);
    expect(tt.slice(0, 5).every(f => f.selected)).toBe(true);
    expect(tt.slice(0, 5).filter(f => SIGNAL.includes(f.name)).length).toBeGreaterThanOrEqual(4);
    for (const f of tt) {
      expect(f.pValue).toBeGreaterThanOrEqual(0);
      expect(f.pValue).toBeLessThanOrEqual(1);
      expect(f.adjustedPValue!).toBeGreaterThanOrEqual(f.pValue! - 1e-15);
    }
    const stab = r.features.filter(f => f.source === 'stability_selection');
    expect(stab).toHaveLength(40);
    for (const f of stab) {
      expect(f.frequency).toBe(f.score);
      expect(f.frequency).toBeGreaterThanOrEqual(0);
      expect(f.frequency).toBeLessThanOrEqual(1);
      // threshold 0.6: selected ⇔ frequency ≥ 0.6
      expect(f.selected).toBe(f.frequency! >= 0.6);
    }
    expect(r.signatures.map(s => s.name)).toEqual(['t_test', 'stability_selection']);

    // Filters and paging of the features field.
    const only = await t.gql<{ job: { result: { features: { name: string }[] } } }>(
      `query($id: ID!) { job(id: $id) { result { features(source: "t_test", selectedOnly: true, first: 3, offset: 1) { name } } } }`,
      { id: job.id },
      alice.accessToken,
    );
    expect(only.data!.job.result.features.map(f => f.name)).toEqual(
      tt.slice(1, 4).map(f => f.name),
    );
    const bad = await t.gql(
      `query($id: ID!) { job(id: $id) { result { features(first: 0) { name } } } }`,
      { id: job.id },
      alice.accessToken,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // At most 100 rows per request; the rest through offset (JobResultFeatures, the SDK's loop).
    const over = await t.gql(
      `query($id: ID!) { job(id: $id) { result { features(first: 101) { name } } } }`,
      { id: job.id },
      alice.accessToken,
    );
    expect(over.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const paged: string[] = [];
    for (let offset = 0; ; offset += 30) {
      const page = await t.gql<{
        job: { result: { features: { source: string; name: string }[] } };
      }>(resultsOp('JobResultFeatures'), { id: job.id, first: 30, offset }, alice.accessToken);
      const got = page.data!.job.result.features;
      paged.push(...got.map(f => `${f.source}/${f.name}`));
      if (got.length < 30) break;
    }
    expect(paged).toEqual(r.features.map(f => `${f.source}/${f.name}`));
    expect(paged.length).toBeGreaterThan(60); // three pages of 30 at least
  });

  test('MODEL_TRAINING: per-fold metrics (repeat × fold), versioned model artifact that downloads', async () => {
    const job = await run('MODEL_TRAINING', {
      model: { code: 'logistic_regression' },
      features: ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'],
      validation: {
        splitter: { code: 'repeated', args: { n_splits: 3, n_repeats: 2 } },
        metrics: ['roc_auc', 'accuracy'],
      },
    });
    modelJob = job.id;
    const r = await results(job.id);
    expect(r.folds.map(f => [f.index, f.repeat, f.fold])).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [2, 0, 2],
      [3, 1, 0],
      [4, 1, 1],
      [5, 1, 2],
    ]);
    for (const f of r.folds) {
      expect(f.metrics.map(m => m.name)).toEqual(['roc_auc', 'accuracy']);
      expect(f.nTrain! + f.nTest!).toBe(60);
      expect(f.metrics[0]!.value).toBeGreaterThan(0.5);
    }
    // The headline metric is the mean over the folds.
    const mean = r.folds.reduce((s, f) => s + f.metrics[0]!.value!, 0) / r.folds.length;
    expect(r.metrics[0]!.name).toBe('roc_auc');
    expect(r.metrics[0]!.value).toBeCloseTo(mean, 10);
    expect(r.metrics[0]!.std).toBeGreaterThanOrEqual(0);
    expect(r.params).not.toBeNull();
    expect(
      r.features
        .filter(f => f.source === 'model')
        .map(f => f.name)
        .sort(),
    ).toEqual(['g1', 'g2', 'g3', 'g4', 'g5', 'g6'].sort());

    // The saved model: versioned inside the file, listed as a MODEL artifact.
    expect(r.model).toMatchObject({
      code: 'logistic_regression',
      formatVersion: 1,
      artifactKey: `jobs/${job.id}/attempt-1/model.json`,
    });
    expect(r.model!.features).toHaveLength(6);
    const model = r.artifacts.find(a => a.name === 'model.json')!;
    expect(model).toMatchObject({
      key: `jobs/${job.id}/attempt-1/model.json`,
      kind: 'MODEL',
      contentType: 'application/json',
    });
    expect(r.artifactKeys).toContain(model.key);
    const ttl = (Date.parse(model.expiresAt) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(5);
    expect(ttl).toBeLessThanOrEqual(11);

    // The presigned URL needs no Authorization header and returns exactly the stored bytes.
    const res = await fetch(model.downloadUrl);
    expect(res.status).toBe(200);
    // Served as what it is, offered as a file named like the artifact (both backends).
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="model\.json"/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(model.bytes);
    const stored = await t.app.services.storage.get(model.key);
    const chunks: Buffer[] = [];
    for await (const c of stored) chunks.push(c as Buffer);
    expect(body.equals(Buffer.concat(chunks))).toBe(true);
    const state = JSON.parse(body.toString('utf8')) as { code: string; version: number };
    expect(state).toMatchObject({ code: 'logistic_regression', version: 1 });

    // Once expired, the same URL is refused.
    await new Promise(r => setTimeout(r, Date.parse(model.expiresAt) - Date.now() + 1500));
    const late = await fetch(model.downloadUrl);
    expect(late.status).toBe(403);
    await late.arrayBuffer();
    // A fresh query gives a fresh, working URL.
    const again = (await results(job.id)).artifacts.find(a => a.name === 'model.json')!;
    expect(again.downloadUrl).not.toBe(model.downloadUrl);
    expect((await fetch(again.downloadUrl)).status).toBe(200);
  });

  test('files written under the run folder by other steps are listed with kind and type', async () => {
    const prefix = `jobs/${modelJob}/attempt-1/`;
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
    await t.app.services.storage.put(`${prefix}plots/roc.svg`, svg, {
      contentType: 'image/svg+xml',
    });
    await t.app.services.storage.put(`${prefix}exports/folds.csv`, Buffer.from('a,b\n1,2\n'), {
      contentType: 'text/csv',
    });
    const r = await results(modelJob);
    // Report steps may add their own files too: check ours are there, and the kind order.
    expect(r.artifacts.map(a => [a.name, a.kind, a.contentType])).toEqual(
      expect.arrayContaining([
        ['model.json', 'MODEL', 'application/json'],
        ['exports/folds.csv', 'EXPORT', 'text/csv; charset=utf-8'],
        ['plots/roc.svg', 'PLOT', 'image/svg+xml'],
      ]),
    );
    const order = ['MODEL', 'EXPORT', 'PLOT', 'DATA'];
    const kinds = r.artifacts.map(a => order.indexOf(a.kind));
    expect([...kinds].sort((a, b) => a - b)).toEqual(kinds);
    for (const a of r.artifacts) expect(a.key.startsWith(prefix)).toBe(true);
    const plot = r.artifacts.find(a => a.kind === 'PLOT')!;
    expect(plot.bytes).toBe(svg.length);
    const plotRes = await fetch(plot.downloadUrl);
    expect(plotRes.headers.get('content-type')).toBe('image/svg+xml');
    expect(Buffer.from(await plotRes.arrayBuffer()).equals(svg)).toBe(true);
    const onlyPlots = await t.gql<{ job: { result: { artifacts: ArtifactView[] } } }>(
      resultsOp('JobArtifacts'),
      { id: modelJob, kind: 'PLOT' },
      alice.accessToken,
    );
    const plots = onlyPlots.data!.job.result.artifacts;
    expect(plots.map(a => a.name)).toContain('plots/roc.svg');
    expect(plots.every(a => a.kind === 'PLOT' && a.contentType === 'image/svg+xml')).toBe(true);
    const byName = await t.gql<{ job: { result: { artifacts: ArtifactView[] } } }>(
      resultsOp('JobArtifacts'),
      { id: modelJob, name: 'exports/folds.csv' },
      alice.accessToken,
    );
    expect(byName.data!.job.result.artifacts.map(a => [a.name, a.bytes])).toEqual([
      ['exports/folds.csv', 8],
    ]);
  });

  test('PREDICTION reloads the saved model; predictions are paged', async () => {
    const job = await run('PREDICTION', { modelJob });
    const r = await results(job.id, { predictionsFirst: 25, predictionsOffset: 50 });
    expect(r.predictions!.totalCount).toBe(60);
    expect(r.predictions!.offset).toBe(50);
    expect(r.predictions!.rows.map(p => p.sampleId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `S${51 + i}`),
    );
    for (const p of r.predictions!.rows) {
      expect(['case', 'ctrl']).toContain(p.label);
      const total = p.probabilities!.reduce((s, c) => s + c.probability!, 0);
      expect(total).toBeCloseTo(1, 10);
    }
    // The outcome is in the scored dataset: metrics are reported.
    expect(r.metrics.find(m => m.name === 'roc_auc')!.value).toBeGreaterThan(0.7);
    const tooMany = await t.gql(
      resultsOp('JobResults'),
      { id: job.id, predictionsFirst: 101 },
      alice.accessToken,
    );
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Every row, page after page (first 1–100): the JobResultPredictions operation the SDK loops on.
    const rows: string[] = [];
    for (let offset = 0; ; offset += 25) {
      const page = await t.gql<{
        job: { result: { predictions: { rows: { sampleId: string }[] } } };
      }>(resultsOp('JobResultPredictions'), { id: job.id, first: 25, offset }, alice.accessToken);
      const got = page.data!.job.result.predictions.rows.map(p => p.sampleId);
      rows.push(...got);
      if (got.length < 25) break;
    }
    expect(rows).toEqual(Array.from({ length: 60 }, (_, i) => `S${i + 1}`));
  });

  test('another user: NOT_FOUND for the job, its result and its artifacts', async () => {
    for (const name of ['JobResults', 'JobArtifacts']) {
      const res = await t.gql(resultsOp(name), { id: modelJob }, bob.accessToken);
      expect(res.data?.job ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  if (storage === 'local') {
    test('HYPERPARAMETER_TUNING: chosen parameters, trial history, nested folds', async () => {
      const job = await run('HYPERPARAMETER_TUNING', {
        model: { code: 'knn' },
        searchSpace: { n_neighbors: { type: 'int', low: 1, high: 9 } },
        strategy: 'random',
        nTrials: 4,
        features: ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'],
        validation: { splitter: { code: 'stratified_kfold', args: { n_splits: 3 } } },
      });
      const r = await results(job.id);
      expect(r.tuning!.nTrials).toBe(4);
      expect(r.tuning!.trials.map(x => x.number)).toEqual([0, 1, 2, 3]);
      for (const x of r.tuning!.trials) {
        expect(x.params.n_neighbors).toBeGreaterThanOrEqual(1);
        expect(x.scoresPerFold).toHaveLength(3);
      }
      expect(r.params).toEqual(r.tuning!.bestParams);
      expect(r.tuning!.bestParams.n_neighbors).toBeGreaterThanOrEqual(1);
      expect(r.tuning!.bestScore).toBe(Math.max(...r.tuning!.trials.map(x => x.score ?? -1)));
      expect(r.folds.map(f => [f.repeat, f.fold])).toEqual([
        [0, 0],
        [0, 1],
        [0, 2],
      ]);
    });

    test('a model file with an unknown format version is refused by PREDICTION', async () => {
      const key = `jobs/${modelJob}/attempt-1/model.json`;
      const chunks: Buffer[] = [];
      for await (const c of await t.app.services.storage.get(key)) chunks.push(c as Buffer);
      const state = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version: number };
      await t.app.services.storage.put(key, Buffer.from(JSON.stringify({ ...state, version: 99 })));
      expect((await results(modelJob)).model!.formatVersion).toBe(99);
      const { submitJob } = await gqlOk<{ submitJob: JobView }>(
        t,
        'SubmitJob',
        { input: { type: 'PREDICTION', datasetId, config: { modelJob }, device: 'CPU' } },
        alice.accessToken,
      );
      const failed = await waitForJob(t, alice.accessToken, submitJob.id, j =>
        TERMINAL.has(j.status),
      );
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(failed.errorMessage).toMatch(/version 99/);
    });

    test('BENCHMARKING: signature × model rows with metaindex rank and the recommendation', async () => {
      const job = await run('BENCHMARKING', {
        selectors: [{ code: 't_test', k: 5 }],
        signatures: [
          { name: 'signal', features: ['g1', 'g2', 'g3'] },
          { name: 'noise', features: ['g30', 'g31', 'g32'] },
        ],
        models: [{ code: 'knn' }, { code: 'logistic_regression' }],
        cv: { nSplits: 3, nRepeats: 1 },
      });
      const r = await results(job.id);
      expect(r.benchmark).toHaveLength(6);
      const sigs = new Set(r.benchmark.map(b => b.signature));
      expect(sigs).toEqual(new Set(['t_test', 'signal', 'noise']));
      for (const b of r.benchmark) {
        expect(['knn', 'logistic_regression']).toContain(b.model);
        expect(b.nFeatures).toBe(b.features.length);
        for (const part of [b.train, b.cv, b.test, b.validation]) {
          expect(part.find(m => m.name === 'accuracy')).toBeDefined();
        }
        expect(b.cv.find(m => m.name === 'accuracy')!.std).not.toBeUndefined();
      }
      expect(r.benchmark.find(b => b.signature === 'signal')!.features).toEqual(['g1', 'g2', 'g3']);
      // Best rank first; the noise signature ranks last and is not recommended.
      const ranks = r.benchmark.map(b => b.rank!);
      expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
      expect(r.benchmark.at(-1)!.signature).toBe('noise');
      expect(r.recommended!.signature).toBe(r.benchmark[0]!.signature);
      expect(r.recommended!.signature).not.toBe('noise');
      expect(r.recommended!.reasons.length).toBeGreaterThan(0);
      expect(r.comparisons.length).toBeGreaterThan(0);

      // Per-fold rows: 3 signatures × 2 models × 3 folds, in the benchmark rows' order; each
      // row's cv mean and SD are those of its folds.
      expect(r.folds).toHaveLength(6 * 3);
      const value = (ms: Metric[] | null, name: string) => ms!.find(m => m.name === name)!.value!;
      r.benchmark.forEach((b, i) => {
        const mine = r.folds.slice(3 * i, 3 * i + 3);
        expect(mine.map(f => [f.signature, f.model])).toEqual(
          Array(3).fill([b.signature, b.model]),
        );
        expect(mine.map(f => [f.index, f.repeat, f.fold])).toEqual([
          [0, 0, 0],
          [1, 0, 1],
          [2, 0, 2],
        ]);
        const acc = mine.map(f => value(f.metrics, 'accuracy'));
        const mean = acc.reduce((a, x) => a + x, 0) / acc.length;
        const sd = Math.sqrt(acc.reduce((a, x) => a + (x - mean) ** 2, 0) / (acc.length - 1));
        const cv = b.cv.find(m => m.name === 'accuracy')!;
        expect(cv.value).toBeCloseTo(mean, 12);
        expect(cv.std).toBeCloseTo(sd, 12);
        for (const f of mine) {
          expect(f.nTrain! + f.nTest!).toBe(r.folds[0]!.nTrain! + r.folds[0]!.nTest!);
          expect(value(f.trainMetrics, 'accuracy')).toBeGreaterThanOrEqual(0);
          if (b.signature !== 't_test') expect(f.selected).toEqual(b.features);
          else expect(f.selected).toHaveLength(5);
        }
      });
      // Filters and paging: the JobResults operation's folds arguments.
      const only = await results(job.id, {
        foldsSignature: 'noise',
        foldsModel: 'knn',
        foldsFirst: 2,
        foldsOffset: 1,
      });
      expect(only.folds.map(f => [f.signature, f.model, f.index])).toEqual([
        ['noise', 'knn', 1],
        ['noise', 'knn', 2],
      ]);
    });
  }
}
