/**
 * SIGTERM to an API process (`node dist/src/main.js`) while clients hold sockets open: an idle
 * HTTP keep-alive connection, a request still being sent, and a graphql-ws subscription to a
 * running job. Expected: new connections are refused at once, the idle keep-alive socket is
 * closed, the in-flight request completes with its answer, the WebSocket client gets close code
 * 1001 (Going away), the process exits 0 within its grace period — and the client, reconnecting
 * to a second API instance with `afterSeq` = the last seq it saw, receives the rest of the job's
 * events with no gap and no duplicate, up to COMPLETED, with exactly one stored result.
 */
import 'reflect-metadata';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { registerUser, type TestApp } from '../helpers/app';
import { databaseUrl } from '../helpers/env';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  op,
  slowSelection,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  uploadCsv,
  type EventView,
  type JobView,
} from '../helpers/worker';
import { subscribe } from '../helpers/ws';
import {
  contiguous,
  eventsOf,
  jobFacts,
  killAllApis,
  newDeployment,
  phase,
  sql,
  startApiProcess,
  startInProcessApi,
  waitForState,
  within,
} from './chaos-helpers';

Object.assign(process.env, FAST_JOB_ENV);
jest.setTimeout(150_000);

/** Resolves 'refused' once a TCP connect to the port is refused (or 'accepted'). */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise(resolve => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', () => resolve('refused'));
  });
}

let second: TestApp | undefined;

afterAll(async () => {
  await stopAllWorkers();
  await killAllApis();
  await second?.close();
});

test('API SIGTERM with open sockets: drains, closes 1001, exits 0; the client resumes on another instance without gaps', async () => {
  await ensureBuilt();
  phase('built');
  const d = newDeployment(databaseUrl);
  const db = sql(d.databaseUrl);
  try {
    const a = await startApiProcess(d);
    phase('A up');
    second = await startInProcessApi(d);
    phase('B up');
    const user = await registerUser(a.t);
    const datasetId = await uploadCsv(a.t, user.accessToken, syntheticCsv(60, 200));
    const w = startWorker(a.t, { pool: 'cpu' });
    await w.live();
    phase('worker live');

    const submitted = await a.t.gql<{ submitJob: JobView }>(
      op('SubmitJob'),
      {
        input: { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config: slowSelection(4000) },
      },
      user.accessToken,
    );
    const jobId = submitted.data!.submitJob.id;

    // A subscriber on A, with the close code recorded.
    const closeCodes: number[] = [];
    const clientA = createClient({
      url: a.t.wsUrl,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${user.accessToken}` },
      on: {
        closed: e => {
          const ev = e as { code: number; reason: string };
          phase(`ws on A closed: ${ev.code} ${ev.reason}`);
          closeCodes.push(ev.code);
        },
      },
    });
    const subA = subscribe<{ jobUpdates: EventView }>(clientA, op('JobUpdates'), { jobId });
    await waitForState(
      a.t,
      user.accessToken,
      jobId,
      j => j.status === 'RUNNING' && j.progress >= 3,
    );
    // Let at least one live event arrive over the socket.
    await subA.next(15_000);
    phase('job running, subscriber on A has events');

    // A request still being sent: headers and half the body now, the rest after SIGTERM.
    const body = Buffer.from(
      JSON.stringify({
        query: 'query($id: ID!) { job(id: $id) { id status } }',
        variables: { id: jobId },
      }),
    );
    const inFlight = request(`${a.t.url}`, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        authorization: `Bearer ${user.accessToken}`,
      },
    });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      inFlight.on('response', res => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      inFlight.on('error', reject);
    });
    answer.catch(() => undefined); // awaited below; don't report it twice if the test fails first
    inFlight.write(body.subarray(0, 20));
    inFlight.flushHeaders();
    // An idle keep-alive connection (the server's own keep-alive timeout is 5 s; SIGTERM follows
    // within a second, so a close now is the drain's doing).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let idleClosedAt = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${a.t.baseUrl}/health`, { agent }, res => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('socket', sock => sock.once('close', () => (idleClosedAt = Date.now())));
      req.on('error', reject);
      req.end();
    });

    await new Promise(r => setTimeout(r, 300)); // the server has the request open

    // Still running: the SIGTERM lands mid-job.
    expect((await waitForState(a.t, user.accessToken, jobId, () => true)).status).toBe('RUNNING');
    const sentAt = Date.now();
    phase(`SIGTERM; subscriber has ${subA.results.length} events`);
    a.kill('SIGTERM');
    const port = Number(new URL(a.t.baseUrl).port);
    // New connections are refused as soon as the listener closes.
    let refused = false;
    while (!refused && Date.now() - sentAt < 3000) {
      refused = (await tryConnect(port)) === 'refused';
      if (!refused) await new Promise(r => setTimeout(r, 50));
    }
    expect(refused).toBe(true);
    while (!idleClosedAt && Date.now() - sentAt < 3000) await new Promise(r => setTimeout(r, 20));
    expect(idleClosedAt).toBeGreaterThanOrEqual(sentAt);
    expect(idleClosedAt - sentAt).toBeLessThan(1500);
    await within(subA.done, 5000, 'the subscription on A did not end');
    expect(closeCodes).toEqual([1001]);
    phase('A refused new connections, closed idle + ws');

    // The in-flight request still gets its answer.
    inFlight.end(body.subarray(20));
    const res = await within(answer, 8000, 'the in-flight request got no answer');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ data: { job: { id: jobId } } });

    const exit = await within(a.exited, 15_000, 'A did not exit within 15 s of SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const drainMs = Date.now() - sentAt;
    console.info(`SIGTERM → exit 0 in ${drainMs} ms`);
    agent.destroy();

    // The client reconnects to B and resumes after the last seq it saw.
    const seen = eventsOf(subA.results);
    expect(seen.length).toBeGreaterThan(0);
    const lastSeen = seen.at(-1)!.seq;
    const clientB = createClient({
      url: second.wsUrl,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${user.accessToken}` },
    });
    const subB = subscribe<{ jobUpdates: EventView }>(clientB, op('JobUpdates'), {
      jobId,
      afterSeq: lastSeen,
    });
    await within(subB.done, 90_000, 'the resumed subscription did not reach the terminal event');
    await clientB.dispose();
    const rest = eventsOf(subB.results);
    const all = [...seen, ...rest];
    expect(contiguous(all.map(e => e.seq))).toBe(true);
    expect(rest[0]!.seq).toBe(lastSeen + 1);
    expect(all.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED' });

    const facts = await jobFacts(db, jobId);
    expect(facts).toMatchObject({ status: 'COMPLETED', attempt: 1, resultRows: 1 });
    expect(facts.statuses).toEqual(['QUEUED', 'RUNNING', 'COMPLETED']);
    expect(facts.seqs).toEqual(all.map(e => e.seq));
    await w.stop();
  } finally {
    await db.destroy();
  }
});
