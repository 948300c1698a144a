/**
 * ReliefF / RReliefF. Tolerance: weights within 1e-10 (absolute) of the numpy reference
 * (scripts/fixtures/misc.py) with all instances; sampled runs: same seed → same weights.
 */
import { parseArgs } from '../../../../compute/core/args';
import { quietContext } from '../../../../compute/core/method';
import { relieff, type RelieffArgs } from '../../../../compute/selectors/relieff';
import { classOutcome, datasetFrom, golden, synthClasses, synthContinuous } from './fixture';

interface Fx {
  X: number[][];
  y: number[];
  k: number;
  weights: number[];
}
const args = (raw: Record<string, unknown> = {}): RelieffArgs =>
  parseArgs(relieff.args, raw) as unknown as RelieffArgs;

describe('relieff', () => {
  it.each(['relieff_multiclass.json', 'relieff_binary.json', 'rrelieff.json'])(
    'weights match the numpy reference (%s)',
    async file => {
      const fx = golden<Fx>('misc', file);
      const outcome =
        file === 'rrelieff.json'
          ? { kind: 'continuous' as const, values: Float64Array.from(fx.y) }
          : classOutcome(fx.y);
      const ds = datasetFrom(fx.X, outcome);
      const res = await relieff.run(ds, args({ n_neighbors: fx.k }), quietContext(1));
      fx.weights.forEach((w, j) => {
        expect(Math.abs(res.scores[ds.featureNames[j]!]! - w)).toBeLessThanOrEqual(1e-10);
      });
      expect(res.backend).toBe('float64');
      // Own rule: positive weights only.
      expect(res.selected.every(f => res.scores[f]! > 0)).toBe(true);
    },
  );

  it('ranks informative features first and is deterministic when sampling', async () => {
    const ds = synthClasses(60, 40, 3, 9);
    const a = await relieff.run(ds, args({ n_iterations: 30 }), quietContext(5), 3);
    const b = await relieff.run(ds, args({ n_iterations: 30 }), quietContext(5), 3);
    expect(new Set(a.selected)).toEqual(new Set(['f1', 'f2', 'f3']));
    expect(b.scores).toEqual(a.scores);
    const c = await relieff.run(ds, args({ n_iterations: 30 }), quietContext(6), 3);
    expect(c.scores).not.toEqual(a.scores);
  });

  it('RReliefF finds the features driving a continuous outcome', async () => {
    const ds = synthContinuous(80, 20, 2, 4);
    const res = await relieff.run(ds, args(), quietContext(1), 2);
    expect(new Set(res.selected)).toEqual(new Set(['f1', 'f2']));
  });

  it('aborts', async () => {
    const ds = synthClasses(20, 5, 1, 1);
    const ac = new AbortController();
    ac.abort();
    await expect(relieff.run(ds, args(), quietContext(1, ac.signal))).rejects.toThrow(/cancelled/);
  });
});
