/**
 * Real access-token expiry with the shortest TTL the server accepts (ACCESS_TOKEN_TTL=60 s):
 * the server closes the subscription socket when the token expires (4403); the SDK refreshes,
 * reconnects and keeps delivering events, and HTTP requests after expiry still succeed with a
 * rotated pair. Takes a little over a minute by design.
 */
import 'reflect-metadata';
import WebSocket from 'ws';
import { createClient, MyJobUpdatesDocument, type OmicSelectorClient } from '../../sdk';
import { startTestApp, type TestApp } from '../helpers/app';
import { syntheticCsv } from '../helpers/worker';

jest.setTimeout(180_000);

const TTL_S = 60;

/** ws, counting the connections it opens. */
const opened: string[] = [];
class CountingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    opened.push(String(args[0]));
  }
}

describe('SDK token refresh on real expiry', () => {
  let t: TestApp;
  let client: OmicSelectorClient;

  beforeAll(async () => {
    t = await startTestApp({ env: { ACCESS_TOKEN_TTL: String(TTL_S) } });
  });

  afterAll(async () => {
    await client?.close();
    await t?.close();
  });

  test('subscription survives the 4403 close at expiry; HTTP keeps working with rotated tokens', async () => {
    client = createClient({ url: t.url, webSocketImpl: CountingWebSocket });
    const first = await client.auth.register({
      email: `exp${Date.now()}@example.org`,
      username: `exp${Date.now()}`,
      password: 'correct horse battery',
    });
    const expiresAt = Date.parse(first.accessTokenExpiresAt);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(TTL_S * 1000);
    const dataset = await client.datasets.upload(new Blob([syntheticCsv(20, 6)]), {
      name: 'expiry',
      sampleIdColumn: 'sample',
      outcome: { kind: 'BINARY', column: 'y', positiveClass: 'case' },
    });

    // Live events of all my jobs, on a socket authenticated with the first access token.
    const updates = client.subscribe(MyJobUpdatesDocument);
    const received: Array<{ jobId: string; status: string }> = [];
    const reader = (async () => {
      for await (const u of updates) received.push(u.myJobUpdates);
    })();
    const submit = () =>
      client.jobs.submit({
        type: 'FEATURE_SELECTION',
        datasetId: dataset.id,
        device: 'CPU',
        config: { selectors: [{ code: 't_test', k: 3 }] },
      });
    await new Promise(r => setTimeout(r, 1000));
    const before = await submit();
    await waitFor(() => received.some(e => e.jobId === before.id), 10_000);
    expect(opened).toHaveLength(1);

    // Past expiry: the server has closed that socket with 4403.
    await new Promise(r => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 3000));

    // HTTP with the expired token: the SDK refreshes (once) and the request succeeds.
    const me = await client.auth.me();
    expect(me.id).toBe(first.user.id);
    const rotated = client.auth.tokens!;
    expect(rotated.refreshToken).not.toBe(first.refreshToken);
    expect(Date.parse(rotated.accessTokenExpiresAt!)).toBeGreaterThan(expiresAt);

    // The subscription reconnected with the new token and still delivers.
    await waitFor(() => opened.length >= 2, 15_000);
    await new Promise(r => setTimeout(r, 1000));
    const after = await submit();
    await waitFor(() => received.some(e => e.jobId === after.id), 15_000);
    expect(received.find(e => e.jobId === after.id)!.status).toBe('QUEUED');

    await updates.return!();
    await reader;
  });
});

async function waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 100));
  }
}
