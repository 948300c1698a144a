/**
 * Parsing of the option values shared by the subcommands (`--k`, `--seed`, `--param`, `--backend`),
 * each failure a UsageError naming the flag.
 */
import { ArgumentError, parseArgs, type ArgSpecs } from '../core/args';
import { type BackendPreference } from '../core/tensor';
import { UsageError } from './errors';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;

export function parseNonNegativeInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) {
    throw new UsageError(flag, `must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  const v = Number(raw);
  if (!Number.isSafeInteger(v)) throw new UsageError(flag, `is too large: ${raw}`);
  return v;
}

/** `--param key=value` pairs (repeatable, or several after one flag) → raw key/value map. */
export function parseParamPairs(pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError('--param', `expects key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq).trim();
    if (key in out) throw new UsageError('--param', `"${key}" is given twice`);
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Validate `--param` values against a method's argument spec; errors name `--param <key>`. */
export function methodArgs(specs: ArgSpecs, raw: Record<string, string>): Record<string, unknown> {
  try {
    return parseArgs(specs, raw);
  } catch (e) {
    if (e instanceof ArgumentError)
      throw new UsageError(`--param ${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
}

export function parseBackend(raw: string | undefined): BackendPreference | undefined {
  if (raw === undefined) return undefined;
  if (!(BACKENDS as readonly string[]).includes(raw)) {
    throw new UsageError(
      '--backend',
      `must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw as BackendPreference;
}
