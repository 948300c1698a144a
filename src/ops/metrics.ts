/**
 * Prometheus metrics of one API process (own Registry per app, so several apps in one process,
 * as in tests, don't clash). Queue depth, live workers and job durations are read at scrape time:
 * job durations come from jobs that reached a terminal state since the previous scrape (by
 * `finished_at`), so every API replica reports the jobs it sees; scrape one replica for those
 * (or aggregate with max), see README.
 */
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppServices, Context } from '../context.js';
import { jobsDeps } from '../modules/jobs/job.runtime.js';
import { liveWorkers } from '../queue/heartbeat.js';
import { POOLS } from '../queue/names.js';

export interface AppMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  operationDuration: Histogram<'operation' | 'type' | 'outcome'>;
  openSubscriptions: Gauge;
  uploadBytes: Counter;
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const JOB_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

export function createMetrics(app: AppServices): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'omicselector_' });
  const httpDuration = new Histogram({
    name: 'omicselector_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'omicselector_graphql_operation_duration_seconds',
    help: 'GraphQL operation latency (HTTP) by operation name',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const openSubscriptions = new Gauge({
    name: 'omicselector_open_subscriptions',
    help: 'GraphQL subscriptions currently open over WebSocket',
    registers: [registry],
  });
  const uploadBytes = new Counter({
    name: 'omicselector_upload_bytes_total',
    help: 'Bytes received in multipart (file upload) requests',
    registers: [registry],
  });
  new Gauge({
    name: 'omicselector_queue_depth',
    help: 'BullMQ entries waiting (incl. prioritized and delayed) by pool',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    async collect() {
      const deps = jobsDeps(app);
      for (const pool of POOLS) {
        const c = await deps.queues
          .queue(pool)
          .getJobCounts('waiting', 'prioritized', 'delayed', 'active')
          .catch(() => undefined);
        if (!c) continue;
        this.set({ pool, state: 'waiting' }, (c.waiting ?? 0) + (c.prioritized ?? 0));
        this.set({ pool, state: 'delayed' }, c.delayed ?? 0);
        this.set({ pool, state: 'active' }, c.active ?? 0);
      }
    },
  });
  new Gauge({
    name: 'omicselector_workers',
    help: 'Live workers (fresh heartbeat) by pool',
    labelNames: ['pool'] as const,
    registers: [registry],
    async collect() {
      const deps = jobsDeps(app);
      const workers = await liveWorkers(
        deps.redis,
        deps.prefix,
        deps.settings.WORKER_HEARTBEAT_TTL_MS,
      ).catch(() => []);
      for (const pool of POOLS) this.set({ pool }, workers.filter(w => w.pool === pool).length);
    },
  });
  const jobDuration = new Histogram({
    name: 'omicselector_job_duration_seconds',
    help: 'Run time (started → finished) of ended jobs by pool, method and final status',
    labelNames: ['pool', 'method', 'status'] as const,
    buckets: JOB_BUCKETS,
    registers: [registry],
  });
  let since = new Date();
  new Gauge({
    name: 'omicselector_job_duration_last_collect_timestamp_seconds',
    help: 'When job durations were last collected',
    registers: [registry],
    async collect() {
      const until = new Date();
      const knex = app.orm.em.getKnex();
      const res = (await knex
        .raw(
          `SELECT pool, status,
                  coalesce(config->'selectors'->0->>'code', config->'models'->0->>'code', lower(type)) AS method,
                  extract(epoch FROM finished_at - started_at)::float8 AS seconds
             FROM jobs
            WHERE finished_at > ? AND finished_at <= ? AND started_at IS NOT NULL`,
          [since, until],
        )
        .catch(() => undefined)) as
        | { rows: Array<{ pool: string; status: string; method: string; seconds: number }> }
        | undefined;
      if (!res) return;
      since = until;
      for (const r of res.rows) {
        jobDuration.observe({ pool: r.pool, method: r.method, status: r.status }, r.seconds);
      }
      this.set(until.getTime() / 1000);
    },
  });
  return { registry, httpDuration, operationDuration, openSubscriptions, uploadBytes };
}

/** Fixed route labels only (no ids from paths) to keep cardinality bounded. */
function routeLabel(path: string): string {
  if (path === '/graphql' || path === '/health' || path === '/ready' || path === '/metrics') {
    return path;
  }
  if (path.startsWith('/objects/')) return '/objects';
  if (path.startsWith('/admin/queues')) return '/admin/queues';
  return 'other';
}

/** A content type that may be multipart: the cheap test before type-is's full parse. */
export const MAYBE_MULTIPART = /multipart\//i;

/**
 * Starts measuring one request: its latency (observed when the response is finished) and, for
 * multipart uploads, the bytes received. Called by the server's first middleware, before any
 * routing, so `req.path` is still the whole path (a mounted router strips its prefix from it).
 */
export function httpObserver(m: AppMetrics): (req: Request, res: Response) => void {
  return (req, res) => {
    const start = performance.now();
    const route = routeLabel(req.path);
    const type = req.headers['content-type'];
    if (type !== undefined && MAYBE_MULTIPART.test(type) && req.is('multipart/form-data')) {
      req.on('data', (chunk: Buffer) => m.uploadBytes.inc(chunk.length));
    }
    res.once('finish', () => {
      m.httpDuration.observe(
        { method: req.method, route, status: String(res.statusCode) },
        (performance.now() - start) / 1000,
      );
    });
  };
}

/** Express middleware form of `httpObserver`. */
export function httpMetrics(m: AppMetrics) {
  const observe = httpObserver(m);
  return (req: Request, res: Response, next: NextFunction) => {
    observe(req, res);
    next();
  };
}

/** Apollo plugin: operation latency by (bounded) operation name. */
export function operationMetrics(m: AppMetrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const end = m.operationDuration.startTimer();
      return {
        async willSendResponse(rc) {
          const name = rc.operationName ?? rc.operation?.name?.value ?? 'anonymous';
          end({
            operation: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'invalid',
            type: rc.operation?.operation ?? 'unknown',
            outcome: rc.errors?.length ? 'error' : 'ok',
          });
        },
      };
    },
  };
}
