/** Loading golden fixtures (row-major X) into Datasets for the misc-area tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromRows, type Dataset, type Outcome } from '../../../../compute/core/dataset';
import { Rng } from '../../../../compute/core/rng';

export function golden<T = Record<string, unknown>>(area: string, name: string): T {
  const file = join(__dirname, '..', '..', '..', 'fixtures', 'golden', area, name);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function classOutcome(y: number[]): Outcome {
  const nClasses = Math.max(...y) + 1;
  const labels = Int32Array.from(y);
  return nClasses <= 2
    ? { kind: 'binary', labels, classes: ['0', '1'] }
    : {
        kind: 'multiclass',
        labels,
        classes: Array.from({ length: nClasses }, (_, c) => String(c)),
      };
}

export function datasetFrom(X: number[][], outcome?: Outcome): Dataset {
  return fromRows(X, undefined, outcome);
}

/** Synthetic data: the first `informative` features shift with the class. */
export function synthClasses(
  n: number,
  p: number,
  informative: number,
  seed: number,
  nClasses = 2,
): Dataset {
  const rng = new Rng(seed);
  const y = Array.from({ length: n }, (_, i) => i % nClasses);
  const rows = y.map(c =>
    Array.from({ length: p }, (_, j) => rng.normal() + (j < informative ? 1.5 * c : 0)),
  );
  return fromRows(rows, undefined, classOutcome(y));
}

export function synthContinuous(n: number, p: number, informative: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => Array.from({ length: p }, () => rng.normal()));
  const values = Float64Array.from(rows, r => {
    let s = 0.3 * rng.normal();
    for (let j = 0; j < informative; j++) s += r[j]!;
    return s;
  });
  return fromRows(rows, undefined, { kind: 'continuous', values });
}
