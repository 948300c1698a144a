/**
 * Sorting kernels for the hot loops. V8's TypedArray.prototype.sort costs ~250 ns per element on
 * 500-value columns (measured: 2,000 columns in 260 ms) and a comparator callback is slower still;
 * a JIT-compiled quicksort on the Float64Array itself is ~10× faster at these sizes, which is what
 * makes rank tests over 20,000 features cheap. Inputs must not contain NaN (callers drop missing
 * values first); −0 and +0 compare equal, as in every statistic here.
 */

const INSERTION = 16;

/**
 * Hoare partition of a[lo, last] around a median-of-three pivot; returns j with
 * a[lo, j] ≤ pivot ≤ a[j + 1, last]. Stops on equal keys, so runs of ties split evenly (no
 * quadratic case). Needs last − lo ≥ 2.
 */
function partition(a: Float64Array, lo: number, last: number): number {
  const mid = (lo + last + 1) >>> 1;
  if (a[mid]! < a[lo]!) swap(a, mid, lo);
  if (a[last]! < a[lo]!) swap(a, last, lo);
  if (a[last]! < a[mid]!) swap(a, last, mid);
  const pivot = a[mid]!;
  let i = lo;
  let j = last;
  for (;;) {
    do i++;
    while (a[i]! < pivot);
    do j--;
    while (a[j]! > pivot);
    if (i >= j) return j;
    swap(a, i, j);
  }
}

/** Sort a[lo, hi) ascending in place. */
export function sortRange(a: Float64Array, lo: number, hi: number): void {
  while (hi - lo > INSERTION) {
    const j = partition(a, lo, hi - 1);
    // Recurse into the smaller side, loop on the larger: O(log n) stack.
    if (j + 1 - lo < hi - (j + 1)) {
      sortRange(a, lo, j + 1);
      lo = j + 1;
    } else {
      sortRange(a, j + 1, hi);
      hi = j + 1;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= lo && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/**
 * The k-th smallest of a[lo, hi) (0-based within the range), partially reordering a so that
 * a[lo, lo + k) ≤ a[lo + k] ≤ a[lo + k + 1, hi): quickselect with a branch-free partition.
 *
 * Why branch-free: on unsorted data every comparison of a Hoare partition is a coin flip for the
 * branch predictor, and those mispredictions were ~80 % of a 200-value median (5.5 µs per column
 * on the bench VM, 2,000 columns slower than numpy's introselect). Lomuto's scheme with the swap
 * done unconditionally and the boundary advanced by the comparison's 0 / 1 has no data-dependent
 * branch. Lomuto degrades on runs of equal keys (single-cell columns that are mostly zeros), so a
 * step that shrinks the range by < 1/8 splits off the keys equal to the pivot in a second
 * branch-free pass, and if that does not help either the rest goes to the Hoare quickselect
 * (which splits ties evenly). Any correct selection returns the same value, so results are
 * bit-identical to a full sort.
 */
export function selectKth(a: Float64Array, lo: number, hi: number, k: number): number {
  const t = lo + k;
  let l = lo;
  let r = hi - 1;
  while (r - l > INSERTION) {
    const size = r - l;
    // median of three moved to a[l] as the pivot (also guards the scan's ends)
    const mid = (l + r) >>> 1;
    if (a[mid]! < a[l]!) swap(a, mid, l);
    if (a[r]! < a[l]!) swap(a, r, l);
    if (a[r]! < a[mid]!) swap(a, r, mid);
    swap(a, mid, l);
    const pivot = a[l]!;
    let b = l + 1;
    for (let i = l + 1; i <= r; i++) {
      const v = a[i]!;
      a[i] = a[b]!;
      a[b] = v;
      b += +(v < pivot);
    }
    // a[l + 1, b) < pivot ≤ a[b, r]: the pivot goes to b − 1, its final place
    const pos = b - 1;
    a[l] = a[pos]!;
    a[pos] = pivot;
    if (t === pos) return pivot;
    if (t < pos) r = pos - 1;
    else l = pos + 1;
    if (8 * (r - l) > 7 * size) {
      if (t > pos) {
        // a[l, r] ≥ pivot and hardly smaller: move the keys equal to the pivot to its front
        let e = l;
        for (let i = l; i <= r; i++) {
          const v = a[i]!;
          a[i] = a[e]!;
          a[e] = v;
          e += +(v <= pivot);
        }
        if (t < e) return pivot;
        l = e;
      }
      if (8 * (r - l) > 7 * size) return selectKthHoare(a, l, r + 1, t - l);
    }
  }
  sortRange(a, l, r + 1);
  return a[t]!;
}

/** selectKth by Hoare partitions (tie-safe): the fallback for ranges that barely shrink. */
function selectKthHoare(a: Float64Array, lo: number, hi: number, k: number): number {
  const target = lo + k;
  let l = lo;
  let r = hi - 1;
  while (r - l > INSERTION) {
    const j = partition(a, l, r);
    if (target <= j) r = j;
    else l = j + 1;
  }
  sortRange(a, l, r + 1);
  return a[target]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** Sort keys[lo, hi) ascending in place, applying the same permutation to payload. */
export function sortPairs(keys: Float64Array, payload: Int32Array, lo: number, hi: number): void {
  while (hi - lo > INSERTION) {
    const mid = (lo + hi) >>> 1;
    const last = hi - 1;
    if (keys[mid]! < keys[lo]!) swap2(keys, payload, mid, lo);
    if (keys[last]! < keys[lo]!) swap2(keys, payload, last, lo);
    if (keys[last]! < keys[mid]!) swap2(keys, payload, last, mid);
    const pivot = keys[mid]!;
    let i = lo;
    let j = last;
    for (;;) {
      do i++;
      while (keys[i]! < pivot);
      do j--;
      while (keys[j]! > pivot);
      if (i >= j) break;
      swap2(keys, payload, i, j);
    }
    if (j + 1 - lo < hi - (j + 1)) {
      sortPairs(keys, payload, lo, j + 1);
      lo = j + 1;
    } else {
      sortPairs(keys, payload, j + 1, hi);
      hi = j + 1;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = keys[i]!;
    const w = payload[i]!;
    let j = i - 1;
    while (j >= lo && keys[j]! > v) {
      keys[j + 1] = keys[j]!;
      payload[j + 1] = payload[j]!;
      j--;
    }
    keys[j + 1] = v;
    payload[j + 1] = w;
  }
}

function swap2(k: Float64Array, p: Int32Array, i: number, j: number): void {
  const t = k[i]!;
  k[i] = k[j]!;
  k[j] = t;
  const u = p[i]!;
  p[i] = p[j]!;
  p[j] = u;
}
