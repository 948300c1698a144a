/** The XLSX workbook opens with exceljs and holds one sheet per table with typed cells. */
import { buildReports } from '../../../../compute/reports/build';
import { readXlsx, toXlsx } from '../../../../compute/reports/xlsx';
import { benchmarkDoc, featureSelectionDoc } from './fixtures';

describe('XLSX export', () => {
  it('round-trips a table: header, numbers as numbers, text (even "=…") as text, nulls empty', async () => {
    const body = await toXlsx([
      {
        name: 'features',
        columns: ['feature', 'score', 'selected', 'p_value'],
        rows: [
          ['=HYPERLINK("x")', 1.5, true, null],
          ['<g1> & "co"', -2, false, 0.01],
        ],
      },
      { name: 'metrics', columns: ['metric', 'value'], rows: [['roc_auc', 0.75]] },
    ]);
    expect(body.subarray(0, 2).toString()).toBe('PK'); // a zip container
    const book = await readXlsx(body);
    expect([...book.keys()]).toEqual(['features', 'metrics']);
    const rows = book.get('features')!;
    expect(rows[0]).toEqual(['feature', 'score', 'selected', 'p_value']);
    expect(rows[1]!.slice(0, 3)).toEqual(['=HYPERLINK("x")', 1.5, true]);
    expect(rows[1]![3] ?? null).toBeNull();
    expect(rows[2]).toEqual(['<g1> & "co"', -2, false, 0.01]);
    expect(book.get('metrics')![1]).toEqual(['roc_auc', 0.75]);
  });

  it('the workbook of a feature-selection job has the features sheet with every row', async () => {
    const files = await buildReports({
      type: 'FEATURE_SELECTION',
      data: await featureSelectionDoc(),
    });
    const book = await readXlsx(files.find(f => f.name === 'results.xlsx')!.body as Buffer);
    expect([...book.keys()]).toEqual(['features']);
    const rows = book.get('features')!;
    expect(rows).toHaveLength(1 + 80);
    expect(rows[0]).toEqual([
      'selector',
      'feature',
      'rank',
      'score',
      'selected',
      'frequency',
      'p_value',
      'p_adjusted',
    ]);
    expect(typeof rows[1]![3]).toBe('number');
  });

  it('the workbook of a benchmark has a sheet per table', async () => {
    const { data, predictions } = await benchmarkDoc();
    const files = await buildReports({ type: 'BENCHMARKING', data, predictions });
    const book = await readXlsx(files.find(f => f.name === 'results.xlsx')!.body as Buffer);
    expect([...book.keys()]).toEqual([
      'benchmark',
      'signatures',
      'comparisons',
      'folds',
      'predictions',
    ]);
    expect(book.get('benchmark')).toHaveLength(1 + 6);
    expect(book.get('folds')).toHaveLength(1 + 6 * 3);
    expect(book.get('folds')![0]!.slice(0, 2)).toEqual(['signature', 'model']);
    expect(book.get('predictions')).toHaveLength(1 + 6 * 18);
  });
});
