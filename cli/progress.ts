/**
 * The live view of `jobs watch`: on a terminal one redrawn line
 * `[##########----------]  48%  RUNNING  t_test: ranking`; elsewhere (CI logs, pipes) one line per
 * status change and per 10 % of progress, so logs stay short. Always on stderr: stdout stays free
 * for `--json`.
 */
import type { JobEvent } from '../sdk/src/client.js';

export interface JobProgressView {
  update(e: JobEvent): void;
  done(): void;
}

const WIDTH = 30;

export function bar(progress: number): string {
  const f = Math.max(0, Math.min(100, progress)) / 100;
  const full = Math.round(f * WIDTH);
  return `[${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

export function describe(e: Pick<JobEvent, 'progress' | 'status' | 'stage' | 'message'>): string {
  const detail = [e.stage, e.message].filter(Boolean).join(': ');
  return `${bar(e.progress)}  ${e.status}${detail ? `  ${detail}` : ''}`;
}

export function jobProgressView(stream: NodeJS.WriteStream = process.stderr): JobProgressView {
  if (stream.isTTY) {
    let drawn = false;
    return {
      update(e) {
        const width = (stream.columns || 80) - 1;
        stream.write(`\r\x1b[2K${describe(e).slice(0, width)}`);
        drawn = true;
      },
      done() {
        if (drawn) stream.write('\n');
      },
    };
  }
  let lastStatus = '';
  let lastDecile = -1;
  return {
    update(e) {
      const decile = Math.floor(e.progress / 10);
      if (e.status === lastStatus && decile === lastDecile) return;
      lastStatus = e.status;
      lastDecile = decile;
      stream.write(`${describe(e)}\n`);
    },
    done() {},
  };
}
