/**
 * Operation limits, applied to HTTP (Apollo `validationRules`, `parseOptions`, a plugin) and to
 * WebSocket operations (`prepareOperation`, called from graphql-ws `onSubscribe`) alike:
 *
 * - depth and aliases: our own rules below. Fragments are expanded (a spread adds no depth, as
 *   in the response), only the real root introspection fields (`__schema`, `__type`) are exempt
 *   from the depth count, never fragments or operations by name (the 2025 graphql-armor max-depth
 *   bypasses GHSA-hmfr-rx46-4jx2 / GHSA-224p-v68g-5g8f), and introspection has its own depth cap.
 *   armor's max-depth 2.4.2 fixes those bypasses but counts every fragment spread as a level
 *   (or, flattened, exempts `__schema` at any depth), so ours stays.
 * - cost: graphql-armor cost-limit 2.4.3 (after the GHSA-733v-p3h5-qpq7 fix), run on a copy of the
 *   document where every `first`/`last` argument is a literal: variables count as the largest
 *   page (armor alone would cost `first: $n` as 1) and omitted ones as their schema default.
 * - directives: graphql-armor max-directives 2.3.1.
 * - characters: graphql-armor's character-limit check and wording, as an Express middleware (armor's
 *   Apollo plugin throws from `requestDidStart`, an HTTP 500 on Apollo Server 5) and for sockets.
 * - tokens: graphql-js's own `maxTokens` parse option (the counter armor's max-tokens plugin
 *   re-implements; armor's Apollo integration would parse every document twice).
 * - page size: every connection field's `first`/`last` is 1..MAX_PAGE_SIZE, checked before its
 *   resolver runs (`enforcePageSize`), whatever the resolver itself allows.
 *
 * Limit errors are reported as validation errors (never thrown out of `validate`), so they come
 * back as BAD_USER_INPUT / GRAPHQL_VALIDATION_FAILED next to any other validation error.
 */
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLArmorCallbackConfiguration } from '@escape.tech/graphql-armor-types';
import {
  defaultFieldResolver,
  getNamedType,
  GraphQLError,
  isObjectType,
  Kind,
  parse,
  specifiedRules,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.js';

/** Largest page any connection field returns (GitHub's rule: 1..100). */
export const MAX_PAGE_SIZE = 100;

export interface OperationLimits {
  maxDepth: number;
  /** Depth allowed below a root `__schema` / `__type` field (the standard introspection query is 13). */
  maxIntrospectionDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  maxDirectives: number;
  /** Length of the query text (variables are bounded by the body / message size). */
  maxCharacters: number;
}

type Fragments = Map<string, FragmentDefinitionNode>;

function fragmentsOf(context: ValidationContext): Fragments {
  const map: Fragments = new Map();
  for (const def of context.getDocument().definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      map.set(def.name.value, def);
    }
  }
  return map;
}

/** Per-fragment results, so fragment fan-out (A spreads B twice, B spreads C twice…) stays linear. */
type Memo = Map<string, number>;

/** Deepest introspection subtree seen while measuring an operation (reported separately). */
interface IntrospectionDepth {
  max: number;
  /** Nesting of list fields below it (`types { fields { type { fields … } } }` multiplies). */
  lists: number;
}

/** The list-valued fields of the introspection types (__Schema, __Type, __Field, __Directive). */
const INTROSPECTION_LISTS = new Set([
  'types',
  'directives',
  'fields',
  'args',
  'inputFields',
  'interfaces',
  'possibleTypes',
  'enumValues',
]);

/**
 * The standard introspection query nests three lists (types → fields → args); the classic
 * introspection bomb (`types { fields { type { fields { type { fields … } } } } }`) nests more, and
 * each extra level multiplies the response by the number of fields per type.
 */
export const MAX_INTROSPECTION_LIST_NESTING = 3;

function introspectionLists(
  set: SelectionSetNode | undefined,
  fragments: Fragments,
  visiting: Set<string>,
  memo: Memo,
): number {
  if (!set) {
    return 0;
  }
  let max = 0;
  for (const sel of set.selections) {
    let d: number;
    if (sel.kind === Kind.FIELD) {
      d =
        (INTROSPECTION_LISTS.has(sel.name.value) ? 1 : 0) +
        introspectionLists(sel.selectionSet, fragments, visiting, memo);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      d = introspectionLists(sel.selectionSet, fragments, visiting, memo);
    } else {
      const name = sel.name.value;
      const frag = fragments.get(name);
      if (!frag || visiting.has(name)) continue;
      const cached = memo.get(name);
      if (cached !== undefined) {
        d = cached;
      } else {
        visiting.add(name);
        d = introspectionLists(frag.selectionSet, fragments, visiting, memo);
        visiting.delete(name);
        memo.set(name, d);
      }
    }
    max = Math.max(max, d);
  }
  return max;
}

function depthOf(
  set: SelectionSetNode | undefined,
  fragments: Fragments,
  visiting: Set<string>,
  atRoot: boolean,
  intro: IntrospectionDepth,
  memo: Memo = new Map(),
): number {
  if (!set) {
    return 0;
  }
  let max = 0;
  for (const sel of set.selections) {
    let d: number;
    if (sel.kind === Kind.FIELD) {
      if (atRoot && (sel.name.value === '__schema' || sel.name.value === '__type')) {
        // Measured against its own cap: the standard introspection query is deeper than any
        // real operation, but `fields { type { fields … } } }` must not nest without end either.
        const id = 1 + depthOf(sel.selectionSet, fragments, visiting, false, intro, memo);
        intro.max = Math.max(intro.max, id);
        const lists = introspectionLists(sel.selectionSet, fragments, new Set(), new Map());
        intro.lists = Math.max(intro.lists, lists);
        continue;
      }
      d = 1 + depthOf(sel.selectionSet, fragments, visiting, false, intro, memo);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      d = depthOf(sel.selectionSet, fragments, visiting, atRoot, intro, memo);
    } else {
      const name = sel.name.value;
      const frag = fragments.get(name);
      if (!frag || visiting.has(name)) {
        continue; // unknown or cyclic fragments are reported by the standard rules
      }
      const cached = atRoot ? undefined : memo.get(name);
      if (cached !== undefined) {
        d = cached;
      } else {
        visiting.add(name);
        d = depthOf(frag.selectionSet, fragments, visiting, atRoot, intro, memo);
        visiting.delete(name);
        if (!atRoot) {
          memo.set(name, d);
        }
      }
    }
    max = Math.max(max, d);
  }
  return max;
}

function aliasesOf(
  set: SelectionSetNode | undefined,
  fragments: Fragments,
  visiting: Set<string>,
  memo: Memo = new Map(),
): number {
  if (!set) {
    return 0;
  }
  let n = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      n += (sel.alias ? 1 : 0) + aliasesOf(sel.selectionSet, fragments, visiting, memo);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      n += aliasesOf(sel.selectionSet, fragments, visiting, memo);
    } else {
      const name = sel.name.value;
      const frag = fragments.get(name);
      if (frag && !visiting.has(name)) {
        let count = memo.get(name);
        if (count === undefined) {
          visiting.add(name);
          count = aliasesOf(frag.selectionSet, fragments, visiting, memo);
          visiting.delete(name);
          memo.set(name, count);
        }
        n += count;
      }
    }
  }
  return n;
}

export function depthLimitRule(maxDepth: number, maxIntrospectionDepth = 15): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context);
    return {
      OperationDefinition(node) {
        const intro: IntrospectionDepth = { max: 0, lists: 0 };
        const depth = depthOf(node.selectionSet, fragments, new Set(), true, intro);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Query depth ${depth} exceeds the maximum of ${maxDepth}`, {
              nodes: [node],
            }),
          );
        }
        if (intro.max > maxIntrospectionDepth) {
          context.reportError(
            new GraphQLError(
              `Introspection depth ${intro.max} exceeds the maximum of ${maxIntrospectionDepth}`,
              { nodes: [node] },
            ),
          );
        }
        if (intro.lists > MAX_INTROSPECTION_LIST_NESTING) {
          context.reportError(
            new GraphQLError(
              `Introspection nests ${intro.lists} lists; the maximum is ${MAX_INTROSPECTION_LIST_NESTING}`,
              { nodes: [node] },
            ),
          );
        }
      },
    };
  };
}

export function aliasLimitRule(maxAliases: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context);
    return {
      OperationDefinition(node) {
        const count = aliasesOf(node.selectionSet, fragments, new Set());
        if (count > maxAliases) {
          context.reportError(
            new GraphQLError(`Query uses ${count} aliases; the maximum is ${maxAliases}`, {
              nodes: [node],
            }),
          );
        }
      },
    };
  };
}

/** armor callbacks: report the rejection as a validation error instead of throwing it. */
function reportTo(context: ValidationContext): GraphQLArmorCallbackConfiguration {
  return {
    propagateOnRejection: false,
    onReject: [
      (_ctx, error) => {
        context.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));
      },
    ],
  };
}

const isConnection = (typeName: string) => typeName.endsWith('Connection');

function intArgument(name: string, value: number): ArgumentNode {
  return {
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: name },
    value: { kind: Kind.INT, value: String(value) },
  };
}

/**
 * The document with every `first` / `last` argument as a literal, for cost estimation: a variable
 * becomes the largest page the field can return (MAX_PAGE_SIZE on connections, which
 * `enforcePageSize` guarantees; elsewhere at least the field's default), an omitted argument its
 * schema default.
 */
export function withLiteralPageSizes(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node: FieldNode) {
        const def = typeInfo.getFieldDef();
        const pageArgs = def?.args.filter(a => a.name === 'first' || a.name === 'last') ?? [];
        if (!def || pageArgs.length === 0) {
          return undefined;
        }
        const args = [...(node.arguments ?? [])];
        let changed = false;
        for (const a of pageArgs) {
          const fallback = typeof a.defaultValue === 'number' ? a.defaultValue : undefined;
          const i = args.findIndex(x => x.name.value === a.name);
          if (i >= 0 && args[i]!.value.kind === Kind.VARIABLE) {
            const worst = isConnection(getNamedType(def.type).name)
              ? MAX_PAGE_SIZE
              : Math.max(MAX_PAGE_SIZE, fallback ?? 0);
            args[i] = intArgument(a.name, worst);
            changed = true;
          } else if (i < 0 && fallback !== undefined) {
            args.push(intArgument(a.name, fallback));
            changed = true;
          }
        }
        return changed ? { ...node, arguments: args } : undefined;
      },
    }),
  );
}

/** graphql-armor's cost limit, run on `withLiteralPageSizes` of the document. */
export function costLimitRuleFor(maxCost: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const original = context.getDocument();
    const literal = withLiteralPageSizes(context.getSchema(), original);
    const operations = new Map<OperationDefinitionNode, OperationDefinitionNode>();
    const fragments = new Map<string, FragmentDefinitionNode>();
    original.definitions.forEach((def, i) => {
      const copy = literal.definitions[i];
      if (def.kind === Kind.OPERATION_DEFINITION && copy?.kind === Kind.OPERATION_DEFINITION) {
        operations.set(def, copy);
      } else if (copy?.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(copy.name.value, copy);
      }
    });
    // armor reads fragments through the context only: hand it the literal copies.
    const view = { getFragment: (name: string) => fragments.get(name) };
    const armor = costLimitRule({
      maxCost,
      // A fragment spread costs what its fields cost where they are spread (no extra level).
      flattenFragments: true,
      // Fixed in 2.4.x: only a real `__schema` field is exempt; its depth is capped separately.
      ignoreIntrospection: true,
      ...reportTo(context),
    })(view as unknown as ValidationContext);
    const enter = (armor.OperationDefinition as { enter: (n: OperationDefinitionNode) => void })
      .enter;
    return {
      OperationDefinition(node) {
        enter(operations.get(node) ?? node);
      },
    };
  };
}

export function directivesLimitRule(maxDirectives: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor =>
    maxDirectivesRule({ n: maxDirectives, ...reportTo(context) })(context) as unknown as ASTVisitor;
}

/** Every validation rule beyond graphql-js's specified ones, for Apollo and graphql-ws alike. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    depthLimitRule(limits.maxDepth, limits.maxIntrospectionDepth),
    aliasLimitRule(limits.maxAliases),
    costLimitRuleFor(limits.maxCost),
    directivesLimitRule(limits.maxDirectives),
  ];
}

export function limitParseOptions(limits: OperationLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/** The character-limit message (graphql-armor character-limit's wording). */
export function characterLimitError(limits: OperationLimits, length: number): GraphQLError {
  return new GraphQLError(
    `Query exceeds the maximum allowed length of ${limits.maxCharacters}, found ${length}.`,
    { extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' } },
  );
}

/**
 * Express middleware (after the body parser, before Apollo): a query text over the character
 * limit is answered 400 before parsing. graphql-armor's `ApolloServerCharacterLimitPlugin` throws
 * from `requestDidStart`, which Apollo Server 5 turns into an HTTP 500.
 */
export function characterLimitMiddleware(limits: OperationLimits) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const body = req.body as { query?: unknown } | undefined;
    const query = typeof body?.query === 'string' ? body.query : req.query?.query;
    if (typeof query === 'string' && query.length > limits.maxCharacters) {
      res.status(400).json({ errors: [characterLimitError(limits, query.length).toJSON()] });
      return;
    }
    next();
  };
}

export type PreparedOperation = { document: DocumentNode } | { errors: GraphQLError[] };

/**
 * For graphql-ws (which otherwise parses with no token limit and validates with the specified
 * rules only): character limit, parse with the token limit, validate with every limit rule.
 * Results are cached per query text (as Apollo's document store does), so repeated subscriptions
 * cost one Map lookup.
 */
export function operationPreparer(
  schema: GraphQLSchema,
  limits: OperationLimits,
  mapErrors: (errors: readonly GraphQLError[]) => GraphQLError[] = e => [...e],
  extraRules: readonly ValidationRule[] = [],
  cacheSize = 500,
): (query: unknown) => PreparedOperation {
  const rules = [...specifiedRules, ...limitRules(limits), ...extraRules];
  const cache = new Map<string, PreparedOperation>();
  const prepare = (query: string): PreparedOperation => {
    if (query.length > limits.maxCharacters) {
      return { errors: [characterLimitError(limits, query.length)] };
    }
    let document: DocumentNode;
    try {
      document = parse(query, limitParseOptions(limits));
    } catch (e) {
      if (e instanceof GraphQLError) {
        return { errors: [e] };
      }
      throw e;
    }
    const errors = validate(schema, document, rules);
    return errors.length > 0 ? { errors: mapErrors(errors) } : { document };
  };
  return query => {
    if (typeof query !== 'string' || query.length === 0) {
      return { errors: [new GraphQLError('Operation has no query text')] };
    }
    let hit = cache.get(query);
    if (hit === undefined) {
      hit = prepare(query);
      if (cache.size >= cacheSize) {
        cache.delete(cache.keys().next().value!); // oldest first (Map keeps insertion order)
      }
      cache.set(query, hit);
    }
    return hit;
  };
}

const WRAPPED = Symbol('pageSizeChecked');

/**
 * Wraps every connection field (return type `…Connection` with a `first` / `last` argument) so
 * the page size is checked before its resolver runs: 1..max, BAD_USER_INPUT naming the field.
 * Returns the wrapped field coordinates (the tests assert every connection is covered).
 */
export function enforcePageSize(schema: GraphQLSchema, max = MAX_PAGE_SIZE): string[] {
  const wrapped: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) {
      continue;
    }
    for (const field of Object.values(type.getFields())) {
      const names = field.args.map(a => a.name).filter(n => n === 'first' || n === 'last');
      if (names.length === 0 || !isConnection(getNamedType(field.type).name)) {
        continue;
      }
      wrapped.push(`${type.name}.${field.name}`);
      const resolve = field.resolve ?? defaultFieldResolver;
      if ((resolve as { [WRAPPED]?: boolean })[WRAPPED]) {
        continue;
      }
      const checked: typeof resolve = (source, args: Record<string, unknown>, ctx, info) => {
        for (const name of names) {
          const n = args[name];
          if (n !== undefined && n !== null && (!Number.isInteger(n) || +n < 1 || +n > max)) {
            throw AppError.badInput(`${name} must be between 1 and ${max}`, name);
          }
        }
        return resolve(source, args, ctx, info);
      };
      (checked as { [WRAPPED]?: boolean })[WRAPPED] = true;
      field.resolve = checked;
    }
  }
  return wrapped;
}
