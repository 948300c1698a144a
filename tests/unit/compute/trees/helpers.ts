/** Shared helpers for the tree tests: fixture loading and small synthetic datasets. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fromRows,
  type Dataset,
  makeDataset,
  type Outcome,
} from '../../../../compute/core/dataset';
import { Rng } from '../../../../compute/core/rng';

export function golden<T>(name: string): T {
  const file = join(__dirname, '..', '..', '..', 'fixtures', 'golden', 'trees', name);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function classOutcome(y: number[]): Outcome {
  const K = Math.max(...y) + 1;
  const labels = Int32Array.from(y);
  const classes = Array.from({ length: K }, (_, c) => String(c));
  return K === 2
    ? { kind: 'binary', labels, classes: ['0', '1'] }
    : { kind: 'multiclass', labels, classes };
}

export function datasetFrom(X: number[][], y: number[], task: string): Dataset {
  const outcome: Outcome =
    task === 'continuous' ? { kind: 'continuous', values: Float64Array.from(y) } : classOutcome(y);
  return fromRows(X, undefined, outcome);
}

/** n × p standard normal; the first `informative` features drive a binary or continuous outcome. */
export function synthetic(
  n: number,
  p: number,
  informative: number,
  kind: 'binary' | 'continuous' | 'multiclass',
  seed = 1,
): Dataset {
  const r = new Rng(seed);
  const data = new Float64Array(n * p);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  const lin = new Float64Array(n);
  for (let j = 0; j < informative; j++) {
    const b = 1.5 - (0.9 * j) / Math.max(1, informative - 1);
    for (let i = 0; i < n; i++) lin[i] += b * data[j * n + i]!;
  }
  let outcome: Outcome;
  if (kind === 'continuous') {
    outcome = { kind, values: Float64Array.from(lin, v => v + r.normal()) };
  } else if (kind === 'binary') {
    const labels = Int32Array.from(lin, v => (r.random() < 1 / (1 + Math.exp(-1.5 * v)) ? 1 : 0));
    outcome = { kind, labels, classes: ['neg', 'pos'] };
  } else {
    const labels = Int32Array.from(lin, v => (v < -0.8 ? 0 : v < 0.8 ? 1 : 2));
    outcome = { kind, labels, classes: ['a', 'b', 'c'] };
  }
  const featureNames = Array.from({ length: p }, (_, j) => `g${j}`);
  return makeDataset({ data, nSamples: n, featureNames, outcome });
}
