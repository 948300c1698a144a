/**
 * Reports end to end: a real worker process runs BENCHMARKING and FEATURE_SELECTION jobs; the
 * exports (CSV, JSON, XLSX) and SVG plots land in storage under the run's `reports/` prefix, are
 * listed in the result, and hold the right bytes: the tables and plots that depend only on the
 * stored result document are rebuilt here and compared byte for byte.
 */
import 'reflect-metadata';
import { XMLValidator } from 'fast-xml-parser';
import { buildReports } from '../../compute/reports/build';
import { readXlsx } from '../../compute/reports/xlsx';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  gqlOk,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  uploadCsv,
  waitForJob,
  TERMINAL,
  type JobView,
} from '../helpers/worker';

Object.assign(process.env, FAST_JOB_ENV);
jest.setTimeout(240_000);

interface ReportRef {
  name: string;
  kind: 'export' | 'plot';
  contentType: string;
  key: string;
}

describe('report artifacts written by the worker', () => {
  let t: TestApp;
  let token: string;
  let datasetId: string;

  async function read(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await t.app.services.storage.get(key)) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  }

  async function run(type: string, config: Record<string, unknown>): Promise<JobView> {
    const job = (
      await gqlOk<{ submitJob: JobView }>(
        t,
        'SubmitJob',
        { input: { datasetId, type, config, device: 'CPU' } },
        token,
      )
    ).submitJob;
    const done = await waitForJob(t, token, job.id, j => TERMINAL.has(j.status), 200_000);
    expect(done).toMatchObject({ status: 'COMPLETED' });
    return done;
  }

  function refsOf(job: JobView): ReportRef[] {
    const refs = job.result!.data.reports as ReportRef[];
    const keys = (job.result as unknown as { artifactKeys: string[] }).artifactKeys;
    for (const r of refs) {
      expect(r.key).toBe(`jobs/${job.id}/attempt-1/reports/${r.name}`);
      expect(keys).toContain(r.key);
    }
    return refs;
  }

  beforeAll(async () => {
    await ensureBuilt();
    t = await startTestApp();
    const user = await registerUser(t);
    await setRoleInDb(t, user.id, 'RESEARCHER');
    token = user.accessToken;
    datasetId = await uploadCsv(t, token, syntheticCsv(60, 40));
    const w = startWorker(t, { pool: 'cpu' });
    await w.live();
  });

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  test('BENCHMARKING: tables, workbook, heatmaps and one ROC plot per signature', async () => {
    const job = await run('BENCHMARKING', {
      selectors: [{ code: 't_test', k: 5 }],
      signatures: [{ name: 'noise', features: ['g30', 'g31', 'g32'] }],
      models: [{ code: 'knn' }, { code: 'logistic_regression' }],
      cv: { nSplits: 2, nRepeats: 1 },
    });
    const refs = refsOf(job);
    const names = refs.map(r => r.name).sort();
    expect(names).toEqual(
      [
        'benchmark.csv',
        'benchmark.json',
        'comparisons.csv',
        'comparisons.json',
        'folds.csv',
        'folds.json',
        'heatmap-cv-roc_auc.svg',
        'heatmap-validation-roc_auc.svg',
        'predictions.csv',
        'predictions.json',
        'results.xlsx',
        'roc-noise.svg',
        'roc-t_test.svg',
        'roc-model-knn.svg',
        'roc-model-logistic_regression.svg',
        'signatures.csv',
        'signatures.json',
      ].sort(),
    );
    const stored = new Map<string, Buffer>();
    for (const r of refs) stored.set(r.name, await read(r.key));

    // Rebuilt from the stored result document: identical bytes for what depends only on it.
    const { reports: _r, ...data } = job.result!.data;
    const rebuilt = await buildReports({ type: 'BENCHMARKING', data, xlsx: false });
    for (const name of ['benchmark.csv', 'signatures.csv', 'folds.csv', 'heatmap-cv-roc_auc.svg']) {
      const f = rebuilt.find(x => x.name === name)!;
      expect(stored.get(name)!.equals(Buffer.from(f.body as string))).toBe(true);
    }
    const csv = stored.get('benchmark.csv')!.toString('utf8').trimEnd().split('\r\n');
    expect(csv).toHaveLength(1 + 2 * 2);
    // held-out predictions: validation split (12 of 60) × 2 signatures × 2 models
    const preds = JSON.parse(stored.get('predictions.json')!.toString('utf8')) as {
      rows: { signature: string; model: string; group: string }[];
    };
    expect(preds.rows).toHaveLength(12 * 4);
    expect(new Set(preds.rows.map(r => r.group))).toEqual(new Set(['validation']));
    for (const name of names.filter(n => n.endsWith('.svg'))) {
      const svg = stored.get(name)!.toString('utf8');
      expect(XMLValidator.validate(svg)).toBe(true);
      // per signature: one curve per model; per model: one curve per signature
      if (name.startsWith('roc-')) expect(svg.split('class="curve"').length - 1).toBe(2);
      if (name.startsWith('heatmap-')) expect(svg.split('class="cell"').length - 1).toBe(4);
    }
    const book = await readXlsx(stored.get('results.xlsx')!);
    expect([...book.keys()]).toEqual([
      'benchmark',
      'signatures',
      'comparisons',
      'folds',
      'predictions',
    ]);
    // per-fold scores: 2 signatures × 2 models × 2 folds, with signature and model columns
    const folds = stored.get('folds.csv')!.toString('utf8').trimEnd().split('\r\n');
    expect(folds[0]).toMatch(/^signature,model,repeat,fold,n_train,n_test,n_features,/);
    expect(folds).toHaveLength(1 + 2 * 2 * 2);
    expect(book.get('benchmark')).toHaveLength(5);
    expect(book.get('predictions')).toHaveLength(1 + 48);
    // content types are inferable from the extensions
    for (const r of refs) {
      const ext = r.name.split('.').pop();
      expect(r.contentType).toMatch(
        { csv: /^text\/csv/, json: /json$/, xlsx: /spreadsheetml/, svg: /svg/ }[ext!]!,
      );
    }
  });

  test('FEATURE_SELECTION: per-feature table and plots, byte-identical when rebuilt', async () => {
    const job = await run('FEATURE_SELECTION', {
      selectors: [
        { code: 't_test', k: 5 },
        {
          code: 'stability_selection',
          args: { base: 't_test', base_k: 5, n_subsamples: 10, threshold: 0.6 },
        },
      ],
    });
    const refs = refsOf(job);
    expect(refs.map(r => r.name).sort()).toEqual(
      [
        'features.csv',
        'features.json',
        'importance-t_test.svg',
        'results.xlsx',
        'stability-stability_selection.svg',
      ].sort(),
    );
    const { reports: _r, ...data } = job.result!.data;
    const rebuilt = await buildReports({ type: 'FEATURE_SELECTION', data, xlsx: false });
    for (const f of rebuilt) {
      const ref = refs.find(r => r.name === f.name)!;
      expect((await read(ref.key)).equals(Buffer.from(f.body as string))).toBe(true);
    }
    const rows = (await read(refs.find(r => r.name === 'features.csv')!.key))
      .toString('utf8')
      .trimEnd()
      .split('\r\n');
    expect(rows).toHaveLength(1 + 2 * 40);
    const book = await readXlsx(await read(refs.find(r => r.name === 'results.xlsx')!.key));
    expect(book.get('features')).toHaveLength(1 + 80);
  });
});
