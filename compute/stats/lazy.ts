/**
 * Per-feature name → value records built on first read.
 *
 * Why: a selector's `scores` and its per-feature diagnostics (statistic, p-values, log2 fold
 * change …) are `{featureName: number}` objects. V8 builds a 20,000-key object in dictionary mode
 * at ~2–9 ms each (measured on the 2-vCPU bench VM, idle vs loaded): four of them cost as much as
 * the whole f_regression scan, and the reference implementations return plain arrays. Defining
 * them as enumerable getters that replace themselves with the built value leaves every consumer
 * unchanged — property reads, `Object.entries`, spread, `JSON.stringify`, `structuredClone`,
 * `postMessage` and `v8.serialize` all invoke the getter (tested) — while a caller that never
 * reads a record (the bench, a pipeline step that only needs `selected`) never pays for it.
 */

/** `values[j]` keyed by `names[j]` (JSON turns NaN / Infinity into null). */
export function recordOf(
  names: readonly string[],
  values: ArrayLike<number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (let j = 0; j < names.length; j++) out[names[j]!] = values[j]!;
  return out;
}

/**
 * Adds `lazy`'s keys to `obj` as enumerable properties computed on first read (then stored as
 * plain writable data properties); assigning one before it was read just stores the value.
 * Returns `obj`, typed with the added keys.
 */
export function withLazy<T extends object, L extends Record<string, () => unknown>>(
  obj: T,
  lazy: L,
): T & { [K in keyof L]: ReturnType<L[K]> } {
  for (const key of Object.keys(lazy)) {
    const build = lazy[key]!;
    const settle = (value: unknown): void => {
      Object.defineProperty(obj, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    };
    Object.defineProperty(obj, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = build();
        settle(value);
        return value;
      },
      set: settle,
    });
  }
  return obj as T & { [K in keyof L]: ReturnType<L[K]> };
}
