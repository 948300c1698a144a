/**
 * The README's "Job types by example" section must stay true: every ```json block there is the
 * variables of `SubmitJob`; each is submitted (placeholders replaced by real ids) to a real API
 * with a real worker process and must validate, be accepted and complete. The section must cover
 * every value of the GraphQL `JobType` enum, once each, so a new job type without an example fails
 * here too.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  op,
  startWorker,
  stopAllWorkers,
  uploadCsv,
} from '../helpers/worker';

Object.assign(process.env, FAST_JOB_ENV);
jest.setTimeout(900_000);

const ROOT = join(__dirname, '..', '..');
const SECTION = '## Job types by example';

interface Example {
  input: { type: string; datasetId: string; config: Record<string, unknown> } & Record<
    string,
    unknown
  >;
}

/** The JSON blocks of the README section, in order. */
function readmeExamples(): Example[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README has no "${SECTION}" section`);
  const rest = readme.slice(start + SECTION.length + 2);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map(m => JSON.parse(m[1]!) as Example);
}

/** The JobType enum of the committed schema. */
function jobTypes(): string[] {
  const schema = readFileSync(join(ROOT, 'schema/schema.graphql'), 'utf8');
  const body = /enum JobType \{([\s\S]*?)\}/.exec(schema)?.[1] ?? '';
  return body
    .replace(/"""[\s\S]*?"""/g, '')
    .split('\n')
    .map(l => l.trim())
    .filter(l => /^[A-Z_]+$/.test(l));
}

/**
 * Expression-like data (positive, log2-able) with a binary outcome; the README names three of the
 * features (MKI67, ESR1, ERBB2). The first five features carry the signal.
 */
function expressionCsv(n: number, p: number, seed: number): string {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 1_000_000) / 1_000_000;
  };
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const named = ['MKI67', 'ESR1', 'ERBB2'];
  const features = Array.from({ length: p }, (_, j) => named[j] ?? `GENE${j + 1}`);
  const lines = [['sample', 'y', ...features].join(',')];
  for (let i = 0; i < n; i++) {
    const y = i % 2 === 0 ? 'case' : 'ctrl';
    const row = [`S${i + 1}`, y];
    for (let j = 0; j < p; j++) {
      const shift = j < 5 && y === 'case' ? 1.5 : 0;
      row.push(Math.max(0.05, 6 + normal() + shift).toFixed(3));
    }
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

/** Replaces placeholder strings (whole JSON string values) everywhere in `value`. */
function fill(value: unknown, ids: Record<string, string>, missing: Set<string>): unknown {
  if (typeof value === 'string' && /^[A-Z][A-Z_]*_ID$/.test(value)) {
    if (!(value in ids)) missing.add(value);
    return ids[value] ?? value;
  }
  if (Array.isArray(value)) return value.map(v => fill(v, ids, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, ids, missing)]));
  }
  return value;
}

interface JobState {
  id: string;
  type: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  result: { summary: Record<string, unknown> } | null;
}

describe('README job examples', () => {
  const examples = readmeExamples();
  let t: TestApp;
  let token: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await ensureBuilt();
    t = await startTestApp();
    token = (await registerUser(t)).accessToken;
    ids.DATASET_ID = await uploadCsv(t, token, expressionCsv(60, 40, 11), 'readme');
    ids.NEW_DATASET_ID = await uploadCsv(t, token, expressionCsv(20, 40, 12), 'readme-new');
    const worker = startWorker(t, { pool: 'cpu' });
    await worker.live(120_000);
  }, 600_000);

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  test('the section has one example per JobType', () => {
    const types = jobTypes();
    expect(types.length).toBeGreaterThanOrEqual(6);
    expect(examples.map(e => e.input.type).sort()).toEqual([...types].sort());
  });

  test('every example validates, is accepted, and completes', async () => {
    const submitted: JobState[] = [];
    for (const example of examples) {
      const missing = new Set<string>();
      const variables = fill(example, ids, missing) as Example;
      // A placeholder must name a dataset or a job of an earlier example.
      expect([...missing]).toEqual([]);
      const res = await t.gql<{ submitJob: JobState }>(
        op('SubmitJob'),
        variables as unknown as Record<string, unknown>,
        token,
      );
      expect({ type: example.input.type, errors: res.errors }).toEqual({
        type: example.input.type,
        errors: undefined,
      });
      const job = res.data!.submitJob;
      expect(job.type).toBe(example.input.type);
      expect(['PENDING', 'QUEUED', 'RUNNING', 'COMPLETED']).toContain(job.status);
      ids[`${job.type}_JOB_ID`] = job.id;
      submitted.push(job);
    }

    // Then every job runs to the end on the worker (the later ones wait for their parents).
    const deadline = Date.now() + 780_000;
    const states = new Map<string, JobState>();
    for (;;) {
      for (const j of submitted) {
        const r = await t.gql<{ job: JobState }>(
          `query($id: ID!) { job(id: $id) { id type status errorCode errorMessage result { summary } } }`,
          { id: j.id },
          token,
        );
        if (r.data?.job) states.set(j.id, r.data.job);
      }
      const open = [...states.values()].filter(
        s => !['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status),
      );
      if (open.length === 0 || Date.now() > deadline) break;
      await new Promise(r => setTimeout(r, 1000));
    }
    const outcome = submitted.map(j => {
      const s = states.get(j.id)!;
      return { type: s.type, status: s.status, error: s.errorMessage };
    });
    expect(outcome).toEqual(
      submitted.map(j => ({ type: j.type, status: 'COMPLETED', error: null })),
    );
    for (const j of submitted) expect(states.get(j.id)!.result?.summary).toBeTruthy();
  });
});
