/** Axes with ticks, grid lines and labels; legends. */
import { el, esc, fmt, label, text, type Attrs } from './doc';
import { type Linear } from './scale';

export interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Bottom x axis with tick labels, vertical grid lines and the axis title. */
export function xAxis(x: Linear, f: Frame, title: string, grid = true): string {
  const parts: string[] = [];
  for (const t of x.ticks) {
    const px = x(t);
    if (grid)
      parts.push(el('line', { x1: px, y1: f.top, x2: px, y2: f.bottom, stroke: '#e5e5e5' }));
    parts.push(el('line', { x1: px, y1: f.bottom, x2: px, y2: f.bottom + 5, stroke: '#333333' }));
    parts.push(text(px, f.bottom + 18, label(t), { 'text-anchor': 'middle' }));
  }
  parts.push(
    el('line', { x1: f.left, y1: f.bottom, x2: f.right, y2: f.bottom, stroke: '#333333' }),
  );
  parts.push(text((f.left + f.right) / 2, f.bottom + 38, title, { 'text-anchor': 'middle' }));
  return el('g', { class: 'x-axis' }, ...parts);
}

/** Left y axis with tick labels, horizontal grid lines and the (rotated) axis title. */
export function yAxis(y: Linear, f: Frame, title: string, grid = true): string {
  const parts: string[] = [];
  for (const t of y.ticks) {
    const py = y(t);
    if (grid)
      parts.push(el('line', { x1: f.left, y1: py, x2: f.right, y2: py, stroke: '#e5e5e5' }));
    parts.push(el('line', { x1: f.left - 5, y1: py, x2: f.left, y2: py, stroke: '#333333' }));
    parts.push(text(f.left - 8, py + 4, label(t), { 'text-anchor': 'end' }));
  }
  parts.push(el('line', { x1: f.left, y1: f.top, x2: f.left, y2: f.bottom, stroke: '#333333' }));
  const cy = (f.top + f.bottom) / 2;
  parts.push(
    text(f.left - 44, cy, title, {
      'text-anchor': 'middle',
      transform: `rotate(-90 ${fmt(f.left - 44)} ${fmt(cy)})`,
    }),
  );
  return el('g', { class: 'y-axis' }, ...parts);
}

export interface LegendItem {
  label: string;
  colour: string;
  /** Line swatch (curves) instead of a filled box (bars). */
  line?: boolean;
  dash?: string;
}

/** A boxed legend whose top-left corner is at (x, y). */
export function legend(items: readonly LegendItem[], x: number, y: number, width: number): string {
  const rows = items.map((it, i) => {
    const cy = y + 14 + i * 18;
    const swatch: Attrs = it.line
      ? { x1: x + 8, y1: cy - 4, x2: x + 30, y2: cy - 4, stroke: it.colour, 'stroke-width': 2.5 }
      : { x: x + 8, y: cy - 10, width: 16, height: 10, fill: it.colour };
    if (it.line && it.dash) swatch['stroke-dasharray'] = it.dash;
    return el(it.line ? 'line' : 'rect', swatch) + text(x + 36, cy, it.label);
  });
  return el(
    'g',
    { class: 'legend' },
    el('rect', {
      x,
      y,
      width,
      height: items.length * 18 + 8,
      fill: '#ffffff',
      'fill-opacity': 0.9,
      stroke: '#cccccc',
    }),
    ...rows,
  );
}

/** Rough rendered width of a label at 12 px (no font metrics in a headless builder). */
export function textWidth(s: string, size = 12): number {
  return [...s].length * size * 0.62;
}

export { esc };

/** A one-line legend (under a chart) starting at (x, y). */
export function legendRow(items: readonly LegendItem[], x: number, y: number): string {
  let cx = x;
  const parts = items.map(it => {
    const sw = el('rect', { x: cx, y: y - 10, width: 16, height: 10, fill: it.colour });
    const t = text(cx + 22, y, it.label);
    cx += 22 + textWidth(it.label) + 24;
    return sw + t;
  });
  return el('g', { class: 'legend' }, ...parts);
}
