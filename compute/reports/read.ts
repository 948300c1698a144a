/** Defensive readers for JSON result documents (fields may be null, missing or of another job). */
export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A per-feature map of numbers (`{feature: value}`), or null when absent. */
export function numberMap(v: unknown): Map<string, number | null> | null {
  const o = obj(v);
  if (!o) return null;
  const m = new Map<string, number | null>();
  for (const [k, x] of Object.entries(o)) {
    if (typeof x === 'number' || x === null) m.set(k, num(x));
    else return null; // not a per-feature number map (e.g. a nested object)
  }
  return m;
}

/** The first key of `o` holding a per-feature number map. */
export function firstMap(
  o: Json | null,
  keys: readonly string[],
): Map<string, number | null> | null {
  if (!o) return null;
  for (const k of keys) {
    const m = numberMap(o[k]);
    if (m) return m;
  }
  return null;
}

/** Scalar parameters as a table cell (objects and lists as compact JSON). */
export function cellOf(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}
