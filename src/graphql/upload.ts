/**
 * GraphQL multipart uploads (graphql-upload). Use in a resolver as
 * `@Arg('file', () => GraphQLUpload) file: Promise<FileUpload>`, then `(await file).createReadStream()`.
 * Clients must send `apollo-require-preflight: true` (CSRF prevention is on).
 */
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';

export type { FileUpload } from 'graphql-upload/processRequest.mjs';
export { GraphQLUpload, graphqlUploadExpress };
