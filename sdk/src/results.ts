/**
 * Tables out of a job's result document, for CSV export. The result `data` differs per job type,
 * so this reads its shape rather than a fixed schema:
 * - every array of objects (at any depth up to 3) becomes a table named by its path
 *   (`table`, `signatures`, `selectors`, `cv.folds` …); nested objects become dotted columns
 *   (`cv.accuracy`), arrays of scalars are joined with `;`, wider objects (> 50 leaves) are left
 *   to the JSON export;
 * - FEATURE_SELECTION also gets `feature_scores`: one row per selector × scored feature, with rank
 *   and whether it was selected (the per-feature score maps are too wide for columns).
 */

export interface ResultTable {
  name: string;
  columns: string[];
  rows: Array<Array<string | number | boolean | null>>;
}

type Cell = string | number | boolean | null;
const MAX_LEAVES = 50;
const MAX_DEPTH = 3;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isScalar(v: unknown): v is Cell {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** Dotted scalar leaves of an object; undefined when it is too wide to be columns. */
function leaves(obj: Record<string, unknown>, prefix = ''): Array<[string, Cell]> | undefined {
  const out: Array<[string, Cell]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isScalar(v)) out.push([key, v]);
    else if (Array.isArray(v) && v.every(isScalar)) out.push([key, v.join(';')]);
    else if (isPlainObject(v)) {
      const inner = leaves(v, key);
      if (inner) out.push(...inner);
    }
    if (out.length > MAX_LEAVES) return prefix ? undefined : out.slice(0, MAX_LEAVES);
  }
  return out;
}

function tableOf(name: string, items: Array<Record<string, unknown>>): ResultTable {
  const columns: string[] = [];
  const seen = new Set<string>();
  const rows = items.map(item => {
    const map = new Map(leaves(item) ?? []);
    for (const k of map.keys()) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
    return map;
  });
  return { name, columns, rows: rows.map(m => columns.map(c => m.get(c) ?? null)) };
}

function collect(value: unknown, path: string, depth: number, out: ResultTable[]): void {
  if (depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every(isPlainObject)) {
      out.push(tableOf(path, value));
    }
    return;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      collect(v, path ? `${path}.${k}` : k, depth + 1, out);
    }
  }
}

function featureScores(data: Record<string, unknown>): ResultTable | undefined {
  const selectors = data.selectors;
  if (!Array.isArray(selectors)) return undefined;
  const rows: ResultTable['rows'] = [];
  for (const s of selectors) {
    if (!isPlainObject(s) || !isPlainObject(s.scores)) continue;
    const selected = new Set(Array.isArray(s.selected) ? (s.selected as string[]) : []);
    // Sorted here: JSON objects put integer-like keys ("123") first, whatever the server sent.
    const ranked = Object.entries(s.scores).sort(([, a], [, b]) =>
      typeof a !== 'number' ? 1 : typeof b !== 'number' ? -1 : b - a,
    );
    ranked.forEach(([feature, score], i) => {
      rows.push([
        String(s.selector ?? ''),
        i + 1,
        feature,
        (score as Cell) ?? null,
        selected.has(feature),
      ]);
    });
  }
  return rows.length
    ? {
        name: 'feature_scores',
        columns: ['selector', 'rank', 'feature', 'score', 'selected'],
        rows,
      }
    : undefined;
}

/** Every table of a result document, the most useful first. */
export function resultTables(jobType: string, data: Record<string, unknown>): ResultTable[] {
  const tables: ResultTable[] = [];
  let rest = data;
  if (jobType === 'FEATURE_SELECTION') {
    const scores = featureScores(data);
    if (scores) tables.push(scores);
    // The score maps are in feature_scores already: keep the selectors table narrow.
    if (Array.isArray(data.selectors)) {
      rest = {
        ...data,
        selectors: data.selectors.map(s => {
          if (!isPlainObject(s)) return s;
          const { scores: _scores, ...others } = s;
          return others;
        }),
      };
    }
  }
  collect(rest, '', 0, tables);
  return tables;
}

function csvCell(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header line; null is an empty cell. */
export function toCsv(table: ResultTable): string {
  const lines = [table.columns.map(csvCell).join(',')];
  for (const row of table.rows) lines.push(row.map(csvCell).join(','));
  return lines.join('\n') + '\n';
}
