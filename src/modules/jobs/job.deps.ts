/** What the job machinery needs from the platform; built once per process (API or worker). */
import { type Knex } from '@mikro-orm/postgresql';
import { type Redis } from 'ioredis';
import { type ComputeQueues } from '../../queue/queues.js';
import { type QueueSettings } from '../../queue/settings.js';
import { type ObjectStorage } from '../../storage/index.js';
import { type EventBus } from './job.events.js';

export interface JobsDeps {
  /** The deployment's Redis namespace (REDIS_PREFIX): queue keys, heartbeats, channels, topics. */
  prefix: string;
  knex: Knex;
  queues: ComputeQueues;
  bus: EventBus;
  /** Commands (heartbeats, locks, cancel signals); no keyPrefix, not in subscriber mode. */
  redis: Redis;
  settings: QueueSettings;
  storage: ObjectStorage;
  gpuAutoMinCells: number;
  /** Per-user quotas checked atomically at submit (API only; absent: unlimited). */
  quotas?: import('../quotas/quotas.service.js').QuotaLimits;
  /** Test-only crash point (config.faultInjection; never set in production). */
  fault?: import('../../config.js').FaultPoint | null;
}
