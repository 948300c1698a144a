/** Small summaries shared by evaluation and benchmarking. NaN entries (undefined folds) are skipped. */

/** Mean and sample standard deviation (ddof = 1; 0 for a single value) of the finite values. */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const x = values.filter(Number.isFinite);
  const n = x.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = x.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const ss = x.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

export function mean(values: readonly number[]): number {
  return meanStd(values).mean;
}

/** Harmonic mean; NaN if any value is missing, 0 if any value is ≤ 0 (OmicSelector metaindex). */
export function harmonicMean(values: readonly number[]): number {
  if (values.length === 0 || values.some(v => !Number.isFinite(v))) return NaN;
  if (values.some(v => v <= 0)) return 0;
  return values.length / values.reduce((a, v) => a + 1 / v, 0);
}
