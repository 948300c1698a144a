/**
 * Nadeau & Bengio (2003, Machine Learning 52:239) corrected resampled t-test for comparing two
 * learners on the same J resampling splits: with per-split differences d_j,
 *   t = mean(d) / sqrt((1/J + n_test/n_train) · s²_d),  df = J − 1,
 * where the n_test/n_train term corrects the variance for the overlap of training sets (the naive
 * paired t-test is badly anti-conservative under repeated CV; Bouckaert & Frank 2004).
 */
import { tSf2 } from '../stats/distributions';

export interface CorrectedTTest {
  mean_difference: number;
  t: number;
  df: number;
  p_value: number;
  n_splits: number;
}

export function correctedResampledTTest(
  a: readonly number[],
  b: readonly number[],
  nTrain: number,
  nTest: number,
): CorrectedTTest {
  if (a.length !== b.length) throw new Error('corrected t-test: score lists differ in length');
  const d = a.map((x, j) => x - b[j]!).filter(Number.isFinite);
  const J = d.length;
  const mean = J ? d.reduce((s, x) => s + x, 0) / J : NaN;
  if (J < 2) return { mean_difference: mean, t: NaN, df: J - 1, p_value: NaN, n_splits: J };
  const s2 = d.reduce((s, x) => s + (x - mean) ** 2, 0) / (J - 1);
  const se = Math.sqrt((1 / J + nTest / nTrain) * s2);
  if (se === 0) {
    const t = mean === 0 ? 0 : Math.sign(mean) * Infinity;
    return { mean_difference: mean, t, df: J - 1, p_value: mean === 0 ? 1 : 0, n_splits: J };
  }
  const t = mean / se;
  return { mean_difference: mean, t, df: J - 1, p_value: tSf2(t, J - 1), n_splits: J };
}
