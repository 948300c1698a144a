/**
 * hdg / heg against numpy (scripts/fixtures/misc.py): dispersions and levels within 1e-12 relative,
 * percentile threshold and selection exact.
 */
import { parseArgs } from '../../../../compute/core/args';
import { quietContext } from '../../../../compute/core/method';
import { hdg, type HdgArgs } from '../../../../compute/selectors/hdg';
import { heg, type HegArgs } from '../../../../compute/selectors/heg';
import { datasetFrom, golden } from './fixture';

interface Fx {
  X: number[][];
  hdg: Record<string, number[]>;
  heg: Record<string, number[]>;
  p75_mean: number;
  heg_p75: number[];
}
const fx = golden<Fx>('misc', 'single_cell.json');
const ds = datasetFrom(fx.X);
const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

describe('hdg', () => {
  it.each(['cv', 'variance', 'std'] as const)('%s dispersion matches numpy', async metric => {
    const args = parseArgs(hdg.args, { metric }) as unknown as HdgArgs;
    const res = await hdg.run(ds, args, quietContext(1));
    fx.hdg[metric]!.forEach((v, j) => expect(near(res.scores[ds.featureNames[j]!]!, v)).toBe(true));
    // Own rule: dispersion > 0 (the all-zero gene f4 is out).
    expect(res.selected).not.toContain('f4');
    expect(res.selected.length).toBe(fx.hdg[metric]!.filter(v => v > 0).length);
  });

  it('min_mean excludes genes even when k asks for more', async () => {
    const args = parseArgs(hdg.args, { min_mean: 3 }) as unknown as HdgArgs;
    const res = await hdg.run(ds, args, quietContext(1), 30);
    const eligible = fx.heg.mean!.filter(m => m >= 3).length;
    expect(res.selected.length).toBe(eligible);
    expect(res.selected.every(f => fx.heg.mean![ds.featureNames.indexOf(f)]! >= 3)).toBe(true);
  });
});

describe('heg', () => {
  it.each(['mean', 'median', 'sum'] as const)('%s levels match numpy; top k', async metric => {
    const args = parseArgs(heg.args, { metric }) as unknown as HegArgs;
    const res = await heg.run(ds, args, quietContext(1), 5);
    fx.heg[metric]!.forEach((v, j) => expect(near(res.scores[ds.featureNames[j]!]!, v)).toBe(true));
    expect(res.selected).toHaveLength(5);
  });

  it('percentile keeps genes at or above the numpy percentile', async () => {
    const args = parseArgs(heg.args, { percentile: 75 }) as unknown as HegArgs;
    const res = await heg.run(ds, args, quietContext(1));
    expect(res.diagnostics.threshold).toBeCloseTo(fx.p75_mean, 12);
    expect(new Set(res.selected)).toEqual(new Set(fx.heg_p75.map(j => ds.featureNames[j])));
  });

  it('needs exactly one of k and percentile', async () => {
    const none = parseArgs(heg.args, {}) as unknown as HegArgs;
    await expect(heg.run(ds, none, quietContext(1))).rejects.toThrow(/^percentile: /);
    const both = parseArgs(heg.args, { percentile: 50 }) as unknown as HegArgs;
    await expect(heg.run(ds, both, quietContext(1), 3)).rejects.toThrow(/exactly one/);
  });
});
