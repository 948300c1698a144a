/**
 * Batched tensor elastic net (float32, TensorFlow.js) against the float64 coordinate-descent
 * solver on each subsample, on every available backend.
 *
 * Tolerances (float32): per subsample max|Δβ| ≤ 1e-3 × max(1, max|β|) on the standardised
 * scale; supports agree where the float64 coefficient is clearly non-zero (|β| > 1e-3 × scale)
 * and float64 zeros stay below 1e-3 × scale; no tensor leaks (tf.memory().numTensors unchanged).
 */
import { makeDataset, type Outcome, subsetSamples } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { initTensorBackend, tf } from '../../../../compute/core/tensor';
import { batchedElasticNet } from '../../../../compute/linear/batched/elastic_net';
import { fitElnet, type Target } from '../../../../compute/linear/elnet';
import { DEFAULT_CONTROL, workingScale } from '../../../../compute/linear/path';
import { lasso } from '../../../../compute/selectors/lasso';
import { parseArgs } from '../../../../compute/core/args';
import { columnMajor, type GlmnetCase, jaccard, loadGolden } from './golden';

const REL_TOL = 1e-3;
const BACKENDS = ['wasm', 'cpu'] as const;
/** Both FISTA engines on every backend: batched tfjs ops, and the host row kernels. */
const ENGINES = BACKENDS.flatMap(b => (['tensor', 'host'] as const).map(f => [b, f] as const));

function setup(name: string) {
  const g = loadGolden<GlmnetCase>(`glmnet_${name}.json`);
  const n = g.n[0]!;
  const p = g.p[0]!;
  const data = columnMajor(g.x);
  const ds = makeDataset({
    data,
    nSamples: n,
    featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
    outcome:
      g.family === 'gaussian'
        ? { kind: 'continuous', values: Float64Array.from(g.y) }
        : { kind: 'binary', labels: Int32Array.from(g.y), classes: ['a', 'b'] },
  });
  const target = { family: g.family, y: g.y } as Target;
  const rng = new Rng(5);
  const subsamples = Array.from({ length: 6 }, () => rng.sample(n, Math.floor(n / 2)));
  return { g, n, p, data, ds, target, subsamples };
}

describe.each(ENGINES)('backend %s, fista %s', (backend, fista) => {
  beforeAll(async () => {
    expect(await initTensorBackend(backend)).toBe(backend);
  });

  test.each([
    ['gaussian', 0.8],
    ['binomial_wide', 1],
  ] as const)('%s l1_ratio %s agrees with float64 CD per subsample', async (name, l1Ratio) => {
    const { g, n, p, data, ds, target, subsamples } = setup(name);
    const alpha = g.fits[0]!.fixed_lambda[1]!;
    const before = tf.memory().numTensors;
    const r = await batchedElasticNet({
      ds,
      subsamples,
      alpha,
      l1_ratio: l1Ratio,
      backend,
      fista,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.backend).toBe(backend);
    expect(r.fista).toBe(fista);
    expect(r.converged).toBe(true);
    subsamples.forEach((rows, b) => {
      const f = fitElnet(data, n, p, rows, target, {
        l1Ratio,
        lambdas: [alpha],
        nLambda: 1,
        eps: 1,
        standardize: true,
        intercept: true,
        control: { ...DEFAULT_CONTROL, tol: 1e-14, maxIter: 1e7 },
      });
      const ref = workingScale(f.fit, p, 0);
      let scale = 1;
      for (let j = 0; j < p; j++) scale = Math.max(scale, Math.abs(ref[j]!));
      for (let j = 0; j < p; j++) {
        const ours = r.coef[b * p + j]!;
        expect(Math.abs(ours - ref[j]!)).toBeLessThanOrEqual(REL_TOL * scale);
        if (Math.abs(ref[j]!) > REL_TOL * scale) expect(ours).not.toBe(0);
      }
    });
  });

  test('abort mid-solve stops it and releases every tensor', async () => {
    const { ds, subsamples } = setup('binomial_wide');
    // A signal that reports "aborted" from its 3rd read on: deterministic, mid-iterations.
    let reads = 0;
    const signal = {
      get aborted() {
        return ++reads > 2;
      },
    } as AbortSignal;
    const before = tf.memory().numTensors;
    await expect(
      batchedElasticNet({ ds, subsamples, alpha: 0.05, l1_ratio: 1, backend, fista, signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(reads).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('host FISTA engine', () => {
  beforeAll(async () => {
    await initTensorBackend('wasm');
  });

  test('is the default on wasm; the same bits on 1 and 2 threads, and per subsample', async () => {
    const { g, ds, p, subsamples } = setup('gaussian');
    const alpha = g.fits[0]!.fixed_lambda[1]!;
    const run = (threads: number, subs = subsamples) =>
      batchedElasticNet({ ds, subsamples: subs, alpha, l1_ratio: 0.8, threads });
    const one = await run(1);
    expect(one.fista).toBe('host');
    const two = await run(2);
    expect(Array.from(two.coef)).toEqual(Array.from(one.coef));
    expect(Array.from(two.intercept)).toEqual(Array.from(one.intercept));
    // each subsample stops on its own test, so solving it alone gives the same coefficients
    const alone = await run(1, [subsamples[3]!]);
    expect(Array.from(alone.coef)).toEqual(Array.from(one.coef.subarray(3 * p, 4 * p)));
  });

  test('agrees with the tensor engine to float32 accuracy', async () => {
    const { g, ds, p, subsamples } = setup('binomial_wide');
    const alpha = g.fits[0]!.fixed_lambda[1]!;
    const host = await batchedElasticNet({ ds, subsamples, alpha, l1_ratio: 1, fista: 'host' });
    const tensor = await batchedElasticNet({ ds, subsamples, alpha, l1_ratio: 1, fista: 'tensor' });
    let scale = 1;
    for (const v of tensor.coef) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < subsamples.length * p; i++) {
      expect(Math.abs(host.coef[i]! - tensor.coef[i]!)).toBeLessThanOrEqual(REL_TOL * scale);
    }
  });
});

describe('selection from the batched solve', () => {
  beforeAll(async () => {
    await initTensorBackend('wasm');
  });

  test('non-zero sets match the float64 lasso selector per subsample (Jaccard ≥ 0.9)', async () => {
    const { g, ds, p, subsamples } = setup('binomial_wide');
    const alpha = g.fits[0]!.fixed_lambda[1]!;
    const args = parseArgs(lasso.args, { alpha, tol: 1e-12 });
    const r = await batchedElasticNet({ ds, subsamples, alpha, l1_ratio: 1 });
    for (let b = 0; b < subsamples.length; b++) {
      const ref = await lasso.run(
        subsetSamples(ds, subsamples[b]!),
        args as never,
        quietContext(),
        undefined,
      );
      const ours = ds.featureNames.filter((_, j) => r.coef[b * p + j] !== 0);
      expect(jaccard(ours, ref.selected)).toBeGreaterThanOrEqual(0.9);
    }
  });
});

describe('host FISTA engine on small and degenerate designs', () => {
  test.each([
    ['gaussian', 1],
    ['binomial', 0.5],
  ] as const)('%s: a constant and a duplicated column, 5-row subsamples', async (family, l1) => {
    const n = 12;
    const p = 5;
    const rng = new Rng(11);
    const data = new Float64Array(n * p);
    for (let i = 0; i < n; i++) {
      data[i] = rng.normal();
      data[n + i] = 3; // constant: never usable
      data[2 * n + i] = rng.normal();
      data[3 * n + i] = data[i]!; // duplicate of column 0
      data[4 * n + i] = rng.normal();
    }
    const y = Array.from(
      { length: n },
      (_, i) => data[i]! + 0.5 * data[2 * n + i]! + 0.3 * rng.normal(),
    );
    const outcome: Outcome =
      family === 'gaussian'
        ? { kind: 'continuous' as const, values: Float64Array.from(y) }
        : {
            kind: 'binary' as const,
            labels: Int32Array.from(y, v => (v > 0 ? 1 : 0)),
            classes: ['a', 'b'],
          };
    const ds = makeDataset({
      data,
      nSamples: n,
      featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
      outcome,
    });
    const subsamples = [Int32Array.of(0, 2, 4, 6, 8, 10), Int32Array.of(1, 3, 5, 7, 9, 11, 0)];
    const run = (fista: 'host' | 'tensor') =>
      batchedElasticNet({ ds, subsamples, alpha: 0.05, l1_ratio: l1, backend: 'wasm', fista });
    const host = await run('host');
    const tensor = await run('tensor');
    expect(host.converged).toBe(true);
    for (let b = 0; b < subsamples.length; b++) expect(host.coef[b * p + 1]).toBe(0);
    for (let i = 0; i < host.coef.length; i++) {
      expect(Number.isFinite(host.coef[i]!)).toBe(true);
      expect(Math.abs(host.coef[i]! - tensor.coef[i]!)).toBeLessThanOrEqual(1e-3);
    }
  });
});
