/**
 * Outcome columns: collected row by row while the matrix streams in, validated as they arrive
 * (so the error names the first offending line), and summarised at the end.
 */
import { type Outcome } from '../core/dataset';
import { CellKind, type CellParser } from './cells';
import { TabularParseError, quoteCell } from './errors';

export type OutcomeSpec =
  | { kind: 'none' }
  | { kind: 'binary'; column: string; positiveClass: string }
  | { kind: 'multiclass'; column: string }
  | { kind: 'continuous'; column: string }
  | { kind: 'survival'; timeColumn: string; eventColumn: string };

export interface ClassCount {
  label: string;
  count: number;
}

export type OutcomeSummary =
  | { kind: 'none' }
  | {
      kind: 'binary';
      column: string;
      positiveClass: string;
      /** [negative, positive] */
      classes: [string, string];
      classCounts: ClassCount[];
    }
  | { kind: 'multiclass'; column: string; classes: string[]; classCounts: ClassCount[] }
  | {
      kind: 'continuous';
      column: string;
      mean: number;
      /** Sample standard deviation (n − 1); 0 for a single sample. */
      sd: number;
      min: number;
      max: number;
    }
  | {
      kind: 'survival';
      timeColumn: string;
      eventColumn: string;
      events: number;
      censored: number;
      minTime: number;
      maxTime: number;
      medianTime: number;
    };

/** Where a cell is, for error messages. */
export interface CellRef {
  line: () => number;
  column: number; // 1-based
  name: string;
}

export interface OutcomeCollector {
  /** Physical column indexes (0-based) this outcome reads, in the order `add` receives them. */
  readonly columns: number[];
  add(cells: string[], refs: CellRef[]): void;
  finish(headerLine: number): { outcome: Outcome; summary: OutcomeSummary };
}

const MISSING_LABELS = new Set(['', 'NA', 'NaN', 'nan', 'N/A', 'n/a', 'na', 'NULL', 'null']);

function missingOutcome(ref: CellRef, what: string): TabularParseError {
  return new TabularParseError(
    'BAD_OUTCOME',
    ref.line(),
    ref.column,
    `${what} is missing; every sample needs an outcome (remove the sample or fill it in)`,
    ref.name,
  );
}

function numeric(cells: CellParser, raw: string, ref: CellRef, what: string): number {
  switch (cells.parse(raw)) {
    case CellKind.Number:
      return cells.value;
    case CellKind.Missing:
      throw missingOutcome(ref, what);
    case CellKind.Infinite:
      throw new TabularParseError(
        'INFINITE',
        ref.line(),
        ref.column,
        `${quoteCell(raw)} is infinite; ${what} must be a finite number`,
        ref.name,
      );
    default:
      throw new TabularParseError(
        'BAD_OUTCOME',
        ref.line(),
        ref.column,
        `${quoteCell(raw)} is not a number; ${what} must be numeric`,
        ref.name,
      );
  }
}

class ClassCollector implements OutcomeCollector {
  private readonly labels: string[] = [];
  private readonly firstLine = new Map<string, number>();
  constructor(
    readonly columns: number[],
    private readonly spec: Extract<OutcomeSpec, { kind: 'binary' | 'multiclass' }>,
  ) {}

  add(cells: string[], refs: CellRef[]): void {
    const label = cells[0]!.trim();
    const ref = refs[0]!;
    if (MISSING_LABELS.has(label)) throw missingOutcome(ref, 'the class label');
    if (!this.firstLine.has(label)) {
      this.firstLine.set(label, ref.line());
      if (this.spec.kind === 'binary' && this.firstLine.size > 2) {
        const seen = [...this.firstLine.keys()].map(c => quoteCell(c)).join(', ');
        throw new TabularParseError(
          'BAD_OUTCOME',
          ref.line(),
          ref.column,
          `a binary outcome needs exactly two classes, found a third class ${quoteCell(label)} (classes so far: ${seen}); use a multiclass outcome instead`,
          ref.name,
        );
      }
    }
    this.labels.push(label);
  }

  finish(headerLine: number): { outcome: Outcome; summary: OutcomeSummary } {
    const column = this.spec.column;
    const col = this.columns[0]! + 1;
    const found = [...this.firstLine.keys()];
    const counts = new Map<string, number>();
    for (const l of this.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    if (this.spec.kind === 'binary') {
      const pos = this.spec.positiveClass;
      if (found.length !== 2) {
        throw new TabularParseError(
          'BAD_OUTCOME',
          headerLine,
          col,
          `a binary outcome needs exactly two classes, found ${found.length}${found.length ? `: ${found.map(c => quoteCell(c)).join(', ')}` : ''}`,
          column,
        );
      }
      if (!counts.has(pos)) {
        throw new TabularParseError(
          'BAD_OUTCOME',
          headerLine,
          col,
          `the positive class ${quoteCell(pos)} does not occur in the outcome column (classes: ${found.map(c => quoteCell(c)).join(', ')})`,
          column,
        );
      }
      const neg = found[0] === pos ? found[1]! : found[0]!;
      const labels = Int32Array.from(this.labels, l => (l === pos ? 1 : 0));
      return {
        outcome: { kind: 'binary', labels, classes: [neg, pos] },
        summary: {
          kind: 'binary',
          column,
          positiveClass: pos,
          classes: [neg, pos],
          classCounts: [neg, pos].map(label => ({ label, count: counts.get(label)! })),
        },
      };
    }
    if (found.length < 2) {
      throw new TabularParseError(
        'BAD_OUTCOME',
        headerLine,
        col,
        `a multiclass outcome needs at least two classes, found ${found.length}`,
        column,
      );
    }
    // Sorted class order: deterministic regardless of row order (code-unit order, not locale).
    const classes = found.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const index = new Map(classes.map((c, i) => [c, i]));
    return {
      outcome: {
        kind: 'multiclass',
        labels: Int32Array.from(this.labels, l => index.get(l)!),
        classes,
      },
      summary: {
        kind: 'multiclass',
        column,
        classes,
        classCounts: classes.map(label => ({ label, count: counts.get(label)! })),
      },
    };
  }
}

class ContinuousCollector implements OutcomeCollector {
  private readonly values: number[] = [];
  constructor(
    readonly columns: number[],
    private readonly column: string,
    private readonly cells: CellParser,
  ) {}

  add(cells: string[], refs: CellRef[]): void {
    this.values.push(numeric(this.cells, cells[0]!, refs[0]!, 'the outcome'));
  }

  finish(): { outcome: Outcome; summary: OutcomeSummary } {
    const v = Float64Array.from(this.values);
    const n = v.length;
    let mean = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      // Welford-free two-pass: the data are in memory and two passes are exact enough.
      mean += v[i]!;
      if (v[i]! < min) min = v[i]!;
      if (v[i]! > max) max = v[i]!;
    }
    mean /= Math.max(n, 1);
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (v[i]! - mean) ** 2;
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    return {
      outcome: { kind: 'continuous', values: v },
      summary: { kind: 'continuous', column: this.column, mean, sd, min, max },
    };
  }
}

class SurvivalCollector implements OutcomeCollector {
  private readonly time: number[] = [];
  private readonly event: number[] = [];
  constructor(
    readonly columns: number[],
    private readonly spec: Extract<OutcomeSpec, { kind: 'survival' }>,
    private readonly cells: CellParser,
  ) {}

  add(cells: string[], refs: CellRef[]): void {
    const t = numeric(this.cells, cells[0]!, refs[0]!, 'the survival time');
    if (t < 0) {
      throw new TabularParseError(
        'BAD_OUTCOME',
        refs[0]!.line(),
        refs[0]!.column,
        `survival time ${quoteCell(cells[0]!)} is negative`,
        refs[0]!.name,
      );
    }
    const raw = cells[1]!.trim();
    const lower = raw.toLowerCase();
    let e: number;
    if (raw === '1' || lower === 'true') e = 1;
    else if (raw === '0' || lower === 'false') e = 0;
    else if (MISSING_LABELS.has(raw)) throw missingOutcome(refs[1]!, 'the event indicator');
    else {
      throw new TabularParseError(
        'BAD_OUTCOME',
        refs[1]!.line(),
        refs[1]!.column,
        `event indicator ${quoteCell(raw)} must be 1 (event) or 0 (censored)`,
        refs[1]!.name,
      );
    }
    this.time.push(t);
    this.event.push(e);
  }

  finish(): { outcome: Outcome; summary: OutcomeSummary } {
    const time = Float64Array.from(this.time);
    const event = Uint8Array.from(this.event);
    let events = 0;
    for (const e of event) events += e;
    const sorted = time.slice().sort();
    const n = sorted.length;
    const median =
      n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    return {
      outcome: { kind: 'survival', time, event },
      summary: {
        kind: 'survival',
        timeColumn: this.spec.timeColumn,
        eventColumn: this.spec.eventColumn,
        events,
        censored: n - events,
        minTime: n ? sorted[0]! : NaN,
        maxTime: n ? sorted[n - 1]! : NaN,
        medianTime: median,
      },
    };
  }
}

class NoOutcome implements OutcomeCollector {
  readonly columns: number[] = [];
  add(): void {}
  finish(): { outcome: Outcome; summary: OutcomeSummary } {
    return { outcome: { kind: 'none' }, summary: { kind: 'none' } };
  }
}

/** Names of the columns an outcome spec reads. */
export function outcomeColumnNames(spec: OutcomeSpec): string[] {
  switch (spec.kind) {
    case 'none':
      return [];
    case 'survival':
      return [spec.timeColumn, spec.eventColumn];
    default:
      return [spec.column];
  }
}

export function makeOutcomeCollector(
  spec: OutcomeSpec,
  columns: number[],
  cells: CellParser,
): OutcomeCollector {
  switch (spec.kind) {
    case 'none':
      return new NoOutcome();
    case 'binary':
    case 'multiclass':
      return new ClassCollector(columns, spec);
    case 'continuous':
      return new ContinuousCollector(columns, spec.column, cells);
    case 'survival':
      return new SurvivalCollector(columns, spec, cells);
  }
}
