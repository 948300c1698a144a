/**
 * `jobUpdates(jobId, afterSeq)`: stored events after afterSeq, then live ones, with no gap and no
 * duplicate across the switch.
 *
 * Order of operations: subscribe to the job's Redis topic FIRST (awaiting the SUBSCRIBE), buffering
 * live events; then read the store from afterSeq; then drain the buffer, dropping seqs already
 * delivered. A live event that skips ahead (seq > last + 1: a message lost or reordered between
 * publishers) triggers a read of the missing range from the store. Because pub/sub is
 * at-most-once, a quiet stream also re-reads the store every `pollMs`, so the terminal event is
 * never missed (e.g. across a Redis restart). The stream ends after the terminal STATUS event.
 */
import { log } from '../../logger.js';
import { isTerminal, type JobEventRecord } from './job.model.js';
import { fromPayload, type EventBus } from './job.events.js';

export interface StreamOptions {
  bus: Pick<EventBus, 'subscribe' | 'unsubscribe'>;
  topic: string;
  afterSeq: number;
  /** Stored events with seq > after, ascending, at most `limit`. */
  load(after: number, limit: number): Promise<JobEventRecord[]>;
  pollMs: number;
}

const PAGE = 500;

/**
 * One record per received message object: RedisPubSub parses a message once and hands the same
 * object to every listener of its channel, so all streams of a job on this API yield the same
 * record, and a shared-fan-out subscription executes it once for all of them.
 */
const records = new WeakMap<object, JobEventRecord | null>();
function recordOf(payload: unknown): JobEventRecord | null {
  if (typeof payload !== 'object' || payload === null) return fromPayload(payload);
  let e = records.get(payload);
  if (e === undefined) records.set(payload, (e = fromPayload(payload)));
  return e;
}

export const isEnd = (e: JobEventRecord) => e.kind === 'STATUS' && isTerminal(e.status);

/**
 * Subscription fields whose result is a function of the event alone (`JobEventType.from(event)`):
 * ownership is checked once, when subscribing (`visibleJob`; `myJobUpdates` streams only the
 * caller's own topic), and `@Authorized()` only needs the operation's fixed context to hold a user.
 * The server executes each live event of these once for all subscribers (`sharedFanOutSubscribe`).
 */
export const SHARED_FAN_OUT_FIELDS: ReadonlySet<string> = new Set(['jobUpdates', 'myJobUpdates']);

/**
 * A Redis subscription feeding a buffer, with a wait that a new event, a timeout or close() ends.
 * close() is idempotent and also runs when the consumer returns early (before the first next(),
 * an async generator's own `finally` would never run, leaking the Redis subscription).
 */
class Feed {
  readonly buffer: JobEventRecord[] = [];
  closed = false;
  private wake: (() => void) | null = null;
  private subId: number | null = null;

  constructor(private readonly bus: Pick<EventBus, 'subscribe' | 'unsubscribe'>) {}

  async open(topic: string): Promise<void> {
    this.subId = await this.bus.subscribe(topic, payload => {
      const e = recordOf(payload);
      if (!e || this.closed) return;
      this.buffer.push(e);
      this.wake?.();
    });
  }

  /** Resolves true on a new event, false on timeout or close. */
  wait(ms: number | null): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>(resolve => {
      const timer = ms === null ? null : setTimeout(() => done(false), ms);
      const done = (v: boolean) => {
        if (timer) clearTimeout(timer);
        this.wake = null;
        resolve(v);
      };
      this.wake = () => done(!this.closed);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.subId !== null) this.bus.unsubscribe(this.subId);
    this.wake?.();
  }
}

function iterate(
  feed: Feed,
  gen: AsyncGenerator<JobEventRecord>,
): AsyncIterableIterator<JobEventRecord> {
  const it: AsyncIterableIterator<JobEventRecord> = {
    async next() {
      if (feed.closed) return { done: true, value: undefined };
      const r = await gen.next();
      if (r.done) feed.close();
      return r;
    },
    async return(value?: unknown) {
      feed.close();
      await gen.return(undefined);
      return { done: true, value: value as undefined };
    },
    async throw(err?: unknown) {
      feed.close();
      return gen.throw(err);
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

export async function openJobStream(
  opts: StreamOptions,
): Promise<AsyncIterableIterator<JobEventRecord>> {
  const feed = new Feed(opts.bus);
  await feed.open(opts.topic);
  const { buffer } = feed;

  async function* run(): AsyncGenerator<JobEventRecord> {
    let last = opts.afterSeq;
    let readStore = true;
    let loadFailing = false;
    while (!feed.closed) {
      if (readStore) {
        readStore = false;
        let unreachable = false;
        for (;;) {
          let page: JobEventRecord[];
          try {
            page = await opts.load(last, PAGE);
          } catch (err) {
            // The database is restarting or unreachable: keep the subscription (live events
            // still arrive through Redis) and read the store again after pollMs.
            if (!loadFailing)
              log.warn('job stream: stored events unreadable; retrying', {
                topic: opts.topic,
                error: String(err),
              });
            loadFailing = unreachable = true;
            break;
          }
          loadFailing = false;
          for (const e of page) {
            if (e.seq <= last) continue;
            last = e.seq;
            yield e;
            if (isEnd(e)) return;
          }
          if (page.length < PAGE) break;
        }
        if (unreachable) readStore = true;
      }
      buffer.sort((a, b) => a.seq - b.seq);
      while (buffer.length) {
        const e = buffer[0]!;
        if (e.seq <= last) {
          buffer.shift();
          continue;
        }
        if (e.seq > last + 1) {
          readStore = true;
          break;
        }
        buffer.shift();
        last = e.seq;
        yield e;
        if (isEnd(e)) return;
      }
      if (readStore && !loadFailing) continue;
      // Quiet: wait for a live event; on timeout re-read the store (a lost pub/sub message).
      if (!(await feed.wait(opts.pollMs))) readStore = true;
    }
  }
  return iterate(feed, run());
}

/**
 * `myJobUpdates`: live status changes of all the caller's jobs (no replay: there is no single seq
 * across jobs; each event carries its job's absolute state, so a client refetches `jobs` on
 * reconnect). Ends only when the client unsubscribes.
 */
export async function openUserStream(
  bus: Pick<EventBus, 'subscribe' | 'unsubscribe'>,
  topic: string,
): Promise<AsyncIterableIterator<JobEventRecord>> {
  const feed = new Feed(bus);
  await feed.open(topic);
  async function* run(): AsyncGenerator<JobEventRecord> {
    while (!feed.closed) {
      while (feed.buffer.length) yield feed.buffer.shift()!;
      await feed.wait(null);
    }
  }
  return iterate(feed, run());
}
