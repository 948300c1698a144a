/**
 * Argument specs: every method declares its parameters once (scikit-learn / glmnet names), and
 * the same spec validates CLI `--param key=value`, GraphQL job configs and library calls.
 */

export type ArgSpec =
  | {
      type: 'number';
      default?: number | null;
      min?: number;
      max?: number;
      exclusiveMin?: boolean;
      doc: string;
      required?: boolean;
      nullable?: boolean;
    }
  | {
      type: 'integer';
      default?: number | null;
      min?: number;
      max?: number;
      doc: string;
      required?: boolean;
      nullable?: boolean;
    }
  | { type: 'boolean'; default?: boolean; doc: string; required?: boolean }
  | { type: 'enum'; values: readonly string[]; default?: string; doc: string; required?: boolean }
  | { type: 'string'; default?: string; doc: string; required?: boolean }
  | { type: 'number[]'; default?: number[]; doc: string; required?: boolean }
  | { type: 'string[]'; default?: string[]; doc: string; required?: boolean };

export type ArgSpecs = Record<string, ArgSpec>;

/** Raised for a bad argument; `field` names the argument so the API can point at it. */
export class ArgumentError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ArgumentError';
  }
}

/**
 * Validate and fill defaults. Accepts strings for numbers/booleans/lists (CLI values) and
 * rejects unknown keys so a typo never silently falls back to a default.
 */
export function parseArgs(
  specs: ArgSpecs,
  raw: Record<string, unknown> | undefined,
  prefix = '',
): Record<string, unknown> {
  const input = raw ?? {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in specs)) {
      const known = Object.keys(specs).join(', ') || 'none';
      throw new ArgumentError(prefix + key, `unknown parameter (known: ${known})`);
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const field = prefix + key;
    const value = input[key];
    if (value === undefined || value === '') {
      if (spec.required) throw new ArgumentError(field, 'is required');
      out[key] = spec.default;
      continue;
    }
    out[key] = coerce(field, spec, value);
  }
  return out;
}

function coerce(field: string, spec: ArgSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (value === null || value === 'null' || value === 'none') {
        if ('nullable' in spec && spec.nullable) return null;
        throw new ArgumentError(field, 'must not be null');
      }
      const x = typeof value === 'string' ? Number(value) : value;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new ArgumentError(field, `must be a finite number, got ${JSON.stringify(value)}`);
      }
      if (spec.type === 'integer' && !Number.isInteger(x)) {
        throw new ArgumentError(field, `must be an integer, got ${x}`);
      }
      if (spec.min !== undefined) {
        const exclusive = spec.type === 'number' && spec.exclusiveMin;
        if (exclusive ? x <= spec.min : x < spec.min) {
          throw new ArgumentError(field, `must be ${exclusive ? '>' : '≥'} ${spec.min}, got ${x}`);
        }
      }
      if (spec.max !== undefined && x > spec.max) {
        throw new ArgumentError(field, `must be ≤ ${spec.max}, got ${x}`);
      }
      return x;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw new ArgumentError(field, `must be true or false, got ${JSON.stringify(value)}`);
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw new ArgumentError(
          field,
          `must be one of ${spec.values.join(', ')}, got ${JSON.stringify(value)}`,
        );
      }
      return value;
    case 'string':
      if (typeof value !== 'string') throw new ArgumentError(field, 'must be a string');
      return value;
    case 'number[]': {
      const list = typeof value === 'string' ? value.split(',').map(Number) : value;
      if (!Array.isArray(list) || list.some(v => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new ArgumentError(field, 'must be a list of finite numbers');
      }
      return list;
    }
    case 'string[]': {
      const list = typeof value === 'string' ? value.split(',').map(s => s.trim()) : value;
      if (!Array.isArray(list) || list.some(v => typeof v !== 'string')) {
        throw new ArgumentError(field, 'must be a list of strings');
      }
      return list;
    }
  }
}
