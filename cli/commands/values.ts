/** Flag value parsing for the remote commands; every error names its flag (exit code 2). */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../compute/cli/errors.js';

export function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find(a => a.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(flag, `"${value}" is not one of ${allowed.join(', ')}`);
  return found;
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(flag, `"${value}" is not a positive integer`);
  return n;
}

/** Inline JSON, `@file.json`, or `-` for stdin (read by the caller beforehand as `stdin`). */
export function jsonArg(flag: string, value: string, stdin?: string): unknown {
  let text = value;
  let source = 'the value';
  if (value === '-') {
    if (stdin === undefined) throw new UsageError(flag, 'reading stdin is not supported here');
    text = stdin;
    source = 'stdin';
  } else if (value.startsWith('@')) {
    source = value.slice(1);
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new UsageError(flag, `cannot read ${source}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(flag, `${source} is not valid JSON: ${(err as Error).message}`);
  }
}
