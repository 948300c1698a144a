/**
 * GPU discovery for the gpu pool: `nvidia-smi` lists the devices and driver/CUDA versions, and a
 * short-lived probe process checks that the optional `@tensorflow/tfjs-node-gpu` backend loads
 * (loading it in the worker itself would tie a CUDA context to the process that renews locks).
 */
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { type DeviceFacts, type GpuFacts } from '../queue/heartbeat.js';

function run(cmd: string, args: string[], timeoutMs: number): Promise<string | null> {
  return new Promise(resolve => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) =>
      resolve(err ? null : stdout),
    );
  });
}

/** Parse `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmiCsv(csv: string, cuda: string | null): GpuFacts[] {
  return csv
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
    .map(line => {
      const [name, mem, driver] = line.split(',').map(s => s.trim());
      const memoryMb = Number(mem);
      return {
        name: name ?? 'unknown GPU',
        memoryMb: Number.isFinite(memoryMb) ? memoryMb : null,
        driver: driver || null,
        cuda,
      };
    });
}

export async function listGpus(): Promise<{ gpus: GpuFacts[]; problem: string | null }> {
  const csv = await run(
    'nvidia-smi',
    ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'],
    10_000,
  );
  if (csv === null) {
    return { gpus: [], problem: 'nvidia-smi is not installed or failed (no NVIDIA driver)' };
  }
  const banner = await run('nvidia-smi', [], 10_000);
  const cuda = banner ? (/CUDA Version:\s*([\d.]+)/.exec(banner)?.[1] ?? null) : null;
  const gpus = parseNvidiaSmiCsv(csv, cuda);
  return { gpus, problem: gpus.length ? null : 'nvidia-smi reported no GPU' };
}

/** True when `@tensorflow/tfjs-node-gpu` loads and registers its `tensorflow` backend. */
export async function probeTfjsGpu(): Promise<{ ok: boolean; problem: string | null }> {
  const script =
    "require('@tensorflow/tfjs-node-gpu');" +
    "const tf=require('@tensorflow/tfjs-core');" +
    "tf.setBackend('tensorflow').then(ok=>{process.stdout.write(ok?'ok':'no');process.exit(0)})";
  const out = await run(process.execPath, ['-e', script], 120_000);
  if (out === 'ok') return { ok: true, problem: null };
  return {
    ok: false,
    problem:
      '@tensorflow/tfjs-node-gpu is not installed or did not load (npm i @tensorflow/tfjs-node-gpu)',
  };
}

export interface GpuCheck {
  usable: boolean;
  facts: DeviceFacts;
  problems: string[];
}

/** Decide what a worker of this pool will compute on. */
export async function detectDevice(pool: 'cpu' | 'gpu'): Promise<GpuCheck> {
  const base = {
    cpus: cpus().length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
  };
  if (pool === 'cpu') {
    return {
      usable: true,
      problems: [],
      facts: { kind: 'cpu', backend: 'cpu', gpus: [], cpuFallback: false, ...base },
    };
  }
  const { gpus, problem } = await listGpus();
  const problems = problem ? [problem] : [];
  let tfOk = false;
  if (gpus.length) {
    const probe = await probeTfjsGpu();
    tfOk = probe.ok;
    if (probe.problem) problems.push(probe.problem);
  }
  const usable = gpus.length > 0 && tfOk;
  return {
    usable,
    problems,
    facts: {
      kind: usable ? 'gpu' : 'cpu',
      backend: usable ? 'tensorflow' : 'cpu',
      gpus,
      cpuFallback: !usable,
      ...base,
    },
  };
}
