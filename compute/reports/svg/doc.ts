/**
 * Minimal SVG writing: escaped text, fixed-precision coordinates and element strings. Everything
 * is a pure function of its input (no ids from counters or clocks), so the same chart data gives
 * byte-identical files.
 */

// XML 1.0 forbids most C0 controls and unpaired surrogates; user-supplied names may contain them.
/* eslint-disable no-control-regex -- matching control characters is the point */
const INVALID_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/* eslint-enable no-control-regex */

/** Text or attribute value made safe for XML (& < > " ' escaped, invalid characters replaced). */
export function esc(s: string): string {
  return s
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A coordinate with two decimals, no trailing zeros, never "-0". */
export function fmt(x: number): string {
  const r = Math.round(x * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** A data value for labels: up to `digits` significant digits, no exponent for ordinary sizes. */
export function label(x: number | null, digits = 3): string {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1);
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? fmt(v) : esc(v!)}"`)
    .join('');
}

/** `<tag a="…">children</tag>` (self-closing without children). Children are already SVG. */
export function el(tag: string, a: Attrs, ...children: string[]): string {
  const inner = children.join('');
  return inner ? `<${tag}${attrs(a)}>${inner}</${tag}>` : `<${tag}${attrs(a)}/>`;
}

export function text(x: number, y: number, s: string, a: Attrs = {}): string {
  return el('text', { x, y, ...a }, esc(s));
}

/** Shorten long names for axis labels (the full name stays in a <title> tooltip). */
export function shorten(s: string, max = 40): string {
  const chars = [...s];
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : s;
}

export const FONT = 'Helvetica, Arial, sans-serif';

/** The document: size, white background, title and optional subtitle. */
export function svgDoc(
  width: number,
  height: number,
  title: string,
  subtitle: string | null,
  body: string[],
): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        'font-family': FONT,
        'font-size': 12,
      },
      el('title', {}, esc(title)),
      el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
      text(width / 2, 22, title, {
        'text-anchor': 'middle',
        'font-size': 15,
        'font-weight': 'bold',
      }),
      subtitle
        ? text(width / 2, 40, subtitle, {
            'text-anchor': 'middle',
            'font-size': 11,
            fill: '#555555',
          })
        : '',
      ...body,
    ) +
    '\n'
  );
}

/** Tableau 10: distinguishable categorical colours for curves and legends. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export const colourOf = (i: number): string => PALETTE[i % PALETTE.length]!;
