/**
 * A fitted binary decision tree in flat typed arrays (the layout scikit-learn's `tree_` uses):
 * node t is internal when `feature[t] >= 0`; samples with `x[feature] <= threshold` go to
 * `left[t]`, larger values to `right[t]`, missing values (NaN) to the side `missingLeft[t]` says.
 * `value` holds `nOut` numbers per node: class probabilities (forest classification), the mean
 * (forest regression) or the leaf weight (boosting).
 */

export interface Tree {
  nNodes: number;
  nOut: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  value: Float64Array;
  /** Forest: weighted samples in the node; boosting: cover (sum of hessians). */
  weight: Float64Array;
  /** Forest: node impurity; boosting: split gain (loss change) of internal nodes. */
  impurity: Float64Array;
}

/** The leaf that row i of a column-major n-row matrix falls into. */
export function leafOf(tree: Tree, x: Float64Array, n: number, i: number): number {
  const { feature, threshold, left, right, missingLeft } = tree;
  let t = 0;
  let f = feature[0]!;
  while (f >= 0) {
    const v = x[f * n + i]!;
    if (v <= threshold[t]!) t = left[t]!;
    else if (v === v) t = right[t]!;
    else t = missingLeft[t] ? left[t]! : right[t]!;
    f = feature[t]!;
  }
  return t;
}

/**
 * As `leafOf`, but feature `pf` is read from row `pi` instead of row i (permutation importance
 * without copying the matrix).
 */
export function leafOfPermuted(
  tree: Tree,
  x: Float64Array,
  n: number,
  i: number,
  pf: number,
  pi: number,
): number {
  const { feature, threshold, left, right, missingLeft } = tree;
  let t = 0;
  let f = feature[0]!;
  while (f >= 0) {
    const v = x[f * n + (f === pf ? pi : i)]!;
    if (v <= threshold[t]!) t = left[t]!;
    else if (v === v) t = right[t]!;
    else t = missingLeft[t] ? left[t]! : right[t]!;
    f = feature[t]!;
  }
  return t;
}

/** Distinct features the tree splits on. */
export function usedFeatures(tree: Tree): Int32Array {
  const seen = new Set<number>();
  for (let t = 0; t < tree.nNodes; t++) if (tree.feature[t]! >= 0) seen.add(tree.feature[t]!);
  return Int32Array.from([...seen].sort((a, b) => a - b));
}

/** Max depth (root = 0). */
export function treeDepth(tree: Tree): number {
  let best = 0;
  const stack: number[] = [0, 0];
  while (stack.length) {
    const d = stack.pop()!;
    const t = stack.pop()!;
    if (d > best) best = d;
    if (tree.feature[t]! >= 0) stack.push(tree.left[t]!, d + 1, tree.right[t]!, d + 1);
  }
  return best;
}

/** Remap split features through `map` (e.g. column in a feature subset → column in the dataset). */
export function remapFeatures(tree: Tree, map: ArrayLike<number>): Tree {
  const feature = Int32Array.from(tree.feature, f => (f >= 0 ? map[f]! : f));
  return { ...tree, feature };
}

// --- compact JSON: typed arrays as base64 of their little-endian bytes ---

type Typed = Int32Array | Float64Array | Uint8Array;

function encode(a: Typed): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decode<T extends Typed>(
  s: string,
  ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  const buf = Buffer.from(s, 'base64');
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new ctor(copy);
}

export interface TreeJson {
  n: number;
  o: number;
  f: string;
  t: string;
  l: string;
  r: string;
  m: string;
  v: string;
  w: string;
  i: string;
}

export function treeToJson(tree: Tree): TreeJson {
  return {
    n: tree.nNodes,
    o: tree.nOut,
    f: encode(tree.feature),
    t: encode(tree.threshold),
    l: encode(tree.left),
    r: encode(tree.right),
    m: encode(tree.missingLeft),
    v: encode(tree.value),
    w: encode(tree.weight),
    i: encode(tree.impurity),
  };
}

export function treeFromJson(j: TreeJson): Tree {
  const tree: Tree = {
    nNodes: j.n,
    nOut: j.o,
    feature: decode(j.f, Int32Array),
    threshold: decode(j.t, Float64Array),
    left: decode(j.l, Int32Array),
    right: decode(j.r, Int32Array),
    missingLeft: decode(j.m, Uint8Array),
    value: decode(j.v, Float64Array),
    weight: decode(j.w, Float64Array),
    impurity: decode(j.i, Float64Array),
  };
  if (tree.feature.length !== tree.nNodes || tree.value.length !== tree.nNodes * tree.nOut) {
    throw new Error('corrupt tree state: array lengths do not match the node count');
  }
  return tree;
}

/** Growable node storage used while a tree is built. */
export class TreeBuilder {
  nNodes = 0;
  private cap: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  value: Float64Array;
  weight: Float64Array;
  impurity: Float64Array;
  /** Bin-space split: last non-empty left bin and first non-empty right bin. */
  binLo: Uint8Array;
  binHi: Uint8Array;

  constructor(
    readonly nOut: number,
    initial = 64,
  ) {
    this.cap = initial;
    this.feature = new Int32Array(initial);
    this.threshold = new Float64Array(initial);
    this.left = new Int32Array(initial);
    this.right = new Int32Array(initial);
    this.missingLeft = new Uint8Array(initial);
    this.value = new Float64Array(initial * nOut);
    this.weight = new Float64Array(initial);
    this.impurity = new Float64Array(initial);
    this.binLo = new Uint8Array(initial);
    this.binHi = new Uint8Array(initial);
  }

  /** A new leaf node; returns its id. */
  add(): number {
    if (this.nNodes === this.cap) this.grow();
    const t = this.nNodes++;
    this.feature[t] = -1;
    this.left[t] = -1;
    this.right[t] = -1;
    return t;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g = <T extends Typed>(a: T, len: number): T => {
      const b = new (a.constructor as new (n: number) => T)(len);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature, cap);
    this.threshold = g(this.threshold, cap);
    this.left = g(this.left, cap);
    this.right = g(this.right, cap);
    this.missingLeft = g(this.missingLeft, cap);
    this.value = g(this.value, cap * this.nOut);
    this.weight = g(this.weight, cap);
    this.impurity = g(this.impurity, cap);
    this.binLo = g(this.binLo, cap);
    this.binHi = g(this.binHi, cap);
    this.cap = cap;
  }

  /** Trimmed copy. Thresholds are filled by the caller (they need the bin edges). */
  finish(): Tree {
    const k = this.nNodes;
    return {
      nNodes: k,
      nOut: this.nOut,
      feature: this.feature.slice(0, k),
      threshold: this.threshold.slice(0, k),
      left: this.left.slice(0, k),
      right: this.right.slice(0, k),
      missingLeft: this.missingLeft.slice(0, k),
      value: this.value.slice(0, k * this.nOut),
      weight: this.weight.slice(0, k),
      impurity: this.impurity.slice(0, k),
    };
  }
}
