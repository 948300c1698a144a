/**
 * Typed job results and artifacts through GraphQL with the s3 storage backend: real jobs on a
 * real worker process; the assertions are in results-scenario.ts.
 */
import 'reflect-metadata';
import { resultsScenario } from './results-scenario';

jest.setTimeout(240_000);

describe('typed results and artifacts (s3 storage)', () => {
  resultsScenario('s3');
});
