/**
 * `npm run worker -- --pool cpu --concurrency 2`
 * `npm run worker -- --pool gpu [--allow-cpu-fallback]`
 *
 * A worker joins an existing deployment: it needs DATABASE_URL and REDIS_URL (or a running
 * `npm start` in the same DATA_DIR) and the same storage settings (S3_* or STORAGE_DIR) as the API.
 * Run as many as you like, on as many hosts as you like.
 */
import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { log } from '../logger.js';
import { type JobsDeps } from '../modules/jobs/job.deps.js';
import { initOrm } from '../orm.js';
import { createPublisher } from '../queue/bus.js';
import { ComputeQueues } from '../queue/queues.js';
import { queueSettings } from '../queue/settings.js';
import { readLiveRuntime } from '../services/runtime.js';
import { createStorage } from '../storage/index.js';
import { ComputeWorker, redisOptionsFromUrl } from './compute-worker.js';
import { detectDevice } from './gpu.js';

interface Options {
  pool: 'cpu' | 'gpu';
  concurrency: number;
  threads?: number;
  allowCpuFallback: boolean;
  reconcile: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('expected a whole number 1–256');
  return n;
}

export function parseWorkerArgs(argv: string[]): Options {
  const program = new Command('worker')
    .description('Run a compute worker of the cpu or gpu pool')
    .requiredOption('--pool <pool>', 'cpu or gpu', v => {
      if (v !== 'cpu' && v !== 'gpu') throw new InvalidArgumentError('expected cpu or gpu');
      return v;
    })
    .option('--concurrency <n>', 'jobs run at once (one compute process each)', positiveInt, 1)
    .option('--threads <n>', 'threads per job (default: cores / concurrency)', positiveInt)
    .option(
      '--allow-cpu-fallback',
      'gpu pool: start without a usable GPU and compute on CPU',
      false,
    )
    .option('--no-reconcile', 'do not take part in the queue/database reconciler')
    .exitOverride();
  program.parse(argv, { from: 'user' });
  return program.opts<Options>();
}

async function main(): Promise<void> {
  const opts = parseWorkerArgs(process.argv.slice(2));
  const config = loadConfig();
  const settings = queueSettings();
  const runtime = readLiveRuntime(config.dataDir);
  const databaseUrl = config.databaseUrl ?? runtime?.databaseUrl;
  const redisUrl = config.redisUrl ?? runtime?.redisUrl;
  if (!databaseUrl || !redisUrl) {
    process.stderr.write(
      'A worker joins an existing deployment: set DATABASE_URL and REDIS_URL (and the same S3_* or ' +
        'STORAGE_DIR as the API), or start `npm start` in the same DATA_DIR first.\n',
    );
    process.exit(2);
  }
  // Compute children read these from the environment.
  process.env.DATABASE_URL = databaseUrl;
  process.env.REDIS_URL = redisUrl;

  const check = await detectDevice(opts.pool);
  if (opts.pool === 'gpu' && !check.usable) {
    if (!opts.allowCpuFallback) {
      process.stderr.write(
        `No usable GPU: ${check.problems.join('; ')}.\n` +
          'The gpu pool needs an NVIDIA GPU with its driver and @tensorflow/tfjs-node-gpu. Run ' +
          '`npm run worker -- --pool cpu` instead, or add --allow-cpu-fallback to serve the gpu ' +
          'queue on CPU (for tests and development).\n',
      );
      process.exit(2);
    }
    log.warn('gpu pool running on CPU (--allow-cpu-fallback)', { problems: check.problems });
  } else if (opts.pool === 'gpu') {
    // Inherited by the compute child processes: tensor kernels ask for the CUDA backend and the
    // gpu.js kernels (ReliefF distances) run in GPU mode.
    process.env.OMICSELECTOR_DEVICE = 'gpu';
    process.env.OMICSELECTOR_BACKEND ??= 'gpu';
  }

  const orm = await initOrm({ clientUrl: databaseUrl, poolMax: Math.max(4, opts.concurrency * 2) });
  const storage = createStorage(config);
  await storage.init();
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 3,
    retryStrategy: times => Math.min(times * 200, 5000),
    connectionName: 'omicselector-worker',
  });
  redis.on('error', () => undefined);
  const bus = createPublisher(redisOptionsFromUrl(redisUrl), config.redisPrefix);
  const queues = new ComputeQueues(
    { ...redisOptionsFromUrl(redisUrl), maxRetriesPerRequest: null },
    settings,
    config.redisPrefix,
  );
  const deps: JobsDeps = {
    prefix: config.redisPrefix,
    knex: orm.em.getKnex(),
    queues,
    bus,
    redis,
    settings,
    storage,
    gpuAutoMinCells: config.gpuAutoMinCells,
  };
  const threads =
    opts.threads ?? Math.max(1, Math.floor(availableParallelism() / opts.concurrency));
  const worker = new ComputeWorker({
    pool: opts.pool,
    concurrency: opts.concurrency,
    device: check.facts,
    threads,
    redisUrl,
    deps,
    reconcile: opts.reconcile,
    resultWriteRetryMs: config.resultWriteRetrySeconds * 1000,
    fault: config.faultInjection,
  });
  await worker.start();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('worker stopping', { signal });
    await worker.stop();
    await queues.close().catch(() => undefined);
    await bus.close();
    redis.disconnect();
    await orm.close(true);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch(err => {
    log.error('worker failed to start', {
      error: err instanceof Error ? err.message : String(err),
    });
    process.exit(1);
  });
}
