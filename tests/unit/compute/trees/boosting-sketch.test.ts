/**
 * XGBoost 1.7.4's hist cuts (compute/trees/boosting-sketch.ts, finding F5) against
 * scripts/fixtures/omics_like_gb_cuts.py → tests/fixtures/golden/omics_like_ts/xgb_cuts.json.
 * The columns are rebuilt here from the same integer formulas (bit-identical doubles), at
 * n = 1,000 / 5,000 (the sketch's single-queue path) and 20,000 (its multi-level merge path),
 * and n = 1,000 at max_bin 32.
 * Tolerances: every split condition of 30 XGBoost trees (depth 6) is exactly one of our float32
 * cuts; the first two trees have the same split feature and default direction per node, leaves
 * within 1e-6, cover within 1e-5 relative, gain within 1e-4 relative (as boosting.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../../../compute/core/args';
import { fromRows } from '../../../../compute/core/dataset';
import { Rng } from '../../../../compute/core/rng';
import { quietContext } from '../../../../compute/core/method';
import { binColumnsXgb, xgbCuts } from '../../../../compute/trees/boosting-sketch';
import { boostingArgs, type BoostingArgs, fitGradientBoosting } from '../../../../compute/trees/gb';
import { classOutcome } from './helpers';

interface Node {
  feature: number;
  leaf?: number;
  cover: number;
  gain?: number;
  missing_left?: boolean;
}
interface CutCase {
  n: number;
  max_bin: number;
  split_conditions: number[][];
  trees: Node[][];
}
const fixture = JSON.parse(
  readFileSync(
    join(__dirname, '..', '..', '..', 'fixtures', 'golden', 'omics_like_ts', 'xgb_cuts.json'),
    'utf8',
  ),
) as { rounds: number; max_depth: number; cases: CutCase[] };

/** The fixture script's `columns(n)`: row-major n × 3 and 0/1 labels. */
function columns(n: number): { X: number[][]; y: number[] } {
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i * 7919) % 10007;
    const b = Math.floor(((i * 31) % 997) / 3);
    const c = (i * 104729) % 65521;
    X.push([a / 100, b / 4, i % 7 === 3 ? NaN : (c - 30000) / 1000]);
    const s = (a % 101) + (b % 53) * 2 + (i % 7 !== 3 ? c % 37 : 20);
    y.push(s + ((i * 13) % 29) > 120 ? 1 : 0);
  }
  return { X, y };
}

const close = (got: number, want: number, rel: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));

describe('XGBoost hist cuts (weighted quantile sketch, unit weights)', () => {
  it('≤ max_bin distinct values: one bin per distinct float32 value', () => {
    const cuts = xgbCuts([3, 1, 2, 2, 5, 1], 256);
    expect(Array.from(cuts.subarray(0, 3))).toEqual([2, 3, 5]);
    expect(cuts[3]).toBe(Math.fround(5 + Math.fround(5 + Math.fround(1e-5))));
  });

  it.each(fixture.cases.map(c => [c.n, c.max_bin, c] as const))(
    'n = %i, max_bin %i: every XGBoost split condition is one of our cuts; first two trees identical',
    async (n, maxBin, c) => {
      const { X, y } = columns(n);
      const ds = fromRows(X, undefined, classOutcome(y));
      const binned = await binColumnsXgb(ds.data, n, 3, maxBin);
      for (let f = 0; f < 3; f++) {
        const vals: number[] = [];
        for (let i = 0; i < n; i++) if (X[i]![f] === X[i]![f]) vals.push(X[i]![f]!);
        const cuts = new Set(xgbCuts(vals, maxBin));
        expect(binned.nBins[f]).toBe(cuts.size);
        const missing = c.split_conditions[f]!.filter(v => !cuts.has(v));
        expect(missing).toEqual([]);
      }
      const args = parseArgs(boostingArgs, {
        n_estimators: 2,
        max_depth: fixture.max_depth,
        learning_rate: 0.3,
        max_bin: maxBin,
      }) as unknown as BoostingArgs;
      const { fit } = await fitGradientBoosting(ds, args, { ...quietContext(1), threads: 1 });
      fit.trees.forEach((tree, t) => {
        const want = c.trees[t]!;
        expect(Array.from(tree.feature.subarray(0, tree.nNodes), f => (f < 0 ? -1 : f))).toEqual(
          want.map(w => w.feature),
        );
        want.forEach((node, id) => {
          if (node.feature < 0) expect(Math.abs(tree.value[id]! - node.leaf!)).toBeLessThan(1e-6);
          else {
            close(tree.impurity[id]!, node.gain!, 1e-4);
            expect(tree.missingLeft[id] === 1).toBe(node.missing_left);
          }
          close(tree.weight[id]!, node.cover, 1e-5);
        });
      });
    },
  );
});

it('binColumnsXgb in feature chunks on two threads equals the single-thread binning', async () => {
  // 270 × 1,900 (two chunks of ≥ 250,000 cells); > 256 distinct values in most features, ties
  // and missing cells included
  const n = 270;
  const p = 1900;
  const rng = new Rng(7);
  const data = new Float64Array(n * p);
  for (let i = 0; i < data.length; i++) {
    const u = rng.random();
    data[i] = u < 0.02 ? NaN : u < 0.1 ? 1 : rng.normal();
  }
  const one = await binColumnsXgb(data, n, p, 256, 1);
  const two = await binColumnsXgb(data, n, p, 256, 2);
  // bitwise equality (jest's toEqual on 500,000-entry arrays takes seconds)
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  for (const key of ['codes', 'nBins', 'offsets', 'binMin', 'binMax'] as const) {
    expect([key, bytes(two[key]).equals(bytes(one[key]))]).toEqual([key, true]);
  }
  expect(two.binMin.length).toBe(one.binMin.length);
  expect(one.nBins[0]).toBeGreaterThan(200);
});
