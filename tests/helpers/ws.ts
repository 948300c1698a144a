/**
 * graphql-ws client helpers for subscription tests.
 *
 *   const client = wsClient(t.wsUrl, token);
 *   const sub = subscribe(client, 'subscription { … }', { id });
 *   await sub.ready;                 // give Redis SUBSCRIBE a moment (at-most-once delivery)
 *   const first = await sub.next();
 *   await sub.dispose(); await client.dispose();
 */
import {
  createClient,
  type Client,
  type FormattedExecutionResult as ExecutionResult,
} from 'graphql-ws';
import WebSocket from 'ws';

/**
 * `keepOpen`: one socket for the client's life. By default the client is lazy and closes its
 * socket as soon as no subscription is left, so the next one connects (and authenticates) anew.
 */
export function wsClient(
  url: string,
  token?: string,
  extra: Record<string, unknown> = {},
  { keepOpen = false }: { keepOpen?: boolean } = {},
): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: !keepOpen,
    retryAttempts: 0,
    connectionParams: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
  });
}

export interface Subscription<T> {
  /** Resolves after a short delay so the server-side Redis subscription is active. */
  ready: Promise<void>;
  /** Every result received so far. */
  results: ExecutionResult<T, unknown>[];
  /** The next result (or the first not yet consumed); rejects on error or after timeoutMs. */
  next(timeoutMs?: number): Promise<ExecutionResult<T, unknown>>;
  /** Resolves when the server completes the subscription. */
  done: Promise<void>;
  dispose(): Promise<void>;
}

export function subscribe<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  readyDelayMs = 500,
): Subscription<T> {
  const results: ExecutionResult<T, unknown>[] = [];
  const waiters: Array<{
    resolve: (r: ExecutionResult<T, unknown>) => void;
    reject: (e: unknown) => void;
  }> = [];
  let consumed = 0;
  let failure: unknown;
  let finish: () => void = () => undefined;
  const done = new Promise<void>(resolve => {
    finish = resolve;
  });
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: value => {
        results.push(value);
        const w = waiters.shift();
        if (w) {
          consumed++;
          w.resolve(value);
        }
      },
      error: err => {
        failure = err;
        for (const w of waiters.splice(0)) {
          w.reject(err);
        }
        finish();
      },
      complete: () => finish(),
    },
  );
  return {
    ready: new Promise(resolve => setTimeout(resolve, readyDelayMs)),
    results,
    done,
    next: (timeoutMs = 10_000) => {
      if (consumed < results.length) {
        return Promise.resolve(results[consumed++]!);
      }
      if (failure) {
        return Promise.reject(failure);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no subscription event in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          resolve: r => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: e => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    dispose: async () => {
      unsubscribe();
    },
  };
}
