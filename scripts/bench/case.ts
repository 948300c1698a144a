/**
 * One benchmark case: our implementation and the reference on the same synthetic data.
 * Each compute area adds `scripts/bench/cases/<area>.ts` exporting `cases: BenchCase[]`;
 * `npm run bench` (scripts/bench/run.ts) runs them at (n=200, p=2,000) and (n=500, p=20,000)
 * and prints time ratios ours / reference.
 */
import { type Dataset } from '../../compute/core/dataset';

export interface BenchCase {
  /** Method code as in the registry, plus a variant when useful: `lasso (cv)`. */
  name: string;
  /** Outcome the synthetic data gets. */
  task: 'binary' | 'multiclass' | 'continuous' | 'survival';
  /** Run our implementation; the harness times this call only. */
  ours(ds: Dataset): Promise<unknown>;
  /**
   * Reference code, timed by the runner without data loading. Python sees numpy arrays `X`
   * (n × p float64) and `y` (labels 0/1…, values, or for survival `time` and `event`);
   * R sees the same as matrix `X` and vectors `y` / `time`, `event`.
   */
  reference?: { python?: string; r?: string; label: string };
  /** Skip the large size when the case is quadratic in p and the reference would take too long. */
  smallOnly?: boolean;
}
