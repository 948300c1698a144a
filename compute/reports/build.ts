/**
 * One job result → downloadable files: every table as CSV and JSON, one XLSX workbook with a sheet
 * per table, and the SVG plots the result has data for (a plot whose data is missing is skipped,
 * never drawn from made-up numbers). Pure and deterministic: the same input gives the same bytes.
 */
import { toCsv, toRecords } from './csv';
import { plotsFor } from './plots';
import { tablesFor } from './tables';
import { type ReportFile, type ReportInput } from './types';
import { toXlsx } from './xlsx';

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  svg: 'image/svg+xml',
} as const;

export async function buildReports(input: ReportInput): Promise<ReportFile[]> {
  const tables = tablesFor(input);
  const files: ReportFile[] = [];
  for (const t of tables) {
    files.push({
      name: `${t.name}.csv`,
      kind: 'export',
      contentType: CONTENT_TYPES.csv,
      body: toCsv(t),
    });
    files.push({
      name: `${t.name}.json`,
      kind: 'export',
      contentType: CONTENT_TYPES.json,
      body: JSON.stringify({ columns: t.columns, rows: toRecords(t) }, null, 1) + '\n',
    });
  }
  if (tables.length && input.xlsx !== false) {
    files.push({
      name: 'results.xlsx',
      kind: 'export',
      contentType: CONTENT_TYPES.xlsx,
      body: await toXlsx(tables),
    });
  }
  for (const p of plotsFor(input)) {
    files.push({
      name: `${p.name}.svg`,
      kind: 'plot',
      contentType: CONTENT_TYPES.svg,
      body: p.svg,
    });
  }
  return files;
}
