/**
 * The batched tensor path of stability selection against fitting each subsample with the lasso
 * selector (float64 coordinate descent): the kernel runs in float32 FISTA, so selected sets agree
 * up to features at the edge of the penalty (Jaccard ≥ 0.9 per subsample, frequencies within 0.1).
 */
import { parseArgs } from '../../../../compute/core/args';
import { makeDataset, subsetSamples } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { initTensorBackend, tf } from '../../../../compute/core/tensor';
import { lasso } from '../../../../compute/selectors/lasso';
import { BUILTIN_BATCHED } from '../../../../compute/stability/batched';
import { drawSubsamples } from '../../../../compute/stability/stability';

function continuous(seed: number, n: number, p: number) {
  const rng = new Rng(seed);
  const data = new Float64Array(n * p);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = rng.normal();
    for (let j = 0; j < 5; j++) s += (j % 2 ? -1 : 1) * data[j * n + i]!;
    values[i] = s;
  }
  return makeDataset({
    data,
    nSamples: n,
    featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
    outcome: { kind: 'continuous', values },
  });
}

describe('batched lasso kernel for stability selection', () => {
  beforeAll(() => initTensorBackend('auto'));

  it('selects the same features as per-subsample lasso fits, without leaking tensors', async () => {
    const ds = continuous(3, 80, 60);
    const subs = drawSubsamples(ds, 8, 0.5, true, new Rng(1));
    const before = tf.memory().numTensors;
    const out = await BUILTIN_BATCHED.lasso!(ds, subs, { alpha: 0.15 }, 0, quietContext(1));
    expect(tf.memory().numTensors).toBe(before);
    expect(out).not.toBeNull();
    const index = new Map(ds.featureNames.map((f, j) => [f, j]));
    const args = parseArgs(lasso.args, { alpha: 0.15 });
    let total = 0;
    const hits = new Int32Array(5);
    for (let b = 0; b < subs.length; b++) {
      const ref = await lasso.run(subsetSamples(ds, subs[b]!), args as never, quietContext(1));
      const a = new Set(ref.selected.map(f => index.get(f)!));
      const c = new Set(out!.sets[b]!);
      const inter = [...a].filter(j => c.has(j)).length;
      const jac = inter / (a.size + c.size - inter);
      expect(jac).toBeGreaterThanOrEqual(0.9);
      total += c.size;
      for (let j = 0; j < 5; j++) if (c.has(j)) hits[j]!++;
    }
    // the five true features are found in most subsamples
    for (let j = 0; j < 5; j++) expect(hits[j]).toBeGreaterThanOrEqual(6);
    expect(total).toBeGreaterThan(5 * subs.length);
  });

  it('declines what it cannot batch (CV-chosen alpha, multiclass, missing values)', async () => {
    const ds = continuous(4, 40, 10);
    const subs = drawSubsamples(ds, 2, 0.5, true, new Rng(1));
    expect(await BUILTIN_BATCHED.lasso!(ds, subs, { alpha: null }, 0, quietContext(1))).toBeNull();
    const withNaN = { ...ds, data: Float64Array.from(ds.data, (v, i) => (i === 3 ? NaN : v)) };
    expect(
      await BUILTIN_BATCHED.lasso!(withNaN, subs, { alpha: 0.1 }, 0, quietContext(1)),
    ).toBeNull();
    const k = await BUILTIN_BATCHED.lasso!(ds, subs, { alpha: 0.01 }, 3, quietContext(1));
    expect(k!.sets.every(s => s.length <= 3)).toBe(true);
  });
});
