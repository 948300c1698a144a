/**
 * GraphQL subscriptions over graphql-ws, as async iterators. One WebSocket per client, opened on
 * the first subscription. The server closes a socket with 4403 when the access token expires or
 * is refused: the connection is then re-established once with a refreshed token, and graphql-ws
 * re-subscribes every active subscription with its original variables (so a `jobUpdates`
 * subscription replays from its original `afterSeq`; `jobs.watch` drops the repeats).
 */
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { OmicSelectorError, type GraphQLErrorLike } from './errors.js';
import { type Session } from './session.js';

export interface SubscriptionOptions {
  wsUrl: string;
  session: Session;
  webSocketImpl?: unknown;
  /** Reconnect attempts after a dropped connection (default 5). */
  retryAttempts?: number;
}

function closeEventOf(e: unknown): { code: number; reason: string } | undefined {
  if (e && typeof e === 'object' && 'code' in e && 'reason' in e) {
    const { code, reason } = e as { code: unknown; reason: unknown };
    if (typeof code === 'number') return { code, reason: String(reason) };
  }
  return undefined;
}

/** Any error graphql-ws hands the sink, as an OmicSelectorError. */
export function toSubscriptionError(e: unknown): OmicSelectorError {
  if (e instanceof OmicSelectorError) return e;
  if (Array.isArray(e) && e.length > 0)
    return OmicSelectorError.fromGraphQL(e as GraphQLErrorLike[]);
  const close = closeEventOf(e);
  if (close) {
    return close.code === 4403 || close.code === 4401
      ? new OmicSelectorError(
          'UNAUTHENTICATED',
          `The server refused the WebSocket connection (${close.code} ${close.reason || 'Forbidden'})`,
          { extensions: { closeCode: close.code } },
        )
      : new OmicSelectorError(
          'SUBSCRIPTION_CLOSED',
          `The WebSocket closed (${close.code}${close.reason ? ` ${close.reason}` : ''})`,
          { extensions: { closeCode: close.code } },
        );
  }
  const message = e instanceof Error ? e.message : 'WebSocket error';
  return new OmicSelectorError('NETWORK_ERROR', message, { cause: e });
}

export class Subscriptions {
  private client: Promise<Client> | undefined;
  /** Set when the server refused our token: the next connect refreshes first. */
  private refreshBeforeConnect = false;
  /** Refreshes since the last successful connection (at most one per refusal streak). */
  private refreshesSinceConnected = 0;
  /** A failed refresh, reported instead of the bare close event it causes. */
  private refreshError: OmicSelectorError | undefined;

  constructor(private readonly opts: SubscriptionOptions) {}

  private async make(): Promise<Client> {
    const webSocketImpl =
      this.opts.webSocketImpl ??
      (globalThis as { WebSocket?: unknown }).WebSocket ??
      (await import('ws')).default;
    const session = this.opts.session;
    return createClient({
      url: this.opts.wsUrl,
      webSocketImpl,
      lazy: true,
      retryAttempts: this.opts.retryAttempts ?? 5,
      connectionParams: async () => {
        if (this.refreshBeforeConnect) {
          this.refreshBeforeConnect = false;
          try {
            await session.refresh();
          } catch (err) {
            this.refreshError = toSubscriptionError(err);
            throw err;
          }
        }
        const bearer = await session.bearer();
        return bearer ? { authorization: `Bearer ${bearer}` } : {};
      },
      shouldRetry: e => {
        const close = closeEventOf(e);
        if (!close) return false;
        if (close.code === 4403) {
          // Expired or refused token: worth one more try only with a fresh one.
          if (!session.canRefresh() || this.refreshesSinceConnected > 0) return false;
          this.refreshesSinceConnected++;
          this.refreshBeforeConnect = true;
          return true;
        }
        return true;
      },
      retryWait: async retries => {
        if (this.refreshBeforeConnect) return;
        await new Promise(r => setTimeout(r, Math.min(500 * 2 ** retries, 8000)));
      },
      on: {
        connected: () => {
          this.refreshesSinceConnected = 0;
          this.refreshError = undefined;
        },
      },
    });
  }

  /**
   * Results of a subscription, in order. Ends when the server completes it; `return()` (or
   * `break` in a for-await loop) unsubscribes. GraphQL errors throw an OmicSelectorError.
   */
  subscribe<T>(query: string, variables: Record<string, unknown> = {}): AsyncIterableIterator<T> {
    this.client ??= this.make();
    const clientPromise = this.client;
    const queue: T[] = [];
    let failure: OmicSelectorError | undefined;
    let done = false;
    let wake: (() => void) | undefined;
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    clientPromise.then(
      client => {
        if (cancelled) return;
        unsubscribe = client.subscribe<T>(
          { query, variables },
          {
            next: (result: FormattedExecutionResult<T, unknown>) => {
              if (result.errors?.length) {
                failure ??= OmicSelectorError.fromGraphQL(result.errors);
              } else if (result.data) {
                queue.push(result.data);
              }
              notify();
            },
            error: err => {
              failure ??= this.refreshError ?? toSubscriptionError(err);
              done = true;
              notify();
            },
            complete: () => {
              done = true;
              notify();
            },
          },
        );
      },
      err => {
        failure = toSubscriptionError(err);
        done = true;
        notify();
      },
    );
    const stop = () => {
      cancelled = true;
      done = true;
      unsubscribe?.();
      notify();
    };
    const iterator: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next(): Promise<IteratorResult<T>> {
        for (;;) {
          if (queue.length > 0) return { value: queue.shift()!, done: false };
          if (failure) {
            const f = failure;
            failure = undefined;
            stop();
            throw f;
          }
          if (done) return { value: undefined, done: true };
          await new Promise<void>(resolve => (wake = resolve));
        }
      },
      async return(): Promise<IteratorResult<T>> {
        stop();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }

  /** Closes the WebSocket (active subscriptions end). */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await (await client).dispose();
  }
}
