/**
 * gpu.js twin of `l1DistanceBlock`: D[a, i] = Σ_j |s_ij − s_{rows[a] j}| on range-scaled columns,
 * one GPU thread per (query row a, row i), float32.
 *
 * gpu.js is required lazily so that CPU hosts (and hosts where its GPU backends cannot load) never
 * pay for it. Modes: 'gpu' on the GPU pool (WebGPU / headless-gl when present), 'webasm' and 'cpu'
 * for tests on any host. Float32 accumulation over p features: expect ~1e-6 · p relative error
 * against the float64 kernel.
 */

export type GpuJsMode = 'gpu' | 'webasm' | 'cpu';

interface GpuKernel {
  (...args: unknown[]): unknown;
  setOutput(o: number[]): GpuKernel;
  setConstants(c: Record<string, number>): GpuKernel;
  destroy?(): void;
}
interface GpuInstance {
  mode: string;
  createKernel(src: string, settings?: Record<string, unknown>): GpuKernel;
  destroy(): Promise<void> | void;
}

// Kept as source text: gpu.js parses the function, so it must stay plain JavaScript.
const KERNEL = `function (scaled, rows) {
  const r = rows[this.thread.y];
  let s = 0;
  for (let j = 0; j < this.constants.p; j++) {
    s += Math.abs(scaled[j * this.constants.n + this.thread.x] - scaled[j * this.constants.n + r]);
  }
  return s;
}`;

/** True when gpu.js itself can be loaded (not whether a GPU exists). */
export function gpuJsAvailable(): boolean {
  try {
    require.resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
}

/**
 * Distances from `rows` to all n rows (row-major rows.length × n, as Float64Array) with gpu.js in
 * `mode`. Returns the mode gpu.js actually ran (it may fall back, e.g. 'gpu' → 'cpu').
 */
export function l1DistanceGpuJs(
  scaled: Float64Array,
  n: number,
  p: number,
  rows: Int32Array,
  mode: GpuJsMode,
): { dist: Float64Array; mode: string } {
  const { GPU } = require('gpu.js') as { GPU: new (o: { mode: string }) => GpuInstance };
  const gpu = new GPU({ mode });
  try {
    const kernel = gpu
      .createKernel(KERNEL, { tactic: 'precision', dynamicOutput: true, dynamicArguments: true })
      .setConstants({ n, p })
      .setOutput([n, rows.length]);
    const out = kernel(Float32Array.from(scaled), Float32Array.from(rows)) as ArrayLike<number>[];
    const dist = new Float64Array(rows.length * n);
    for (let a = 0; a < rows.length; a++) dist.set(out[a]!, a * n);
    kernel.destroy?.();
    return { dist, mode: gpu.mode };
  } finally {
    void gpu.destroy();
  }
}
