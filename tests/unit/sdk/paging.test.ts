/**
 * The SDK's offset paging (sdk/src/paging.ts, `jobs.fullResults` / `jobs.features` /
 * `jobs.predictions`, `datasets.names`): the API answers at most 100 rows per list and request,
 * so the helpers ask page after page (offset += 100, first = 100) until a short page — against a
 * fake fetch that serves slices of in-memory lists and records every request.
 */
import { createClient } from '../../../sdk/src/client';
import { allPages, PAGE_SIZE } from '../../../sdk/src/paging';

interface Sent {
  operationName: string;
  variables: Record<string, unknown>;
}

const feature = (i: number) => ({
  source: 't_test',
  name: `g${i}`,
  rank: i + 1,
  score: 1 / (i + 1),
  selected: i < 5,
  frequency: null,
  pValue: null,
  adjustedPValue: null,
  statistic: null,
  votes: null,
});
const prediction = (i: number) => ({
  sampleId: `S${i + 1}`,
  label: 'case',
  value: null,
  risk: null,
  probabilities: null,
});

/** A fake server: `nFeatures` feature rows, `nPredictions` predictions, `attempts` per call. */
function fakeServer(nFeatures: number, nPredictions: number, attempt = () => 1) {
  const sent: Sent[] = [];
  const features = Array.from({ length: nFeatures }, (_, i) => feature(i));
  const predictions = Array.from({ length: nPredictions }, (_, i) => prediction(i));
  const slice = <T>(list: T[], v: Record<string, unknown>, first = 'first', offset = 'offset') => {
    const n = Number(v[first] ?? 100);
    if (n > PAGE_SIZE) throw new Error(`asked for a page of ${n}`);
    const o = Number(v[offset] ?? 0);
    return list.slice(o, o + n);
  };
  const fetch = (_url: string, init: RequestInit): Promise<Response> => {
    const body = JSON.parse(init.body as string) as Sent;
    sent.push(body);
    const v = body.variables;
    let data: unknown;
    switch (body.operationName) {
      case 'JobResults':
        data = {
          job: {
            id: v.id,
            type: 'PREDICTION',
            status: 'COMPLETED',
            errorCode: null,
            errorMessage: null,
            result: {
              attempt: attempt(),
              features: slice(features, v, 'featuresFirst', 'featuresOffset'),
              folds: [],
              predictions: {
                totalCount: nPredictions,
                offset: v.predictionsOffset ?? 0,
                rows: slice(predictions, v, 'predictionsFirst', 'predictionsOffset'),
              },
            },
          },
        };
        break;
      case 'JobResultFeatures':
        data = { job: { id: v.id, result: { attempt: attempt(), features: slice(features, v) } } };
        break;
      case 'JobResultFolds':
        data = { job: { id: v.id, result: { attempt: attempt(), folds: [] } } };
        break;
      case 'JobResultPredictions':
        data = {
          job: {
            id: v.id,
            result: {
              attempt: attempt(),
              predictions: {
                totalCount: nPredictions,
                offset: v.offset,
                rows: slice(predictions, v),
              },
            },
          },
        };
        break;
      case 'DatasetNames':
        data = {
          dataset: {
            id: v.id,
            featureNames: slice(
              features.map(f => f.name),
              v,
              'limit',
            ),
            sampleIds: slice(
              predictions.map(p => p.sampleId),
              v,
              'limit',
            ),
          },
        };
        break;
      default:
        throw new Error(`unexpected operation ${body.operationName}`);
    }
    return Promise.resolve(
      new Response(JSON.stringify({ data }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  const client = createClient({ url: 'http://api.test/graphql', token: 'x', fetch });
  return { client, sent };
}

const pages = (sent: Sent[], op: string) =>
  sent
    .filter(s => s.operationName === op)
    .map(s => [s.variables.offset ?? s.variables.featuresOffset ?? 0, s.variables.first]);

test('allPages: stops at the first short page, and at the total', async () => {
  const asked: number[] = [];
  const rows = await allPages(async (offset, first) => {
    asked.push(offset);
    return Array.from({ length: Math.max(0, Math.min(first, 250 - offset)) }, (_, i) => offset + i);
  });
  expect(rows).toEqual(Array.from({ length: 250 }, (_, i) => i));
  expect(asked).toEqual([0, 100, 200]);
  // A short first page in hand: nothing more is asked.
  const none = jest.fn();
  expect(await allPages(none, [1, 2, 3])).toEqual([1, 2, 3]);
  expect(none).not.toHaveBeenCalled();
  // Exactly 100 rows in total: the total says stop (no empty extra page).
  const full = Array.from({ length: 100 }, (_, i) => i);
  expect(await allPages(none, full, 100)).toHaveLength(100);
  expect(none).not.toHaveBeenCalled();
});

test('jobs.fullResults pages features and predictions on with offset, 100 at a time', async () => {
  const { client, sent } = fakeServer(250, 230);
  const job = await client.jobs.fullResults('j1');
  expect(job.result!.features.map(f => f.name)).toEqual(
    Array.from({ length: 250 }, (_, i) => `g${i}`),
  );
  expect(job.result!.predictions!.rows.map(p => p.sampleId)).toEqual(
    Array.from({ length: 230 }, (_, i) => `S${i + 1}`),
  );
  expect(sent[0]).toMatchObject({
    operationName: 'JobResults',
    variables: { featuresFirst: 100, predictionsFirst: 100, foldsFirst: 100 },
  });
  expect(pages(sent, 'JobResultFeatures')).toEqual([
    [100, 100],
    [200, 100],
  ]);
  expect(pages(sent, 'JobResultPredictions')).toEqual([
    [100, 100],
    [200, 100],
  ]);
  // Folds came back short in the first answer: never asked again.
  expect(pages(sent, 'JobResultFolds')).toEqual([]);
});

test('small results take one request; jobs.features / predictions page from offset 0', async () => {
  const { client, sent } = fakeServer(40, 60);
  await client.jobs.fullResults('j1');
  expect(sent.map(s => s.operationName)).toEqual(['JobResults']);
  const s2 = fakeServer(200, 0);
  expect(await s2.client.jobs.features('j2', { source: 't_test' })).toHaveLength(200);
  expect(pages(s2.sent, 'JobResultFeatures')).toEqual([
    [0, 100],
    [100, 100],
    [200, 100],
  ]);
  expect(s2.sent[0]!.variables.source).toBe('t_test');
  expect(await s2.client.jobs.predictions('j2')).toEqual([]);
});

test('a result replaced between pages is RESULT_CHANGED, not a mix of two attempts', async () => {
  let calls = 0;
  const { client } = fakeServer(150, 0, () => (++calls === 1 ? 1 : 2));
  await expect(client.jobs.fullResults('j1')).rejects.toMatchObject({ code: 'RESULT_CHANGED' });
});

test('datasets.names pages both lists until both run short', async () => {
  const { client, sent } = fakeServer(120, 30);
  const names = await client.datasets.names('d1');
  expect(names.featureNames).toHaveLength(120);
  expect(names.sampleIds).toEqual(Array.from({ length: 30 }, (_, i) => `S${i + 1}`));
  expect(sent.map(s => [s.variables.offset, s.variables.limit])).toEqual([
    [0, 100],
    [100, 100],
  ]);
});
