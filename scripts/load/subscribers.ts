/**
 * Child process of `npm run load`: N graphql-ws clients, each with one `jobUpdates` subscription
 * of the same job. A separate process, so what is measured is the server's fan-out, not this
 * process's own event loop competing with the API.
 *
 * Protocol (IPC): parent sends `SubscribersStart`; each client subscribes with
 * afterSeq = lastSeq − 1, so the server replays exactly one stored event once its Redis
 * subscription is active — that replayed event is the client's "ready" signal. We answer
 * `SubscribersReady`; then every live event whose `stage` is `load:<epoch ms>` gives one latency
 * sample (receipt − publish, both on this machine's clock). Parent polls with 'count'
 * (`SubscribersCount`) until everything arrived, then sends 'finish'; we answer
 * `SubscribersResult`. 'stop' closes the clients and exits.
 */
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface SubscribersStart {
  kind: 'start';
  wsUrl: string;
  token: string;
  jobId: string;
  afterSeq: number;
  count: number;
  /** Connections opened at once while setting up. */
  concurrency: number;
  /** Setup stops here: clients not ready by then count as failed (keeps the run bounded). */
  readyTimeoutMs: number;
}

export interface SubscribersReady {
  kind: 'ready';
  ready: number;
  failed: number;
  errors: string[];
  setupMs: number;
}

/** Answer to 'count': live events received so far (all clients). */
export interface SubscribersCount {
  kind: 'count';
  received: number;
}

export interface SubscribersResult {
  kind: 'result';
  /** One entry per (client, event) received: milliseconds from publish to receipt. */
  latenciesMs: number[];
  /** Live events received per client (to spot clients that missed events). */
  perClient: number[];
  errors: string[];
}

const SUBSCRIPTION = `subscription LoadFanOut($jobId: ID!, $afterSeq: Int!) {
  jobUpdates(jobId: $jobId, afterSeq: $afterSeq) { seq kind progress stage }
}`;

interface Event {
  seq: number;
  kind: string;
  progress: number;
  stage: string | null;
}

const now = () => performance.timeOrigin + performance.now();

async function run(start: SubscribersStart): Promise<void> {
  const clients: Client[] = [];
  const latencies: number[] = [];
  const perClient = new Array<number>(start.count).fill(0);
  const errors: string[] = [];
  const note = (e: unknown) => {
    if (errors.length >= 20) return;
    const close = e as { code?: number; reason?: string } | null;
    if (e instanceof Error) errors.push(e.message);
    else if (typeof close?.code === 'number')
      errors.push(`closed ${close.code} ${close.reason ?? ''}`);
    else errors.push(JSON.stringify(e));
  };
  let ready = 0;
  const t0 = now();
  const deadline = t0 + start.readyTimeoutMs;

  const open = (i: number) =>
    new Promise<void>(resolve => {
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        if (ok) ready++;
        resolve();
      };
      const timer = setTimeout(
        () => {
          note(`client ${i}: not ready within the ${start.readyTimeoutMs} ms setup window`);
          settle(false);
        },
        Math.max(0, deadline - now()),
      );
      const client = createClient({
        url: start.wsUrl,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        keepAlive: 0,
        connectionParams: { authorization: `Bearer ${start.token}` },
      });
      clients.push(client);
      client.subscribe<{ jobUpdates: Event }>(
        { query: SUBSCRIPTION, variables: { jobId: start.jobId, afterSeq: start.afterSeq } },
        {
          next: value => {
            const received = now();
            const e = value.data?.jobUpdates;
            if (!e) {
              note(value.errors ?? value);
              clearTimeout(timer);
              settle(false);
              return;
            }
            // Only PROGRESS events: a later STATUS event repeats the row's last stage.
            const m =
              e.kind === 'PROGRESS' && e.stage ? /^load:(\d+(?:\.\d+)?)$/.exec(e.stage) : null;
            if (m) {
              latencies.push(received - Number(m[1]));
              perClient[i]!++;
            } else if (e.seq === start.afterSeq + 1) {
              clearTimeout(timer);
              settle(true);
            }
          },
          error: err => {
            note(err);
            clearTimeout(timer);
            settle(false);
          },
          complete: () => undefined,
        },
      );
    });

  // A bounded number of handshakes in flight: a burst of 1,000 connects is not what we measure.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(start.concurrency, start.count) }, async () => {
      while (next < start.count && now() < deadline) await open(next++);
    }),
  );
  const readyMsg: SubscribersReady = {
    kind: 'ready',
    ready,
    failed: start.count - ready,
    errors: [...errors],
    setupMs: now() - t0,
  };
  process.send?.(readyMsg);

  process.on('message', async msg => {
    if (msg === 'count') {
      const reply: SubscribersCount = { kind: 'count', received: latencies.length };
      process.send?.(reply);
      return;
    }
    if (msg === 'finish') {
      const result: SubscribersResult = {
        kind: 'result',
        latenciesMs: latencies,
        perClient,
        errors,
      };
      process.send?.(result);
    } else if (msg === 'stop') {
      await Promise.allSettled(clients.map(c => c.dispose()));
      process.exit(0);
    }
  });
}

process.once('message', msg => {
  const m = msg as SubscribersStart;
  if (m?.kind === 'start') {
    run(m).catch(err => {
      process.stderr.write(`subscribers failed: ${String(err)}\n`);
      process.exit(1);
    });
  }
});
process.on('disconnect', () => process.exit(0));
