/** Builds the executable schema from the module registry (server and scripts/emit-schema.ts). */
import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type NonEmptyArray, type PubSub } from 'type-graphql';
import { authChecker } from '../auth.js';
import { resolvers } from '../modules/index.js';

/** For SDL emission only: subscriptions are never executed against it. */
export const noPubSub: PubSub = {
  publish: () => {
    throw new Error('pub/sub is not available in this process');
  },
  subscribe: () => {
    throw new Error('pub/sub is not available in this process');
  },
};

export function buildAppSchema(pubSub: PubSub = noPubSub): Promise<GraphQLSchema> {
  if (resolvers.length === 0) {
    throw new Error('no resolvers registered in src/modules/index.ts');
  }
  return buildSchema({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    resolvers: resolvers as unknown as NonEmptyArray<Function>,
    authChecker,
    authMode: 'error',
    pubSub,
    validate: { forbidUnknownValues: false },
  });
}
