/**
 * Which pool a job goes to. Pure: the caller supplies the live-worker facts and problem size.
 *
 * - CPU → cpu.
 * - GPU → gpu (role checked by the caller). With no live GPU worker the job still goes to the gpu
 *   queue and waits there; `waitingReason` says why so the user sees it in `job.message`.
 * - AUTO → gpu only when every method the job runs is GPU-capable, the problem (n × p) reaches
 *   the smallest threshold among them and a GPU worker is live; otherwise cpu.
 */
import { type Device } from '../../compute/core/method.js';
import { type Pool } from './names.js';

export type DeviceRequest = 'AUTO' | 'CPU' | 'GPU';

export interface RoutingFacts {
  device: DeviceRequest;
  /** Registry `device` and `gpuMinCells` of every method the job's config names. */
  methods: readonly { code: string; device: Device; gpuMinCells?: number }[];
  /** Samples × features of the job's dataset. */
  cells: number;
  liveGpuWorkers: number;
  /** Default size threshold when a GPU-capable method declares none. */
  defaultGpuMinCells: number;
}

export interface RoutingDecision {
  pool: Pool;
  /** Why the job will wait (GPU requested but no GPU worker is live). */
  waitingReason: string | null;
  /** One line explaining the choice (stored in the job's first event). */
  explanation: string;
}

export function routeJob(f: RoutingFacts): RoutingDecision {
  if (f.device === 'CPU') {
    return { pool: 'cpu', waitingReason: null, explanation: 'CPU requested' };
  }
  if (f.device === 'GPU') {
    return {
      pool: 'gpu',
      waitingReason: f.liveGpuWorkers > 0 ? null : NO_GPU_WORKER,
      explanation: 'GPU requested',
    };
  }
  // The job's own facts first: when they rule the GPU out, the live-worker count is not needed
  // (`needsGpuWorkerCount`), so a submit can skip looking it up.
  const cpuOnly = f.methods.filter(m => m.device === 'cpu').map(m => m.code);
  if (f.methods.length === 0 || cpuOnly.length > 0) {
    const why = cpuOnly.length ? `${cpuOnly.join(', ')} run on CPU only` : 'no GPU-capable method';
    return { pool: 'cpu', waitingReason: null, explanation: `AUTO: ${why}` };
  }
  const threshold = Math.min(...f.methods.map(m => m.gpuMinCells ?? f.defaultGpuMinCells));
  if (f.cells < threshold) {
    return {
      pool: 'cpu',
      waitingReason: null,
      explanation: `AUTO: ${f.cells} cells is below the GPU threshold of ${threshold}`,
    };
  }
  if (f.liveGpuWorkers === 0) {
    return { pool: 'cpu', waitingReason: null, explanation: 'AUTO: no live GPU worker' };
  }
  return {
    pool: 'gpu',
    waitingReason: null,
    explanation: `AUTO: ${f.cells} cells ≥ ${threshold} and a GPU worker is live`,
  };
}

/**
 * Whether the decision depends on `liveGpuWorkers` at all: only a GPU request (its waiting reason)
 * or an AUTO job that would go to the gpu pool if a worker were live. Everything else (CPU, AUTO
 * with a CPU-only method or a small problem) routes to cpu whatever the count.
 */
export function needsGpuWorkerCount(f: Omit<RoutingFacts, 'liveGpuWorkers'>): boolean {
  return routeJob({ ...f, liveGpuWorkers: 1 }).pool === 'gpu';
}

export const NO_GPU_WORKER =
  'Waiting for a GPU worker: none is live. The job stays queued on the GPU pool until a GPU worker ' +
  '(npm run worker -- --pool gpu) starts; cancel it and resubmit with device CPU to run it now.';
