/**
 * Tables → one XLSX workbook, a sheet per table (exceljs). Cells keep their types: numbers stay
 * numbers, booleans booleans, text is written as text (never as a formula, so user-supplied names
 * cannot inject one — the CSV needs its apostrophe escaping, the workbook does not).
 */
import type * as ExcelJSTypes from 'exceljs';
import { type Table } from './types';

/**
 * exceljs takes ~1–2 s to load: load it when a workbook is written, not whenever a job's compute
 * process starts.
 */
function excel(): typeof ExcelJSTypes {
  return require('exceljs') as typeof ExcelJSTypes;
}

/** Fixed document dates so the workbook's metadata does not depend on when it was built. */
const EPOCH = new Date(Date.UTC(2000, 0, 1));

export async function toXlsx(tables: readonly Table[]): Promise<Buffer> {
  const wb = new (excel().Workbook)();
  wb.creator = 'OmicSelector';
  wb.created = EPOCH;
  wb.modified = EPOCH;
  for (const t of tables) {
    const ws = wb.addWorksheet(t.name.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.addRow(t.columns).font = { bold: true };
    for (const row of t.rows)
      ws.addRow(row.map(v => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
    t.columns.forEach((c, j) => {
      ws.getColumn(j + 1).width = Math.min(40, Math.max(8, c.length + 2));
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Read a workbook back: sheet name → rows of cell values (header first). For tests and tools. */
export async function readXlsx(body: Buffer): Promise<Map<string, unknown[][]>> {
  const wb = new (excel().Workbook)();
  await wb.xlsx.load(body as unknown as ArrayBuffer);
  const out = new Map<string, unknown[][]>();
  wb.eachSheet(ws => {
    const rows: unknown[][] = [];
    ws.eachRow({ includeEmpty: true }, row => {
      const values = row.values as unknown[];
      rows.push(values.slice(1)); // exceljs rows are 1-based
    });
    out.set(ws.name, rows);
  });
  return out;
}
