/**
 * Query depth and alias limits as graphql-js validation rules, applied to HTTP (Apollo
 * `validationRules`) and WebSocket operations (graphql-ws `validate`) alike. Fragments are expanded,
 * so hiding depth or aliases in fragments does not help; only the real root introspection fields
 * (`__schema`, `__type`) are exempt from the depth count, never fragments by name.
 */
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

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

function depthOf(
  set: SelectionSetNode | undefined,
  fragments: Fragments,
  visiting: Set<string>,
  atRoot: boolean,
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
        continue;
      }
      d = 1 + depthOf(sel.selectionSet, fragments, visiting, false, memo);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      d = depthOf(sel.selectionSet, fragments, visiting, atRoot, memo);
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
        d = depthOf(frag.selectionSet, fragments, visiting, atRoot, memo);
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

export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context);
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set(), true);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Query depth ${depth} exceeds the maximum of ${maxDepth}`, {
              nodes: [node],
            }),
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
