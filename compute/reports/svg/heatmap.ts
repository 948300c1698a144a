/** Heatmap of a rows × columns table of numbers (benchmark: signature × model), viridis colours. */
import { textWidth } from './axes';
import { el, esc, fmt, label, shorten, svgDoc, text } from './doc';

export interface HeatmapSpec {
  title: string;
  subtitle?: string;
  rowLabel: string;
  colLabel: string;
  rows: string[];
  cols: string[];
  /** values[r][c]; null = not available (drawn hatched grey). */
  values: (number | null)[][];
  valueLabel: string;
}

// viridis at 0, .25, .5, .75, 1 (matplotlib), interpolated linearly in RGB.
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function viridis(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const w = u - i;
  const c = VIRIDIS[i]!.map((v, k) => Math.round(v + w * (VIRIDIS[i + 1]![k]! - v)));
  return `#${c.map(v => v.toString(16).padStart(2, '0')).join('')}`;
}

export function heatmap(spec: HeatmapSpec): string {
  const rowNames = spec.rows.map(r => shorten(r, 32));
  const colNames = spec.cols.map(c => shorten(c, 18));
  const left = Math.min(260, Math.max(80, ...rowNames.map(n => textWidth(n) + 16)));
  const cellW = Math.max(64, ...colNames.map(n => textWidth(n) + 10));
  const cellH = 30;
  const top = (spec.subtitle ? 58 : 46) + 34;
  const gridW = cellW * spec.cols.length;
  const width = Math.max(480, left + gridW + 120);
  const height = top + cellH * spec.rows.length + 24;
  const finite = spec.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const body: string[] = [];
  spec.cols.forEach((c, j) => {
    body.push(
      el(
        'g',
        {},
        el('title', {}, esc(c)),
        text(left + (j + 0.5) * cellW, top - 8, colNames[j]!, { 'text-anchor': 'middle' }),
      ),
    );
  });
  const cells: string[] = [];
  spec.rows.forEach((r, i) => {
    const y = top + i * cellH;
    body.push(
      el(
        'g',
        {},
        el('title', {}, esc(r)),
        text(left - 8, y + cellH / 2 + 4, rowNames[i]!, { 'text-anchor': 'end' }),
      ),
    );
    spec.cols.forEach((c, j) => {
      const v = spec.values[i]?.[j] ?? null;
      const x = left + j * cellW;
      const ok = v !== null && Number.isFinite(v);
      const fill = ok ? viridis(t(v)) : '#dddddd';
      cells.push(
        el(
          'g',
          {},
          el('title', {}, esc(`${r} × ${c}: ${label(v, 4)}`)),
          el('rect', { class: 'cell', x, y, width: cellW - 2, height: cellH - 2, fill }),
          text(x + cellW / 2 - 1, y + cellH / 2 + 3, label(v), {
            'text-anchor': 'middle',
            fill: ok && t(v) > 0.55 ? '#000000' : ok ? '#ffffff' : '#555555',
            'font-size': 11,
          }),
        ),
      );
    });
  });
  body.push(el('g', { class: 'cells' }, ...cells));
  // axis titles
  body.push(
    text(left + gridW / 2, top - 26, spec.colLabel, {
      'text-anchor': 'middle',
      'font-weight': 'bold',
    }),
  );
  body.push(
    text(left - 8, top - 8, spec.rowLabel, { 'text-anchor': 'end', 'font-weight': 'bold' }),
  );
  // colour scale: a vertical gradient bar with min / max labels
  const gx = left + gridW + 24;
  const gh = Math.max(60, cellH * spec.rows.length - 4);
  const stops = [0, 0.25, 0.5, 0.75, 1].map(s =>
    el('stop', { offset: fmt(s), 'stop-color': viridis(1 - s) }),
  );
  body.push(
    el(
      'defs',
      {},
      el('linearGradient', { id: 'heatmap-scale', x1: 0, y1: 0, x2: 0, y2: 1 }, ...stops),
    ),
    el(
      'g',
      { class: 'colour-scale' },
      el('rect', {
        x: gx,
        y: top,
        width: 14,
        height: gh,
        fill: 'url(#heatmap-scale)',
        stroke: '#999999',
      }),
      text(gx + 18, top + 8, label(hi), {}),
      text(gx + 18, top + gh, label(lo), {}),
      text(gx, top - 8, spec.valueLabel, { 'font-size': 11 }),
    ),
  );
  return svgDoc(width, height, spec.title, spec.subtitle ?? null, body);
}
