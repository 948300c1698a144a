/**
 * Tensor-accelerated KKT checks for the float64 coordinate-descent paths.
 *
 * The KKT check after each penalty value needs |x_jᵀr| for every feature outside the strong set:
 * a full n·p matrix–vector product, the dominant cost of a long path on wide data. When a wasm
 * or native TensorFlow backend is active, that product runs as one float32 GEMV on a resident
 * copy of the design (≈ 4× faster than the float64 JS loop on wasm), and the result is turned
 * into a rigorous UPPER bound by adding the float32 rounding error bound
 * (n + 2)·2⁻²³·‖x_j‖·‖r‖ (the inputs' rounding plus accumulation, a conservative 2× the
 * textbook γ_n). The caller recomputes, in float64, only the features whose bound reaches the
 * threshold, so the set of violators — and hence the path — is exactly the float64 one.
 */
import { activeTensorBackend, initTensorBackend, tf } from '../core/tensor';

/** Designs smaller than this run the plain loop (upload and call overhead would dominate). */
export const ACCEL_MIN_CELLS = 1_000_000;
const ERR = 2 ** -23;

export interface KktAccel {
  /**
   * out[j] ≥ scale·max_c |x_jᵀ r_c| for the K residual vectors r_c (row-major K × n in `r`):
   * the float32 product plus its error bound.
   */
  absXtrUpper(
    r: Float64Array,
    K: number,
    scale: number,
    xnorm: Float64Array,
    out: Float64Array,
  ): void;
  dispose(): void;
}

/**
 * A resident float32 copy of column-major x (n × p) as an n × p row-major tensor, or null when no
 * wasm / native backend is active or the design is small.
 */
export function makeKktAccel(x: Float64Array, n: number, p: number): KktAccel | null {
  const backend = activeTensorBackend();
  if ((backend !== 'wasm' && backend !== 'tensorflow') || n * p < ACCEL_MIN_CELLS) return null;
  // Column-major x is Xᵀ in row-major order; materialise X (a transposed operand is slow).
  const X = tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(x), [p, n])));
  let r32 = new Float32Array(n);
  return {
    absXtrUpper(r, K, scale, xnorm, out) {
      if (r32.length !== K * n) r32 = new Float32Array(K * n);
      r32.set(r.subarray(0, K * n));
      const g = tf.tidy(() => tf.matMul(tf.tensor2d(r32, [K, n]), X));
      const d = g.dataSync();
      g.dispose();
      for (let c = 0; c < K; c++) {
        let rn = 0;
        for (let i = 0; i < n; i++) rn += r[c * n + i]! * r[c * n + i]!;
        const e = (n + 2) * ERR * Math.sqrt(rn);
        for (let j = 0; j < p; j++) {
          const v = (Math.abs(d[c * p + j]!) + e * xnorm[j]!) * scale;
          if (c === 0 || v > out[j]!) out[j] = v;
        }
      }
    },
    dispose() {
      X.dispose();
    },
  };
}

/**
 * Make sure a tensor backend is initialised before a large fit (the CD paths are synchronous
 * and only use a backend that is already active). Failures leave the plain float64 loops.
 */
export async function initAccelBackend(cells: number): Promise<void> {
  if (cells < ACCEL_MIN_CELLS || activeTensorBackend()) return;
  try {
    await initTensorBackend('auto');
  } catch {
    // no backend: the float64 loops run instead
  }
}
