/** Horizontal bar chart (feature importance, selection frequency) with an optional threshold line. */
import { legendRow, textWidth, xAxis, type Frame } from './axes';
import { el, esc, label, shorten, svgDoc, text } from './doc';
import { linear } from './scale';

export interface Bar {
  label: string;
  value: number;
  /** Highlighted (e.g. selected) bars use the first colour, others the second. */
  highlight?: boolean;
}

export interface BarChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  bars: Bar[];
  /** Fixed value axis (e.g. [0, 1] for frequencies); default: from the data, including 0. */
  domain?: [number, number];
  threshold?: { value: number; label: string };
  /** Legend labels for highlighted / other bars (no legend when absent). */
  legend?: [string, string];
}

const ROW = 18;
const ON = '#4e79a7';
const OFF = '#b9c4d0';

export function barChart(spec: BarChartSpec): string {
  const names = spec.bars.map(b => shorten(b.label));
  const left = Math.min(300, Math.max(70, Math.max(0, ...names.map(n => textWidth(n))) + 24));
  const width = Math.max(560, left + 420);
  const top = spec.subtitle ? 56 : 44;
  const f: Frame = { left, top, right: width - 24, bottom: top + spec.bars.length * ROW + 6 };
  const height = f.bottom + (spec.legend ? 74 : 50);
  const values = spec.bars.map(b => b.value);
  const lo = spec.domain?.[0] ?? Math.min(0, ...values);
  const hi = spec.domain?.[1] ?? Math.max(0, ...values, spec.threshold?.value ?? 0);
  const x = linear(lo, hi, f.left, f.right, { nice: spec.domain === undefined });
  const zero = x(Math.max(x.domain[0], Math.min(0, x.domain[1])));
  const bars = spec.bars.map((b, i) => {
    const y = f.top + 3 + i * ROW;
    const px = x(b.value);
    const fill = b.highlight === false ? OFF : ON;
    return el(
      'g',
      {},
      el('title', {}, esc(`${b.label}: ${label(b.value, 4)}`)),
      el('rect', {
        class: 'bar',
        x: Math.min(zero, px),
        y,
        width: Math.max(0.5, Math.abs(px - zero)),
        height: ROW - 4,
        fill,
      }),
      text(f.left - 6, y + ROW / 2 + 2, names[i]!, { 'text-anchor': 'end' }),
    );
  });
  const body = [xAxis(x, f, spec.xLabel), el('g', { class: 'bars' }, ...bars)];
  if (spec.threshold) {
    const px = x(spec.threshold.value);
    body.push(
      el(
        'g',
        { class: 'threshold' },
        el('line', {
          x1: px,
          y1: f.top - 4,
          x2: px,
          y2: f.bottom,
          stroke: '#e15759',
          'stroke-width': 2,
          'stroke-dasharray': '6 4',
        }),
        text(px + 4, f.top - 6, spec.threshold.label, { fill: '#e15759', 'font-size': 11 }),
      ),
    );
  }
  if (spec.legend) {
    body.push(
      legendRow(
        [
          { label: spec.legend[0], colour: ON },
          { label: spec.legend[1], colour: OFF },
        ],
        f.left,
        f.bottom + 64,
      ),
    );
  }
  return svgDoc(width, height, spec.title, spec.subtitle ?? null, body);
}
