/**
 * The job machinery of an API process, built once per app from its services: BullMQ producers,
 * the job event bus (its own Redis connections, because replay-then-live needs a SUBSCRIBE it can
 * await) and the reconciler. Everything closes when the app's Redis client closes, so the
 * platform's shutdown needs no jobs-specific step.
 */
import type { AppServices } from '../../context.js';
import { createEventBus } from '../../queue/bus.js';
import { ComputeQueues } from '../../queue/queues.js';
import { queueSettings } from '../../queue/settings.js';
import { type JobsDeps } from './job.deps.js';
import { startReconciler } from './job.reconciler.js';

const built = new WeakMap<AppServices, JobsDeps>();

function redisUrlOf(app: AppServices): string {
  const o = app.redis.options;
  const auth = o.password
    ? `${encodeURIComponent(o.username ?? '')}:${encodeURIComponent(o.password)}@`
    : '';
  return `${o.tls ? 'rediss' : 'redis'}://${auth}${o.host ?? '127.0.0.1'}:${o.port ?? 6379}/${o.db ?? 0}`;
}

export function jobsDeps(app: AppServices): JobsDeps {
  let deps = built.get(app);
  if (deps) return deps;
  const settings = queueSettings();
  const redisUrl = redisUrlOf(app);
  const queues = new ComputeQueues(
    { ...app.redis.options, maxRetriesPerRequest: null, connectionName: 'omicselector-queues' },
    settings,
  );
  const bus = createEventBus(redisUrl);
  deps = {
    knex: app.orm.em.getKnex(),
    queues,
    bus,
    redis: app.redis,
    settings,
    storage: app.storage,
    gpuAutoMinCells: app.config.gpuAutoMinCells,
  };
  built.set(app, deps);
  const stopReconciler = startReconciler(deps);
  app.redis.once('end', () => {
    stopReconciler();
    void queues.close().catch(() => undefined);
    void bus.close();
  });
  return deps;
}
