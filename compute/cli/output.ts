/**
 * Terminal output: the single JSON object of `--json`, aligned text tables, and a progress bar
 * on stderr (drawn only on a terminal, after the run has lasted a moment, at most 10 times/s).
 */
import { type ProgressFn } from '../core/method';

/** Write text to stdout and wait until it is flushed (large JSON to a pipe must not be cut off). */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, err => (err ? reject(err) : resolve()));
  });
}

export function writeJson(value: unknown): Promise<void> {
  return writeStdout(JSON.stringify(value) + '\n');
}

/** Left-aligned text columns, right-aligned numbers. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map(r => r.map(c => (typeof c === 'number' ? formatNumber(c) : c)));
  const numeric = header.map(
    (_, k) => rows.length > 0 && rows.every(r => typeof r[k] === 'number'),
  );
  const width = header.map((h, k) => Math.max(h.length, ...cells.map(r => r[k]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, k) => (numeric[k] ? c.padStart(width[k]!) : c.padEnd(width[k]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(width.map(w => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : x.toPrecision(4);
}

/** A progress callback drawing `[#####-----]  45%  stage` on stderr when it is a terminal. */
export function progressBar(
  enabled: boolean,
  delayMs = 300,
): { progress: ProgressFn; done(): void } {
  const tty = enabled && Boolean(process.stderr.isTTY);
  const start = Date.now();
  let last = 0;
  let drawn = false;
  return {
    progress(fraction, stage) {
      if (!tty) return;
      const now = Date.now();
      if (now - start < delayMs || (now - last < 100 && fraction < 1)) return;
      last = now;
      const f = Math.max(0, Math.min(1, fraction));
      const width = 30;
      const full = Math.round(f * width);
      const text = `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%  ${stage}`;
      process.stderr.write(
        `\r${text.slice(0, (process.stderr.columns || 80) - 1).padEnd(drawn ? 60 : 0)}`,
      );
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[2K');
    },
  };
}
