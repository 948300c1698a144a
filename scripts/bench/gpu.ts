/**
 * `npm run bench:gpu`: CPU-vs-GPU time ratios for the GPU-capable kernels, on the same seeded
 * synthetic data as `npm run bench`. On a host without a usable GPU (no NVIDIA driver, or
 * @tensorflow/tfjs-node-gpu not installed) it says so and exits 0.
 *
 * Cases: the batched elastic net behind tensorized stability selection (100 subsamples of the
 * lasso and the logistic lasso) on the GPU (native TensorFlow, CUDA, the tensor FISTA engine)
 * versus what this host would otherwise run: the wasm backend, whose default FISTA engine is the
 * host one (float32 SIMD row kernels on the CPU cores).
 */
import { type Dataset } from '../../compute/core/dataset';
import { Rng } from '../../compute/core/rng';
import { batchedElasticNet } from '../../compute/linear/batched/elastic_net';
import { detectDevice } from '../../src/workers/gpu';
import { syntheticDataset } from './run';

const SIZES = [
  { label: '200×2,000', n: 200, p: 2000 },
  { label: '500×20,000', n: 500, p: 20000 },
];

function subsamples(n: number, count: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.sample(n, Math.floor(n / 2)));
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const check = await detectDevice('gpu');
  if (!check.usable) {
    console.log(`bench:gpu: no GPU found (${check.problems.join('; ')}); nothing to measure.`);
    return;
  }
  console.log(`bench:gpu on ${check.facts.gpus.map(g => g.name).join(', ')}`);
  console.log('case | size | cpu s | gpu s | cpu/gpu');
  for (const size of SIZES) {
    for (const task of ['continuous', 'binary'] as const) {
      const ds: Dataset = syntheticDataset(task, size);
      const subs = subsamples(size.n, 100, 7);
      const run = (backend: 'gpu' | 'wasm') => () =>
        batchedElasticNet({ ds, subsamples: subs, alpha: 0.05, l1_ratio: 1, backend });
      await run('gpu')(); // warm-up: kernel compilation and device upload
      const gpu = await time(run('gpu'));
      const cpu = await time(run('wasm'));
      const name = task === 'continuous' ? 'stability lasso (batched)' : 'stability logistic lasso';
      console.log(
        `${name} | ${size.label} | ${cpu.toFixed(2)} | ${gpu.toFixed(2)} | ${(cpu / gpu).toFixed(2)}`,
      );
    }
  }
}

main().catch(e => {
  process.stderr.write(`bench:gpu: ${(e as Error).message}\n`);
  process.exit(1);
});
