/**
 * Loading helpers for the golden filter fixtures written by scripts/fixtures/filters.py.
 * JSON has no NaN/Infinity: the generator writes null, read back here as NaN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDataset, type Dataset, type Outcome } from '../../../../compute/core/dataset';

export const GOLDEN = join(__dirname, '..', '..', '..', 'fixtures', 'golden', 'filters');

export function loadGolden<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(GOLDEN, name), 'utf8')) as T;
}

export interface GoldenDataset {
  n: number;
  p: number;
  featureNames: string[];
  X: (number | null)[][];
  outcome: 'binary' | 'multiclass' | 'continuous';
  y: number[];
  classes?: string[];
  labels?: number[];
  expected: Record<string, unknown>;
}

export function toNumbers(values: readonly (number | null)[]): number[] {
  return values.map(v => (v === null ? NaN : v));
}

/** Dataset from a fixture; `as` overrides the outcome (e.g. binary labels of a continuous set). */
export function goldenDataset(g: GoldenDataset, as?: Outcome): Dataset {
  const data = new Float64Array(g.n * g.p);
  for (let i = 0; i < g.n; i++) {
    for (let j = 0; j < g.p; j++) data[j * g.n + i] = g.X[i]![j] ?? NaN;
  }
  let outcome: Outcome;
  if (as) outcome = as;
  else if (g.outcome === 'continuous') {
    outcome = { kind: 'continuous', values: Float64Array.from(g.y) };
  } else if (g.outcome === 'binary') {
    outcome = {
      kind: 'binary',
      labels: Int32Array.from(g.y),
      classes: g.classes as [string, string],
    };
  } else {
    outcome = { kind: 'multiclass', labels: Int32Array.from(g.y), classes: g.classes! };
  }
  return makeDataset({ data, nSamples: g.n, featureNames: g.featureNames, outcome });
}

/**
 * Relative agreement: |a − b| ≤ rtol·|b| (+ atol for values at 0). Non-finite expected values
 * (null in JSON) must be non-finite here too. Returns the worst relative error for reporting.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: readonly (number | null)[],
  rtol: number,
  atol = 0,
): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i]!;
    if (e === null || e === undefined) {
      if (Number.isFinite(a)) bad.push(`[${i}] expected non-finite, got ${a}`);
      continue;
    }
    const err = Math.abs(a - e);
    if (!(err <= rtol * Math.abs(e) + atol)) bad.push(`[${i}] expected ${e}, got ${a}`);
    if (e !== 0) worst = Math.max(worst, err / Math.abs(e));
  }
  expect(bad).toEqual([]);
  return worst;
}
