/**
 * Operation limits as pure validation (no services): the known bypass queries are rejected, every
 * SDK operation and the standard introspection query pass at the default limits (so a growing
 * operation fails here, not in production), `first: $var` is costed as the largest page, and every
 * connection field is covered by the page-size check.
 */
import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getIntrospectionQuery,
  getNamedType,
  GraphQLSchema,
  isObjectType,
  Kind,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  type DefinitionNode,
  type FragmentDefinitionNode,
} from 'graphql';
import { parseConfig } from '../../../src/config';
import { buildAppSchema } from '../../../src/graphql/schema';
import {
  costLimitRuleFor,
  enforcePageSize,
  limitRules,
  MAX_PAGE_SIZE,
  operationPreparer,
  type OperationLimits,
} from '../../../src/graphql/limits';

let schema: GraphQLSchema;
let defaults: OperationLimits;

beforeAll(async () => {
  schema = await buildAppSchema();
  const parsed = parseConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const c = parsed.config;
  defaults = { maxDepth: c.maxQueryDepth, maxAliases: c.maxAliases, ...c.graphqlLimits };
});

const low = (): OperationLimits => ({ ...defaults, maxDepth: 3, maxAliases: 3 });

function errorsOf(query: string, limits: OperationLimits): string[] {
  return validate(schema, parse(query), [...specifiedRules, ...limitRules(limits)]).map(
    e => e.message,
  );
}

describe('bypass queries are rejected', () => {
  const deep4 = 'users(first: 1) { edges { node { id } } }'; // depth 4

  it.each([
    ['plain', `{ ${deep4} }`],
    [
      'fragment named __schema (GHSA-hmfr-rx46-4jx2)',
      `{ ...__schema } fragment __schema on Query { ${deep4} }`,
    ],
    ['operation named __schema', `query __schema { ${deep4} }`],
    ['field aliased __schema', `{ __schema: users(first: 1) { edges { node { id } } } }`],
    [
      // The fragment is first met shallow (me) and then deep: a depth cached by position lets the
      // deep use through (GHSA-224p-v68g-5g8f).
      'fragment depth cache (GHSA-224p-v68g-5g8f)',
      `{ me { ...U } users(first: 1) { edges { node { ...U } } } } fragment U on User { id }`,
    ],
    [
      'depth spread over a chain of fragments',
      `{ users(first: 1) { ...A } } fragment A on UserConnection { edges { ...B } }
       fragment B on UserEdge { node { ...C } } fragment C on User { id }`,
    ],
  ])('depth: %s', (_name, query) => {
    expect(errorsOf(query, low())).toContain('Query depth 4 exceeds the maximum of 3');
  });

  it('fragment cycles are reported, not looped on', () => {
    const errors = errorsOf(
      `{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }`,
      low(),
    );
    expect(errors.some(m => /Cannot spread fragment "A" within itself/.test(m))).toBe(true);
  });

  it('aliases hidden in (repeated, nested) fragments are counted', () => {
    const errors = errorsOf(
      `{ ...F ...G } fragment F on Query { a: me { id } b: me { id } } fragment G on Query { ...F }`,
      low(),
    );
    expect(errors).toContain('Query uses 4 aliases; the maximum is 3');
  });

  it('introspection nested deeper than its own caps', () => {
    const bomb =
      '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }';
    expect(errorsOf(bomb, defaults)).toContain('Introspection nests 4 lists; the maximum is 3');
    const ofType = `{ __type(name: "Query") { ${'ofType { '.repeat(20)}name${' }'.repeat(20)} } }`;
    expect(errorsOf(ofType, defaults)).toContain(
      `Introspection depth 22 exceeds the maximum of ${defaults.maxIntrospectionDepth}`,
    );
  });

  it('directives are counted', () => {
    const query = `{ me { ${Array.from({ length: 6 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`;
    expect(errorsOf(query, { ...defaults, maxDirectives: 5, maxAliases: 100 })).toContain(
      'Directives limit of 5 exceeded, found 6.',
    );
  });
});

describe('cost', () => {
  const cost = (query: string) => {
    const [message] = validate(schema, parse(query), [costLimitRuleFor(0)]).map(e => e.message);
    return Number(/found ([\d.]+)/.exec(message ?? '')?.[1]);
  };

  it('costs `first: $n` as the largest page and an omitted `first` as the default', () => {
    const page = (arg: string) =>
      cost(`query($n: Int!) { datasets${arg} { edges { cursor node { id name } } } }`);
    const literal = (n: number) => page(`(first: ${n})`);
    expect(page('(first: $n)')).toBe(literal(MAX_PAGE_SIZE));
    expect(page('')).toBe(literal(20)); // the schema default of datasets.first
    expect(literal(100)).toBeGreaterThan(literal(10) * 9);
  });

  it('aliased full pages exceed the default cost limit', () => {
    const fields =
      'id name featureCount sampleCount sha256 gzip ownerId missingCount failureReason';
    const page = `datasets(first: 100) { edges { node { ${fields} } } }`;
    const query = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: ${page}`).join(' ')} }`;
    expect(errorsOf(query, defaults)).toEqual([
      expect.stringMatching(
        new RegExp(`^Query Cost limit of ${defaults.maxCost} exceeded, found \\d+`),
      ),
    ]);
  });
});

describe('defaults admit every real operation', () => {
  /** Each SDK operation with just the fragments it uses (transitively), as the SDK sends it. */
  function sdkOperations(): Array<[string, string]> {
    const dir = join(__dirname, '../../../schema/operations');
    const all = parse(
      readdirSync(dir)
        .filter(f => f.endsWith('.graphql'))
        .map(f => readFileSync(join(dir, f), 'utf8'))
        .join('\n'),
    );
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of all.definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    }
    const out: Array<[string, string]> = [];
    for (const op of all.definitions) {
      if (op.kind !== Kind.OPERATION_DEFINITION) continue;
      const used = new Set<string>();
      const collect = (node: DefinitionNode) =>
        visit(node, {
          FragmentSpread(spread) {
            const name = spread.name.value;
            if (!used.has(name) && fragments.has(name)) {
              used.add(name);
              collect(fragments.get(name)!);
            }
          },
        });
      collect(op);
      const defs = [op, ...[...used].map(n => fragments.get(n)!)];
      out.push([op.name?.value ?? '?', print({ kind: Kind.DOCUMENT, definitions: defs })]);
    }
    return out;
  }

  it('SDK operations pass the default limits over the WebSocket path (tokens, characters too)', () => {
    const prepare = operationPreparer(schema, defaults);
    const ops = sdkOperations();
    expect(ops.length).toBeGreaterThan(20);
    for (const [name, text] of ops) {
      const result = prepare(text);
      expect({ name, errors: 'errors' in result ? result.errors.map(e => e.message) : [] }).toEqual(
        { name, errors: [] },
      );
    }
  });

  it('the standard introspection query passes', () => {
    const prepare = operationPreparer(schema, defaults);
    const result = prepare(getIntrospectionQuery());
    expect('errors' in result ? result.errors.map(e => e.message) : []).toEqual([]);
  });

  it('token and character limits reject before validation', () => {
    const prepare = operationPreparer(schema, { ...defaults, maxTokens: 50, maxCharacters: 500 });
    const tokens = prepare(`{ me { ${'id '.repeat(60)} } }`);
    expect('errors' in tokens && tokens.errors[0]!.message).toMatch(
      /contains more th\w+ 50 tokens/,
    );
    const text = `# ${'x'.repeat(600)}\n{ me { id } }`; // a comment: few tokens, many characters
    const chars = prepare(text);
    expect('errors' in chars && chars.errors[0]!.message).toBe(
      `Query exceeds the maximum allowed length of 500, found ${text.length}.`,
    );
  });
});

describe('page size', () => {
  it('wraps every connection field of the schema', async () => {
    const fresh = await buildAppSchema();
    const wrapped = enforcePageSize(fresh);
    const connections: string[] = [];
    for (const type of Object.values(fresh.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (getNamedType(field.type).name.endsWith('Connection')) {
          connections.push(`${type.name}.${field.name}`);
          expect(field.args.map(a => a.name)).toContain('first');
        }
      }
    }
    expect(wrapped.sort()).toEqual(connections.sort());
    expect(wrapped).toEqual(
      expect.arrayContaining(['Query.auditLog', 'Query.datasets', 'Query.jobs', 'Query.users']),
    );
    // Wrapping twice does not stack checks.
    expect(enforcePageSize(fresh).sort()).toEqual(wrapped.sort());
  });

  it('rejects first outside 1..100 before the resolver runs', async () => {
    const fresh = await buildAppSchema();
    enforcePageSize(fresh);
    const field = fresh.getQueryType()!.getFields().auditLog!;
    for (const first of [0, -1, 101, 200]) {
      expect(() => field.resolve!({}, { first }, {}, {} as never)).toThrow(
        'first must be between 1 and 100',
      );
    }
  });
});
