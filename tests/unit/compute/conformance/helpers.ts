/**
 * Helpers for the omics-like conformance tests: run a selector through the CLI's own code path
 * (flags → CSV parsing → registry method → the `select --json` object, JSON round-tripped so NaN
 * becomes null exactly as printed), and compare with reference outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../../../compute/cli/dataset';
import { selectOutput, type SelectOutput } from '../../../../compute/cli/commands/select';
import { type Dataset } from '../../../../compute/core/dataset';

export const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures', 'golden', 'omics_like');

/** Outcome / annotation columns of each fixture: all but the target are passed as --ignore. */
export const OUTCOMES: Record<string, string[]> = {
  'counts.csv': ['condition', 'subtype', 'response'],
  'logcpm.csv': ['condition', 'subtype', 'response'],
  'methylation.csv': ['status', 'age'],
  'proteomics.csv': ['group'],
  'breast_cancer.csv': ['diagnosis'],
  'diabetes.csv': ['progression'],
};

function ignoreFor(input: string, target: string | null | undefined): string[] {
  return (OUTCOMES[input.replace(/^.*\//, '')] ?? []).filter(c => c !== target);
}

export function readRef<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export type Num = number | null;

/** Exactly what `omicselector select <method> --json` prints, parsed back. */
export type JsonOutput = Omit<SelectOutput, 'scores'> & { scores: Record<string, Num> };

export interface CliCall {
  input: string;
  method: string;
  target?: string | null;
  positive?: string | null;
  params?: Record<string, unknown>;
  k?: number;
  seed?: number;
}

export function paramFlags(params: Record<string, unknown> = {}): string[] {
  return Object.entries(params).map(([key, v]) => `${key}=${String(v)}`);
}

export async function runCli(c: CliCall, inputPath = join(FIXTURES, c.input)): Promise<JsonOutput> {
  const { output } = await selectOutput(c.method, {
    input: inputPath,
    target: c.target ?? undefined,
    positiveClass: c.positive ?? undefined,
    k: c.k !== undefined ? String(c.k) : undefined,
    param: paramFlags(c.params),
    seed: c.seed !== undefined ? String(c.seed) : undefined,
    ignore: ignoreFor(c.input, c.target),
    json: true,
  });
  return JSON.parse(JSON.stringify(output)) as JsonOutput;
}

/** The CLI's parsing of a fixture (for models, which `select` does not run). */
export async function loadFixture(
  input: string,
  target: string,
  positive?: string | null,
): Promise<Dataset> {
  const { dataset } = await loadDataset({
    input: join(FIXTURES, input),
    target,
    positiveClass: positive ?? undefined,
    ignore: ignoreFor(input, target),
  });
  return dataset;
}

/** null/NaN both mean "undefined"; otherwise |a − b| ≤ rel·|b| + abs. */
export function close(a: Num | undefined, b: Num | undefined, rel: number, abs = 0): boolean {
  const na = a === null || a === undefined || Number.isNaN(a);
  const nb = b === null || b === undefined || Number.isNaN(b);
  if (na || nb) return na && nb;
  if (a === b) return true;
  return Math.abs(a! - b!) <= rel * Math.abs(b!) + abs;
}

/** Names of the features whose values disagree, with both values (at most `max`). */
export function mismatches(
  names: string[],
  ours: (name: string, j: number) => Num | undefined,
  ref: (Num | undefined)[],
  rel: number,
  abs = 0,
  max = 5,
): string[] {
  const out: string[] = [];
  names.forEach((name, j) => {
    const a = ours(name, j);
    if (!close(a, ref[j], rel, abs) && out.length < max) {
      out.push(`${name}: ours ${String(a)} vs ref ${String(ref[j])}`);
    }
  });
  return out;
}

/**
 * Tie groups of a reference ranking: features sorted by score (higher first, null/NaN last);
 * neighbours whose scores differ by at most `rel` relative form one group (duplicated features,
 * tied counts and rounding-level differences cannot order them).
 */
export function tieGroups(names: string[], scores: Num[], rel = 1e-9): string[][] {
  const idx = names.map((_, j) => j).filter(j => scores[j] !== null && !Number.isNaN(scores[j]));
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const groups: string[][] = [];
  let last: number | null = null;
  for (const j of idx) {
    const s = scores[j]!;
    const tied =
      last !== null &&
      (s === last || (Number.isFinite(s) && Math.abs(s - last) <= rel * Math.abs(last)));
    if (tied) groups[groups.length - 1]!.push(names[j]!);
    else groups.push([names[j]!]);
    last = s;
  }
  return groups;
}

/**
 * Does `ordered` (ours, best first) list exactly the reference's groups in the reference's order
 * (any order inside a group)? A group may be cut by a `k` boundary only at the end. Returns the
 * first disagreement, or null.
 */
export function rankingDisagreement(ordered: string[], groups: string[][]): string | null {
  let pos = 0;
  for (const g of groups) {
    if (pos >= ordered.length) return null;
    const take = ordered.slice(pos, pos + g.length);
    const set = new Set(g);
    const bad = take.find(n => !set.has(n));
    if (bad !== undefined) {
      return `rank ${pos + 1}: ours ${JSON.stringify(bad)}, reference group ${JSON.stringify(g.slice(0, 5))}`;
    }
    pos += g.length;
  }
  return pos < ordered.length ? `ours lists ${ordered.length - pos} extra features` : null;
}

export function jaccard(a: Iterable<string>, b: Iterable<string>): number {
  const sa = new Set(a);
  const sb = new Set(b);
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  const union = sa.size + sb.size - inter;
  return union === 0 ? 1 : inter / union;
}

export function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
