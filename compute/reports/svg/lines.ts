/** Line chart for ROC and Kaplan–Meier curves: polylines, optional diagonal, marks, legend. */
import { legend, xAxis, yAxis, type Frame } from './axes';
import { colourOf, el, esc, fmt, svgDoc } from './doc';
import { linear } from './scale';

export interface Series {
  label: string;
  /** Points in drawing order (step functions already expanded into their corners). */
  points: [number, number][];
  dash?: string;
  /** Small vertical tick marks (e.g. censored times on a survival curve). */
  marks?: [number, number][];
  /** Draw the points as dots (a scatter) instead of a line. */
  dots?: boolean;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xDomain: [number, number];
  yDomain: [number, number];
  /** Draw the y = x chance line (ROC). */
  diagonal?: boolean;
  legendAt?: 'bottom-right' | 'top-right';
}

export function lineChart(spec: LineChartSpec): string {
  const width = 640;
  const top = spec.subtitle ? 58 : 46;
  const f: Frame = { left: 70, top, right: width - 24, bottom: top + 400 };
  const height = f.bottom + 52;
  const x = linear(spec.xDomain[0], spec.xDomain[1], f.left, f.right);
  const y = linear(spec.yDomain[0], spec.yDomain[1], f.bottom, f.top);
  const body = [xAxis(x, f, spec.xLabel), yAxis(y, f, spec.yLabel)];
  if (spec.diagonal) {
    body.push(
      el('line', {
        class: 'chance',
        x1: x(0),
        y1: y(0),
        x2: x(1),
        y2: y(1),
        stroke: '#999999',
        'stroke-dasharray': '4 4',
      }),
    );
  }
  const curves = spec.series.map((s, i) => {
    if (s.dots) {
      const dots = s.points.map(([a, b]) =>
        el('circle', { class: 'dot', cx: x(a), cy: y(b), r: 3, fill: colourOf(i) }),
      );
      return el('g', {}, el('title', {}, esc(s.label)), ...dots);
    }
    const d = s.points.map(([a, b], k) => `${k ? 'L' : 'M'}${fmt(x(a))} ${fmt(y(b))}`).join('');
    const marks = (s.marks ?? []).map(([a, b]) => `M${fmt(x(a))} ${fmt(y(b) - 4)}v8`).join('');
    return el(
      'g',
      {},
      el('title', {}, esc(s.label)),
      el('path', {
        class: 'curve',
        d,
        fill: 'none',
        stroke: colourOf(i),
        'stroke-width': 2,
        'stroke-dasharray': s.dash,
      }),
      marks
        ? el('path', { class: 'marks', d: marks, stroke: colourOf(i), 'stroke-width': 1.5 })
        : '',
    );
  });
  body.push(el('g', { class: 'curves' }, ...curves));
  const items = spec.series.map((s, i) => ({
    label: s.label,
    colour: colourOf(i),
    line: !s.dots,
    dash: s.dash,
  }));
  const lw = Math.min(
    f.right - f.left - 20,
    Math.max(140, ...spec.series.map(s => [...s.label].length * 7 + 48)),
  );
  const lh = items.length * 18 + 8;
  const ly = spec.legendAt === 'top-right' ? f.top + 8 : f.bottom - lh - 8;
  body.push(legend(items, f.right - lw - 8, ly, lw));
  return svgDoc(width, height, spec.title, spec.subtitle ?? null, body);
}
