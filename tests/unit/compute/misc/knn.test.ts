/**
 * kNN against scikit-learn (brute force). Tolerance: probabilities and regression values 1e-12,
 * predicted labels exact; save/load round trip identical.
 */
import { parseArgs } from '../../../../compute/core/args';
import { fromRows } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { knn, type KnnArgs, type KnnModel } from '../../../../compute/models/knn';
import { crossDot, crossDotBlock, gram } from '../../../../compute/kernels/cross-dot';
import { Rng } from '../../../../compute/core/rng';
import {
  centredScreen,
  panelDotErrorFactor,
  panelKernel,
} from '../../../../compute/kernels/simd-gemm';
import { classOutcome, datasetFrom, golden } from './fixture';

interface Fx {
  X: number[][];
  Xt: number[][];
  y: number[];
  yc: number[];
  [key: string]: number[][] | number[];
}
const fx = golden<Fx>('misc', 'knn.json');
const args = (raw: Record<string, unknown>): KnnArgs =>
  parseArgs(knn.args, raw) as unknown as KnnArgs;
const test = datasetFrom(fx.Xt);

describe('knn', () => {
  it.each(['uniform', 'distance'])('classifier (%s) matches sklearn', async w => {
    const model = await knn.fit(
      datasetFrom(fx.X, classOutcome(fx.y)),
      args({ weights: w }),
      quietContext(1),
    );
    const pred = model.predict(test);
    if (pred.kind !== 'class') throw new Error('expected class prediction');
    const ref = (fx[`proba_${w}`] as number[][]).flat();
    ref.forEach((v, i) => expect(Math.abs(pred.proba[i]! - v)).toBeLessThan(1e-12));
    expect(Array.from(pred.labels)).toEqual(fx[`pred_${w}`]);
    const again = knn.load(JSON.parse(JSON.stringify(model.save()))).predict(test);
    expect(again).toEqual(pred);
  });

  it.each(['uniform', 'distance'])('regressor (%s) matches sklearn', async w => {
    const ds = datasetFrom(fx.X, { kind: 'continuous', values: Float64Array.from(fx.yc) });
    const model = await knn.fit(ds, args({ weights: w, n_neighbors: 4 }), quietContext(1));
    const pred = model.predict(test);
    if (pred.kind !== 'value') throw new Error('expected values');
    (fx[`reg_${w}`] as number[]).forEach((v, i) =>
      expect(Math.abs(pred.values[i]! - v)).toBeLessThan(1e-12),
    );
  });

  it('predicts with features in any column order and threads agree', async () => {
    const train = datasetFrom(fx.X, classOutcome(fx.y));
    const model = (await knn.fit(train, args({}), quietContext(1))) as KnnModel;
    const shuffled = fromRows(
      fx.Xt.map(r => [...r].reverse()),
      [...test.featureNames].reverse(),
    );
    expect(model.predict(shuffled)).toEqual(model.predict(test));
    expect(await model.predictAsync(test, 2)).toEqual(model.predict(test));
    // Float32 SIMD screening + exact re-ranking gives the float64 answer.
    expect(await model.predictAsync(test, 1, true)).toEqual(model.predict(test));
  });

  it('training rows as queries (symmetric screen) give the float64 neighbours', async () => {
    const rng = new Rng(4);
    const [n, p] = [61, 300];
    // Duplicated rows (exact ties: lower row first) and an offset of 500.
    const rows = Array.from({ length: n }, () =>
      Array.from({ length: p }, () => 500 + rng.normal()),
    );
    for (let i = 0; i < 6; i++) rows[50 + i] = [...rows[i]!];
    const y = Array.from({ length: n }, (_, i) => i % 2);
    for (const w of ['uniform', 'distance']) {
      const train = datasetFrom(rows, classOutcome(y));
      const model = (await knn.fit(
        train,
        args({ n_neighbors: 3, weights: w }),
        quietContext(1),
      )) as KnnModel;
      const exact = model.predict(train);
      expect(await model.predictAsync(train, 1, true)).toEqual(exact);
      expect(await model.predictAsync(train, 2, true, 0)).toEqual(exact);
    }
  });

  // OMICSELECTOR_NO_SIMD=1 switches the kernel off (the models' JavaScript fallbacks are tested then).
  (process.env.OMICSELECTOR_NO_SIMD === '1' ? it.skip : it)(
    'simd panel products stay within their error bound',
    async () => {
      expect(panelKernel()).not.toBeNull();
      const rng = new Rng(5);
      for (const [nx, ny, p, sym] of [
        [5, 7, 301, false],
        [13, 13, 1001, true],
        [9, 17, 129, false],
      ] as const) {
        const x = Float64Array.from({ length: nx * p }, () => rng.normal());
        const y = sym ? x : Float64Array.from({ length: ny * p }, () => rng.normal());
        const c = Float64Array.from({ length: p }, () => 0.1 * rng.normal());
        for (const threads of [1, 2]) {
          const r = (await centredScreen(x, nx, y, ny, p, c, { threads, minThreadWork: 0 }))!;
          for (let a = 0; a < nx; a++)
            for (let b = 0; b < ny; b++) {
              let s = 0;
              for (let j = 0; j < p; j++) s += (x[j * nx + a]! - c[j]!) * (y[j * ny + b]! - c[j]!);
              const bound = panelDotErrorFactor(p) * Math.sqrt(r.xNorms[a]! * r.yNorms[b]!);
              expect(Math.abs(r.dots[a * r.ld + b]! - s)).toBeLessThanOrEqual(bound);
              expect(Math.abs(r.dots[a * r.ld + b]! - s)).toBeLessThan(1e-3);
            }
        }
      }
    },
  );

  it('float32 screening gives the float64 neighbours on near-ties, duplicates and offsets', async () => {
    const rng = new Rng(9);
    const [n, p, m] = [120, 400, 40];
    // Offset 1000 (uncentred float32 products would lose everything), duplicated training rows
    // (exact distance ties → lower row wins) and queries equidistant from several rows.
    const base = Array.from({ length: n }, () => Array.from({ length: p }, () => rng.normal()));
    for (let i = 0; i < 20; i++) base[60 + i] = [...base[i]!];
    // Four near-copies of rows 0..9: their distances to those rows differ by ~1e-5, far below
    // the float32 products' error, so only the exact re-ranking can order them.
    for (let i = 20; i < 60; i++) base[i] = base[i % 10]!.map(v => v + 1e-3 * rng.normal());
    const rows = base.map(r => r.map(v => 1000 + v));
    const y = Array.from({ length: n }, (_, i) => i % 3);
    const queries = Array.from({ length: m }, (_, a) =>
      a < 20 ? [...rows[a]!] : rows[a]!.map(v => v + 1e-3 * rng.normal()),
    );
    for (const k of [1, 5, 17]) {
      for (const w of ['uniform', 'distance']) {
        const model = (await knn.fit(
          datasetFrom(rows, classOutcome(y)),
          args({ n_neighbors: k, weights: w }),
          quietContext(1),
        )) as KnnModel;
        const q = datasetFrom(queries);
        const exact = model.predict(q);
        expect(await model.predictAsync(q, 1, true)).toEqual(exact);
        expect(await model.predictAsync(q, 2, false)).toEqual(exact);
        // The float32 product split over two worker threads (one shared WebAssembly memory).
        if (k === 5) expect(await model.predictAsync(q, 2, true, 1)).toEqual(exact);
      }
    }
  });

  it.each([
    [1, 1, 50],
    [7, 1, 300],
    [37, 2, 300],
    [130, 2, 600], // worker-thread row blocks (minThreadWork 0)
    [130, 3, 600], // the caller and two workers claiming row groups (more threads than cores)
  ])(
    'symmetric gram (n = %i, %i threads) equals the full cross product bit for bit',
    async (n, threads) => {
      const rng = new Rng(n);
      const p = 3000;
      const x = Float64Array.from({ length: n * p }, () => rng.normal());
      const full = await crossDot(x, n, x, n, p, { threads: 1 });
      expect(await gram(x, n, p, { threads, minThreadWork: 0 })).toEqual(full);
      expect(await crossDot(x, n, x, n, p, { threads, minThreadWork: 0 })).toEqual(full);
    },
  );

  it('cross-dot kernel equals naive products', () => {
    const rng = new Rng(2);
    const [nx, ny, p] = [7, 9, 300];
    const x = Float64Array.from({ length: nx * p }, () => rng.normal());
    const y = Float64Array.from({ length: ny * p }, () => rng.normal());
    const c = crossDotBlock({ x, nx, y, ny, p, a0: 0, a1: nx });
    for (let a = 0; a < nx; a++)
      for (let b = 0; b < ny; b++) {
        let s = 0;
        for (let j = 0; j < p; j++) s += x[j * nx + a]! * y[j * ny + b]!;
        expect(Math.abs(c[a * ny + b]! - s)).toBeLessThan(1e-10);
      }
  });
});
