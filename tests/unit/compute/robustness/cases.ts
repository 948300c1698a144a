/**
 * Awkward but valid omics-shaped data for the robustness sweep: one seeded generator, small
 * files (the whole sweep must run in seconds). Each case is written as a CSV file exactly as a
 * user would hand it to `omicselector select` (sample id first, features, outcome columns last),
 * so the methods see the CLI's own parsing and outcome typing.
 *
 * Every case carries a latent signal per sample (the class, the continuous value, the Cox risk)
 * and a few features that follow it, so a sane method has something to find.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../../compute/core/rng';

export type Kind = 'binary' | 'multiclass' | 'continuous' | 'survival' | 'none';
export const KINDS: readonly Kind[] = ['binary', 'multiclass', 'continuous', 'survival', 'none'];

export interface Case {
  id: string;
  kind: Kind;
  /** CSV path (written once per process). */
  path: string;
  nSamples: number;
  nFeatures: number;
  /** The flags `select` gets besides --input. */
  flags: { target?: string; positiveClass?: string; task?: string; time?: string; event?: string };
  /** `--k`, when the case is about k. */
  k?: number;
  /** The name of a feature that separates the outcome perfectly (if the case has one). */
  separating?: string;
}

interface Outcome {
  /** Signal per sample that informative features follow. */
  signal: number[];
  /** Outcome columns: name → cell text per sample. */
  columns: Record<string, string[]>;
  flags: Case['flags'];
}

/** Class sizes → labels in a shuffled order (so no method can rely on sorted rows). */
function classLabels(rng: Rng, sizes: number[]): number[] {
  const labels = sizes.flatMap((s, c) => Array<number>(s).fill(c));
  rng.shuffle(labels);
  return labels;
}

const CLASS_NAMES = ['ctrl', 'case', 'third'];
const MULTI_NAMES = ['A', 'B', 'C', 'D'];

function outcomeFor(kind: Kind, rng: Rng, n: number, opt: CaseOptions): Outcome {
  switch (kind) {
    case 'binary': {
      const pos = opt.sizes?.[1] ?? Math.floor(n / 2);
      const y = classLabels(rng, opt.sizes ?? [n - pos, pos]);
      return {
        signal: y,
        columns: { target: y.map(c => CLASS_NAMES[c]!) },
        flags: { target: 'target', positiveClass: 'case' },
      };
    }
    case 'multiclass': {
      const sizes = opt.sizes ?? [n - 2 * Math.floor(n / 3), Math.floor(n / 3), Math.floor(n / 3)];
      const y = classLabels(rng, sizes);
      return {
        signal: y,
        columns: { target: y.map(c => MULTI_NAMES[c]!) },
        flags: { target: 'target' },
      };
    }
    case 'continuous': {
      const z = Array.from({ length: n }, () => rng.normal());
      const values =
        opt.outcome === 'constant'
          ? z.map(() => 3.5)
          : opt.outcome === 'near_constant'
            ? z.map(v => 3.5 + 1e-13 * v)
            : z.map(v => 10 + 2 * v);
      return {
        signal: z,
        columns: { target: values.map(v => String(v)) },
        // A constant column has one distinct value: --task says what it is.
        flags: { target: 'target', task: opt.outcome === 'constant' ? 'continuous' : undefined },
      };
    }
    case 'survival': {
      const z = Array.from({ length: n }, () => rng.normal());
      const time = z.map(v => Math.max(0.05, -Math.log(1 - rng.random()) * Math.exp(-v) * 10));
      let event: number[] = z.map(() => (rng.random() < 0.7 ? 1 : 0));
      if (opt.outcome === 'one_event') event = event.map((_, i) => (i === 0 ? 1 : 0));
      if (opt.outcome === 'tied_event_times') {
        // Every event at t = 5; the censored samples at other (distinct) times.
        event = event.map((_, i) => (i % 2 === 0 ? 1 : 0));
        for (let i = 0; i < n; i++) if (event[i]) time[i] = 5;
      }
      if (opt.sizes) {
        // sizes = [censored, events]
        const ev = classLabels(rng, opt.sizes);
        event = ev;
      }
      if (!event.includes(0) && opt.outcome !== 'all_events') event[n - 1] = 0;
      if (!event.includes(1)) event[0] = 1;
      return {
        signal: z,
        columns: {
          time: time.map(t => t.toFixed(3)),
          event: event.map(String),
        },
        flags: { time: 'time', event: 'event' },
      };
    }
    case 'none':
      return { signal: Array.from({ length: n }, () => rng.normal()), columns: {}, flags: {} };
  }
}

interface CaseOptions {
  n: number;
  /** Class sizes (binary, multiclass) or [censored, events] (survival). */
  sizes?: number[];
  outcome?: 'constant' | 'near_constant' | 'one_event' | 'tied_event_times' | 'all_events';
  k?: number;
  /** Informative features (follow the signal with noise) and pure-noise features. */
  informative: number;
  noise: number;
  /** Feature value: from signal s and standard normal e (default s + e). */
  value?: (s: number, e: number, rng: Rng) => number;
  /** Extra named columns built from the signal. */
  extra?: (signal: number[], rng: Rng) => Record<string, number[]>;
  /** Fraction of feature cells left empty (missing). */
  missing?: number;
}

const SPECS: Record<string, { kinds: readonly Kind[]; opt: (kind: Kind) => CaseOptions }> = {
  // n tiny: 2 per class (binary 4, multiclass 6), 5-6 otherwise.
  tiny: {
    kinds: KINDS,
    opt: kind => ({
      n: kind === 'binary' || kind === 'none' ? 4 : kind === 'multiclass' ? 6 : 6,
      sizes: kind === 'multiclass' ? [2, 2, 2] : kind === 'survival' ? [2, 4] : undefined,
      informative: 2,
      noise: 4,
    }),
  },
  p1: { kinds: KINDS, opt: () => ({ n: 24, informative: 1, noise: 0 }) },
  p2: { kinds: KINDS, opt: () => ({ n: 24, informative: 1, noise: 1 }) },
  wide: { kinds: KINDS, opt: () => ({ n: 40, informative: 10, noise: 2990 }) },
  singleton_class: {
    kinds: ['multiclass'],
    opt: () => ({ n: 21, sizes: [1, 10, 10], informative: 3, noise: 7 }),
  },
  unbalanced: {
    kinds: ['binary', 'multiclass', 'survival'],
    opt: kind => ({
      n: kind === 'multiclass' ? 63 : 63,
      sizes: kind === 'binary' ? [60, 3] : kind === 'multiclass' ? [3, 30, 30] : [60, 3],
      informative: 3,
      noise: 7,
    }),
  },
  // Constant, all-zero, duplicated and perfectly separating features next to ordinary ones.
  degenerate: {
    kinds: KINDS,
    opt: kind => ({
      n: 30,
      informative: 2,
      noise: 3,
      extra: signal => {
        const order = [...signal].sort((a, b) => a - b);
        const median = order[Math.floor(order.length / 2)]!;
        const sep =
          kind === 'binary' || kind === 'multiclass'
            ? signal.map(s => 100 * s + 1)
            : signal.map(s => (s >= median ? 50 + s : -50 + s));
        return {
          constant: signal.map(() => 7),
          all_zero: signal.map(() => 0),
          dup_a: signal.map((s, i) => s + Math.sin(i)),
          dup_b: signal.map((s, i) => s + Math.sin(i)),
          separating: sep,
        };
      },
    }),
  },
  huge: {
    kinds: KINDS,
    opt: () => ({ n: 24, informative: 3, noise: 5, value: (s, e) => (s + e) * 1e150 }),
  },
  minute: {
    kinds: KINDS,
    opt: () => ({ n: 24, informative: 3, noise: 5, value: (s, e) => (s + e) * 1e-150 }),
  },
  // log-scale data: all values negative.
  negative: {
    kinds: KINDS,
    opt: () => ({ n: 24, informative: 3, noise: 5, value: (s, e) => -12 + 0.8 * s + e }),
  },
  // integer counts, ~90 % zeros.
  sparse_counts: {
    kinds: KINDS,
    opt: () => ({
      n: 30,
      informative: 3,
      noise: 7,
      value: (s, e, rng) =>
        rng.random() < 0.9 ? 0 : Math.max(1, Math.round(20 * Math.exp(0.5 * s + 0.3 * e))),
    }),
  },
  missing: {
    kinds: KINDS,
    opt: () => ({ n: 24, informative: 3, noise: 5, missing: 0.1 }),
  },
  constant_outcome: {
    kinds: ['continuous'],
    opt: () => ({ n: 20, outcome: 'constant', informative: 2, noise: 3 }),
  },
  near_constant_outcome: {
    kinds: ['continuous'],
    opt: () => ({ n: 20, outcome: 'near_constant', informative: 2, noise: 3 }),
  },
  one_event: {
    kinds: ['survival'],
    opt: () => ({ n: 20, outcome: 'one_event', informative: 2, noise: 3 }),
  },
  tied_event_times: {
    kinds: ['survival'],
    opt: () => ({ n: 20, outcome: 'tied_event_times', informative: 2, noise: 3 }),
  },
  k_above_p: { kinds: KINDS, opt: () => ({ n: 30, informative: 2, noise: 3, k: 8 }) },
  k_equals_p: { kinds: KINDS, opt: () => ({ n: 30, informative: 2, noise: 3, k: 5 }) },
};

export const CASE_IDS = Object.keys(SPECS);

function cell(v: number): string {
  return Number.isNaN(v) ? '' : String(v);
}

let dir: string | undefined;

/** Seeded: the same (id, kind, seed) always writes the same file. */
export function buildCase(id: string, kind: Kind, seed = 20260101): Case {
  const spec = SPECS[id];
  if (!spec) throw new Error(`unknown case ${id}`);
  const opt = spec.opt(kind);
  const rng = new Rng(seed);
  const n = opt.n;
  const out = outcomeFor(kind, rng, n, opt);
  const value = opt.value ?? ((s: number, e: number) => s + e);
  const cols: Record<string, number[]> = {};
  for (let j = 0; j < opt.informative; j++) {
    cols[`sig_${j + 1}`] = out.signal.map(s => value(1.5 * s, rng.normal(), rng));
  }
  for (let j = 0; j < opt.noise; j++) {
    cols[`g_${j + 1}`] = out.signal.map(() => value(0, rng.normal(), rng));
  }
  Object.assign(cols, opt.extra?.(out.signal, rng) ?? {});
  if (opt.missing) {
    for (const v of Object.values(cols)) {
      for (let i = 0; i < n; i++) if (rng.random() < opt.missing) v[i] = NaN;
    }
  }
  const names = Object.keys(cols);
  const outNames = Object.keys(out.columns);
  const lines = [['sample', ...names, ...outNames].join(',')];
  for (let i = 0; i < n; i++) {
    lines.push(
      [
        `s${i + 1}`,
        ...names.map(f => cell(cols[f]![i]!)),
        ...outNames.map(c => out.columns[c]![i]!),
      ].join(','),
    );
  }
  dir ??= mkdtempSync(join(tmpdir(), 'omicselector-robustness-'));
  const path = join(dir, `${id}-${kind}-${seed}.csv`);
  writeFileSync(path, lines.join('\n') + '\n');
  return {
    id,
    kind,
    path,
    nSamples: n,
    nFeatures: names.length,
    flags: out.flags,
    k: opt.k,
    separating: 'separating' in cols ? 'separating' : undefined,
  };
}

/** Every (case, kind) pair. */
export function allCases(): Case[] {
  return CASE_IDS.flatMap(id => SPECS[id]!.kinds.map(kind => buildCase(id, kind)));
}
