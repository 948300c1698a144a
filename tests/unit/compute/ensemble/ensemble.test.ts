/**
 * Ensemble aggregation rules on hand-made member results, RRA p-values vs scipy's beta CDF
 * (scripts/fixtures/metrics.py, 1e-12), and the run-the-members path with test-only selectors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quietContext } from '../../../../compute/core/method';
import {
  aggregate,
  betaOrderCdf,
  rraPValue,
  type MemberResult,
} from '../../../../compute/ensemble/aggregate';
import { runEnsemble } from '../../../../compute/ensemble/ensemble';
import { memberSteps } from '../../../../compute/ensemble/selector';
import { rankAndSelect } from '../../../../compute/core/select';
import { syntheticBinary, testResolver, tSelector } from '../evaluation/helpers';
import { type SelectorDef } from '../../../../compute/core/method';

const names = ['a', 'b', 'c', 'd', 'e'];
// three members; scores higher = better
const members: MemberResult[] = [
  { selected: ['a', 'b', 'c'], scores: { a: 9, b: 8, c: 7, d: 1, e: 0 } },
  { selected: ['a', 'c'], scores: { a: 0.9, b: 0.1, c: 0.8, d: 0.5, e: 0.2 } },
  { selected: ['a', 'd', 'b'], scores: { a: 3, b: 1, c: 0, d: 2, e: -1 } },
];
const pick = (mode: Parameters<typeof aggregate>[2], opts = {}, k?: number): string[] => {
  const agg = aggregate(names, members, mode, opts);
  return rankAndSelect({ featureNames: names }, agg.score, k, agg.keep).selected;
};

describe('ensemble aggregation', () => {
  it('majority vote by fraction (rounded up) or count', () => {
    // ⌈0.5·3⌉ = 2 votes; b and c tie on votes, c has the better mean rank (3 vs 3.33)
    expect(pick('majority')).toEqual(['a', 'c', 'b']);
    expect(pick('majority', { min_votes: 3 })).toEqual(['a']);
    expect(pick('majority', { min_votes: 1 })).toEqual(['a', 'c', 'b', 'd']);
  });

  it('intersection and union', () => {
    expect(pick('intersection')).toEqual(['a']);
    expect(pick('union')).toEqual(['a', 'c', 'b', 'd']);
  });

  it('soft vote normalises each member to [0, 1] and applies weights', () => {
    const agg = aggregate(names, members, 'soft_vote', { weights: [1, 1, 2] });
    // a is the top of every member → 1; e: 0, (0.2 − 0.1)/0.8, 0 → 0.125/4
    expect(agg.score[0]).toBeCloseTo(1, 12);
    expect(agg.score[4]).toBeCloseTo(0.125 / 4, 12);
    // b: member1 (8-0)/9, member2 0/0.8, member3 (1+1)/4 → (8/9 + 0 + 2·0.5)/4
    expect(agg.score[1]).toBeCloseTo((8 / 9 + 0 + 2 * 0.5) / 4, 12);
    expect(() => aggregate(names, members, 'soft_vote', { weights: [1, 2] })).toThrow(/weights/);
  });

  it('Borda points and mean rank; own rule keeps the median member size', () => {
    const agg = aggregate(names, members, 'borda');
    // ranks: m1 a1 b2 c3 d4 e5; m2 a1 c2 d3 e4 b5; m3 a1 d2 b3 c4 e5
    expect(Array.from(agg.score)).toEqual([12, 5, 6, 6, 1]);
    expect(Array.from(agg.meanRank)).toEqual([1, 10 / 3, 3, 3, 14 / 3]);
    expect(pick('borda')).toEqual(['a', 'c', 'd']);
    expect(pick('mean_rank', {}, 2)).toEqual(['a', 'c']);
  });

  it('RRA p-values match scipy to 1e-12 and rank consistent features first', () => {
    const cases = JSON.parse(
      readFileSync(join(__dirname, '../../../fixtures/golden/metrics/rra.json'), 'utf8'),
    ) as { ranks: number[]; p: number }[];
    for (const c of cases) expect(Math.abs(rraPValue(c.ranks) - c.p)).toBeLessThan(1e-12);
    expect(betaOrderCdf(1, 1, 0.3)).toBeCloseTo(0.3, 14);
    const agg = aggregate(names, members, 'rra', { rra_alpha: 0.5 });
    expect(agg.pValues![0]).toBeLessThan(agg.pValues![4]!);
    expect(pick('rra', { rra_alpha: 0.5 })[0]).toBe('a');
  });
});

describe('runEnsemble with member selectors', () => {
  const ds = syntheticBinary(31, 50, 60, 3, 2.5);
  // a second test selector: mean difference, to have two different members
  const meanDiff: SelectorDef<never> = {
    ...tSelector,
    code: 'test_meandiff',
    args: {},
    async run(d, _a, _c, k) {
      const labels = (d.outcome as { labels: Int32Array }).labels;
      const s = new Float64Array(d.nFeatures);
      for (let j = 0; j < d.nFeatures; j++) {
        let d1 = 0;
        let d0 = 0;
        let n1 = 0;
        for (let i = 0; i < d.nSamples; i++) {
          const x = d.data[j * d.nSamples + i]!;
          if (labels[i]) {
            d1 += x;
            n1++;
          } else d0 += x;
        }
        s[j] = Math.abs(d1 / n1 - d0 / (d.nSamples - n1));
      }
      const r = rankAndSelect(d, s, k);
      return {
        selected: r.selected,
        scores: r.scores,
        params: {},
        diagnostics: {},
        backend: 'float64',
      };
    },
  };
  const resolver = testResolver({ test_meandiff: meanDiff });

  it('finds the planted features by every mode and reports members and progress', async () => {
    const stages: string[] = [];
    const ctx = { ...quietContext(1), progress: (_f: number, s: string) => stages.push(s) };
    const steps = memberSteps(['test_t', 'test_meandiff'], '{}', 5);
    for (const mode of [
      'majority',
      'soft_vote',
      'borda',
      'mean_rank',
      'rra',
      'intersection',
      'union',
    ] as const) {
      const r = await runEnsemble(
        ds,
        steps,
        mode,
        { soft_threshold: 0.6, rra_alpha: 1 },
        ctx,
        resolver,
        3,
      );
      expect(r.selected.sort()).toEqual(['g1', 'g2', 'g3']);
      expect(r.members.map(m => m.code)).toEqual(['test_t', 'test_meandiff']);
    }
    expect(stages.some(s => s.startsWith('test_t'))).toBe(true);
  });

  it('parses member args by code or by position and rejects mismatches', () => {
    expect(memberSteps(['x', 'y'], '{"y":{"a":1}}', 0)).toEqual([
      { code: 'x', args: {}, k: 0 },
      { code: 'y', args: { a: 1 }, k: 0 },
    ]);
    expect(memberSteps(['x', 'x'], '[{"a":1},{"a":2}]', 4)[1]).toEqual({
      code: 'x',
      args: { a: 2 },
      k: 4,
    });
    expect(() => memberSteps(['x'], '{"z":{}}', 0)).toThrow(/not one of/);
    expect(() => memberSteps(['x', 'y'], '[{}]', 0)).toThrow(/1 entries for 2/);
  });
});
