/**
 * Tensor-accelerated KKT checks: with a wasm backend active, the float32 products only screen
 * features (rigorous upper bounds) and every decision is re-made in float64, so the path must be
 * IDENTICAL (bit for bit) to the plain float64 loops. Tolerance: exact equality.
 */
import { Rng } from '../../../../compute/core/rng';
import { initTensorBackend, tf } from '../../../../compute/core/tensor';
import { ACCEL_MIN_CELLS } from '../../../../compute/linear/accel';
import { fitElnet, type Target } from '../../../../compute/linear/elnet';
import { DEFAULT_CONTROL } from '../../../../compute/linear/path';

const n = 100;
const p = ACCEL_MIN_CELLS / n;

function data() {
  const rng = new Rng(3);
  const x = new Float64Array(n * p);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const eta = Array.from({ length: n }, (_, i) => x[i]! - x[n + i]! + 0.7 * x[2 * n + i]!);
  return {
    x,
    gaussian: { family: 'gaussian', y: eta.map(e => e + rng.normal()) } as Target,
    binomial: { family: 'binomial', y: eta.map(e => (e + rng.normal() > 0 ? 1 : 0)) } as Target,
    multinomial: {
      family: 'multinomial',
      y: eta.map(e => (e < -0.8 ? 0 : e < 0.8 ? 1 : 2)),
      nClasses: 3,
    } as Target,
  };
}

test.each(['gaussian', 'binomial', 'multinomial'] as const)(
  '%s path is identical with and without the tensor KKT screen',
  async family => {
    expect(await initTensorBackend('wasm')).toBe('wasm');
    const d = data();
    const before = tf.memory().numTensors;
    let resident = 0; // tensors alive during the fit: the design copy when accelerated
    const run = (accel: boolean) =>
      fitElnet(d.x, n, p, null, d[family], {
        l1Ratio: 1,
        nLambda: 15,
        eps: 1e-2,
        standardize: true,
        intercept: true,
        control: {
          ...DEFAULT_CONTROL,
          accel,
          onLambda: () => (resident = Math.max(resident, tf.memory().numTensors - before)),
        },
      }).fit;
    const fast = run(true);
    expect(resident).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    const plain = run(false);
    expect(fast.lambdas).toEqual(plain.lambdas);
    expect(fast.order).toEqual(plain.order);
    expect(fast.coefs).toEqual(plain.coefs);
    expect(fast.passes).toBe(plain.passes);
  },
);
