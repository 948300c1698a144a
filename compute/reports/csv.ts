/**
 * CSV as RFC 4180 (CRLF records, fields with `,` `"` CR or LF quoted, quotes doubled), with
 * spreadsheet formula-injection escaping (OWASP "CSV injection"): a text cell starting with
 * = + - @ TAB or CR gets a leading apostrophe, so Excel / LibreOffice show it as text instead
 * of evaluating it. Plain numbers ("-1.5", "+2e-3") are left alone so numeric columns stay
 * numeric. Feature and sample names come from user uploads, so this matters.
 */
import { type Cell, type Table } from './types';

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Text of one cell before quoting: numbers in shortest round-trip form, null → empty. */
export function cellText(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return FORMULA_START.test(v) && !PLAIN_NUMBER.test(v) ? `'${v}` : v;
}

export function csvField(v: Cell): string {
  const s = cellText(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: Table): string {
  const lines = [t.columns.map(csvField).join(',')];
  for (const row of t.rows) lines.push(row.map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Rows as objects keyed by column (the JSON export); key order = column order. */
export function toRecords(t: Table): Record<string, Cell>[] {
  return t.rows.map(row => Object.fromEntries(t.columns.map((c, j) => [c, row[j] ?? null])));
}
