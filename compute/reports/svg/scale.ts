/** Linear scales with "nice" ticks (1, 2, 5 × 10^k steps, as d3-scale's ticks). */

export interface Linear {
  (v: number): number;
  domain: [number, number];
  ticks: number[];
}

export function tickStep(lo: number, hi: number, count: number): number {
  const raw = Math.abs(hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  let step = 10 ** Math.floor(Math.log10(raw));
  const err = raw / step;
  if (err >= Math.sqrt(50)) step *= 10;
  else if (err >= Math.sqrt(10)) step *= 5;
  else if (err >= Math.sqrt(2)) step *= 2;
  return step;
}

/** Clean a multiple of a step from floating-point noise (0.30000000000000004 → 0.3). */
const clean = (x: number): number => Number(x.toPrecision(12));

/**
 * A scale from [lo, hi] (widened to whole tick steps when `nice`) to [r0, r1]. A degenerate
 * domain (lo = hi) is widened around the value so a single bar or point still draws.
 */
export function linear(
  lo: number,
  hi: number,
  r0: number,
  r1: number,
  opts: { nice?: boolean; count?: number } = {},
): Linear {
  let a = lo;
  let b = hi;
  if (!(b > a)) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= pad;
    b += pad;
  }
  const count = opts.count ?? 5;
  const step = tickStep(a, b, count);
  if (opts.nice !== false) {
    a = clean(Math.floor(a / step) * step);
    b = clean(Math.ceil(b / step) * step);
  }
  const ticks: number[] = [];
  const first = Math.ceil(a / step - 1e-9);
  const last = Math.floor(b / step + 1e-9);
  for (let k = first; k <= last; k++) ticks.push(clean(k * step));
  const f = ((v: number) => r0 + ((v - a) / (b - a)) * (r1 - r0)) as Linear;
  f.domain = [a, b];
  f.ticks = ticks;
  return f;
}
