/** Loading helpers for the linear golden fixtures (tests/fixtures/golden/linear). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GOLDEN_DIR = join(__dirname, '..', '..', '..', 'fixtures', 'golden', 'linear');

export function loadGolden<T>(name: string): T {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as T;
}

export interface GlmnetFit {
  l1_ratio: number[];
  path_lambda: number[];
  path_dev_ratio: number[];
  /** path points (0-based) at which path_coef is stored */
  path_index: number[];
  /** per class: (1 + p) rows × path_index.length columns, row 0 = intercept */
  path_coef: number[][][];
  fixed_lambda: number[];
  fixed_coef: number[][][];
  cv_lambda: number[];
  cv_cvm: number[];
  cv_cvsd: number[];
  lambda_min: number[];
  lambda_1se: number[];
  selected_min: number[];
  selected_1se: number[];
}

export interface GlmnetCase {
  family: 'gaussian' | 'binomial' | 'multinomial';
  n: number[];
  p: number[];
  /** column-major: one array per feature */
  x: number[][];
  y: number[];
  classes: string[] | null;
  foldid: number[];
  fits: GlmnetFit[];
}

/** Column-major Float64Array from per-feature arrays. */
export function columnMajor(cols: number[][]): Float64Array {
  const n = cols[0]!.length;
  const out = new Float64Array(n * cols.length);
  cols.forEach((c, j) => out.set(c, j * n));
  return out;
}

export function jaccard(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size === 0 && sb.size === 0) return 1;
  let inter = 0;
  for (const v of sa) if (sb.has(v)) inter++;
  return inter / (sa.size + sb.size - inter);
}
