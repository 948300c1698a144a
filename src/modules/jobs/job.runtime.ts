/**
 * The job machinery of an API process, built once per app from its services: BullMQ producers, a
 * command connection without key prefix (queue, heartbeat and lock keys carry REDIS_PREFIX
 * explicitly, exactly as the workers write them), the job event bus (its own connections, because
 * replay-then-live needs a SUBSCRIBE it can await) and the reconciler. Everything closes when the
 * app's Redis client ends, so the platform's shutdown needs no jobs-specific step.
 */
import { Redis } from 'ioredis';
import type { AppServices } from '../../context.js';
import { createEventBus } from '../../queue/bus.js';
import { ComputeQueues } from '../../queue/queues.js';
import { queueSettings } from '../../queue/settings.js';
import { type JobsDeps } from './job.deps.js';
import { startReconciler } from './job.reconciler.js';

const built = new WeakMap<AppServices, JobsDeps>();

export function jobsDeps(app: AppServices): JobsDeps {
  let deps = built.get(app);
  if (deps) return deps;
  const settings = queueSettings();
  const prefix = app.config.redisPrefix;
  const options = { ...app.redis.options, keyPrefix: undefined };
  const redis = new Redis({ ...options, connectionName: 'omicselector-jobs' });
  redis.on('error', () => undefined);
  const queues = new ComputeQueues(
    { ...options, maxRetriesPerRequest: null, connectionName: 'omicselector-queues' },
    settings,
    prefix,
  );
  const bus = createEventBus(options, prefix);
  deps = {
    prefix,
    knex: app.orm.em.getKnex(),
    queues,
    bus,
    redis,
    settings,
    storage: app.storage,
    gpuAutoMinCells: app.config.gpuAutoMinCells,
    quotas: app.config.quotas,
    fault: app.config.faultInjection,
  };
  built.set(app, deps);
  const stopReconciler = startReconciler(deps);
  app.redis.once('end', () => {
    stopReconciler();
    void queues.close().catch(() => undefined);
    void bus.close();
    redis.disconnect();
  });
  return deps;
}
