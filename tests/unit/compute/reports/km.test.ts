/**
 * Kaplan–Meier and log-rank against R's survival package (scripts/fixtures/reports.R):
 * survival probabilities to 1e-12, χ² and p to 1e-9 (relative).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kaplanMeier, kmSteps, logRank, median } from '../../../../compute/reports/km';

interface Case {
  time: number[];
  event: number[];
  group: number[];
  km0_times: number[];
  km0_surv: number[];
  chisq: number;
  p: number;
}
const cases = JSON.parse(
  readFileSync(join(__dirname, '../../../fixtures/golden/reports/km.json'), 'utf8'),
) as Case[];

describe('Kaplan–Meier and log-rank (R survival)', () => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const idx = c.group.map((g, i) => (g === 0 ? i : -1)).filter(i => i >= 0);
    const km = kaplanMeier(
      idx.map(i => c.time[i]!),
      idx.map(i => c.event[i]!),
    );
    expect(km.times).toEqual(c.km0_times);
    km.survival.forEach((s, j) => expect(Math.abs(s - c.km0_surv[j]!)).toBeLessThan(1e-12));
    const lr = logRank(c.time, c.event, c.group);
    expect(Math.abs(lr.chi2 - c.chisq) / c.chisq).toBeLessThan(1e-9);
    expect(Math.abs(lr.p - c.p) / c.p).toBeLessThan(1e-9);
  });

  it('step corners start at (0, 1), drop at each event time and end at the last time', () => {
    const km = kaplanMeier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0]);
    expect(km.times).toEqual([1, 2, 3]);
    [0.8, 0.6, 0.3].forEach((v, j) => expect(km.survival[j]).toBeCloseTo(v, 12));
    expect(km.censored.map(c => c[0])).toEqual([2, 5]);
    const steps = kmSteps(km, 5);
    expect(steps.map(p => p[0])).toEqual([0, 1, 1, 2, 2, 3, 3, 5]);
    [1, 1, 0.8, 0.8, 0.6, 0.6, 0.3, 0.3].forEach((v, j) => expect(steps[j]![1]).toBeCloseTo(v, 12));
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});
