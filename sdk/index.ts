/**
 * OmicSelector TypeScript SDK: `createClient` plus every generated operation document and type.
 * Schema types (full object shapes) are under `Schema`.
 */
export * from './generated/graphql.js';
export type * as Schema from './generated/schema.js';
export {
  createClient,
  endpointUrls,
  TERMINAL_STATUSES,
  type Artifact,
  type AuthPayload,
  type ClientOptions,
  type Dataset,
  type FeatureScore,
  type FoldRow,
  type Job,
  type JobEvent,
  type JobResults,
  type JobWithResult,
  type OmicSelectorClient,
  type PredictionRow,
  type RequestOptions,
  type UploadOptions,
} from './src/client.js';
export { isOmicSelectorError, OmicSelectorError, type GraphQLErrorLike } from './src/errors.js';
export { allPages, PAGE_SIZE } from './src/paging.js';
export { jwtExpiry, type Tokens, type TokenStore } from './src/session.js';
