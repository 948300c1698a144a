/**
 * stability_selection and ensemble through the registry (real selectors, argument parsing and the
 * worker-thread path when dist/ is built): same seed → same result, regardless of threads.
 */
import { parseArgs } from '../../../../compute/core/args';
import { type RunContext } from '../../../../compute/core/method';
import { closeThreadPool } from '../../../../compute/core/parallel';
import { Rng } from '../../../../compute/core/rng';
import { getSelector } from '../../../../compute/registry';
import { syntheticBinary } from '../evaluation/helpers';

const ctx = (seed: number, threads: number): RunContext => ({
  rng: new Rng(seed),
  progress: () => undefined,
  threads,
});

afterAll(() => closeThreadPool());

describe('registered stability_selection and ensemble', () => {
  const ds = syntheticBinary(77, 60, 80, 4, 2);

  it('stability_selection over t_test: planted features, diagnostics, thread-independent', async () => {
    const def = getSelector('stability_selection');
    const args = parseArgs(def.args, {
      base: 't_test',
      base_args: '{"alpha":0.05}',
      base_k: 5,
      n_subsamples: 20,
    });
    const one = await def.run(ds, args, ctx(3, 1));
    const two = await def.run(ds, args, ctx(3, 2));
    expect(two.selected).toEqual(one.selected);
    expect(two.scores).toEqual(one.scores);
    expect(one.selected.slice(0, 4).sort()).toEqual(['g1', 'g2', 'g3', 'g4']);
    const d = one.diagnostics as {
      q: number;
      pfer_bound: number;
      pfer_bound_valid: boolean;
      nogueira: { stability: number };
    };
    expect(d.q).toBe(5);
    expect(d.pfer_bound_valid).toBe(true);
    expect(d.nogueira.stability).toBeGreaterThan(0.5);
    expect(() => parseArgs(def.args, { base: 't_test', n_subsamples: 1 })).toThrow(/n_subsamples/);
    await expect(
      def.run(ds, parseArgs(def.args, { base: 't_test', base_args: '{"alhpa":1}' }), ctx(1, 1)),
    ).rejects.toThrow(/base_args\.alhpa: unknown parameter/);
    await expect(
      def.run(ds, parseArgs(def.args, { base: 't_test', base_args: '[1]' }), ctx(1, 1)),
    ).rejects.toThrow(/JSON object/);
  });

  it('ensemble of t_test and mann_whitney by RRA and majority', async () => {
    const def = getSelector('ensemble');
    for (const mode of ['rra', 'majority']) {
      const args = parseArgs(def.args, { selectors: 't_test,mann_whitney', mode, base_k: 4 });
      const r = await def.run(ds, args, ctx(1, 1), 4);
      expect(r.selected.sort()).toEqual(['g1', 'g2', 'g3', 'g4']);
      expect((r.diagnostics.members as unknown[]).length).toBe(2);
    }
    await expect(
      def.run(ds, parseArgs(def.args, { selectors: 't_test' }), ctx(1, 1)),
    ).rejects.toThrow(/at least two/);
  });

  it('stability_selection over lasso: batched tensor path agrees with per-subsample fits', async () => {
    const rng = new Rng(12);
    const n = 80;
    const p = 40;
    const data = new Float64Array(n * p);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    const values = Float64Array.from(
      { length: n },
      (_, i) => 1.5 * data[i]! - 1.5 * data[n + i]! + data[2 * n + i]! + rng.normal(),
    );
    const cont = {
      ...ds,
      nSamples: n,
      nFeatures: p,
      data,
      featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
      sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
      outcome: { kind: 'continuous' as const, values },
    };
    const def = getSelector('stability_selection');
    const run = (path: string) =>
      def.run(
        cont,
        parseArgs(def.args, { base: 'lasso', base_args: '{"alpha":0.2}', n_subsamples: 16, path }),
        ctx(5, 1),
      );
    const batched = await run('batched');
    const threads = await run('threads');
    expect(batched.diagnostics.path).toBe('batched');
    expect(threads.diagnostics.path).toBe('in-process');
    for (const f of cont.featureNames)
      expect(Math.abs(batched.scores[f]! - threads.scores[f]!)).toBeLessThanOrEqual(0.125);
    expect(batched.selected.slice(0, 3).sort()).toEqual(['x1', 'x2', 'x3']);
    await expect(
      def.run(
        cont,
        parseArgs(def.args, { base: 'lasso', n_subsamples: 4, path: 'batched' }),
        ctx(5, 1),
      ),
    ).rejects.toThrow(/no batched kernel for lasso/);
  });
});
