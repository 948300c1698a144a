/**
 * One GraphQL request over HTTP. Variables holding a Blob (or File) are sent as a GraphQL
 * multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec) with the
 * `apollo-require-preflight` header the server's CSRF protection asks for; anything else is JSON.
 */
import { OmicSelectorError, type GraphQLErrorLike } from './errors.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface GraphQLResponse<T> {
  data: T | null;
  errors: GraphQLErrorLike[] | undefined;
  status: number;
  headers: Headers;
}

export interface HttpRequest {
  url: string;
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  headers: Record<string, string>;
  fetch: FetchLike;
  signal?: AbortSignal;
}

/** Replaces every Blob in `value` by null and returns the copy plus the blobs with their paths. */
export function extractFiles(
  value: unknown,
  path = 'variables',
): { clone: unknown; files: Array<{ path: string; blob: Blob }> } {
  const files: Array<{ path: string; blob: Blob }> = [];
  const walk = (v: unknown, p: string): unknown => {
    if (typeof Blob !== 'undefined' && v instanceof Blob) {
      files.push({ path: p, blob: v });
      return null;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${p}.${i}`));
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${p}.${k}`)]));
    }
    return v;
  };
  return { clone: walk(value, path), files };
}

function fileName(blob: Blob): string {
  const name = (blob as Blob & { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : 'upload';
}

export async function postGraphQL<T>(req: HttpRequest): Promise<GraphQLResponse<T>> {
  const { clone, files } = extractFiles(req.variables ?? {});
  const operation = { query: req.query, operationName: req.operationName, variables: clone };
  let init: RequestInit;
  if (files.length === 0) {
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...req.headers },
      body: JSON.stringify(operation),
    };
  } else {
    const form = new FormData();
    form.append('operations', JSON.stringify(operation));
    form.append('map', JSON.stringify(Object.fromEntries(files.map((f, i) => [i, [f.path]]))));
    files.forEach((f, i) => form.append(String(i), f.blob, fileName(f.blob)));
    // No content-type: fetch sets multipart/form-data with its boundary.
    init = {
      method: 'POST',
      headers: { 'apollo-require-preflight': 'true', accept: 'application/json', ...req.headers },
      body: form,
    };
  }
  let res: Response;
  try {
    res = await req.fetch(req.url, { ...init, signal: req.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new OmicSelectorError(
      'NETWORK_ERROR',
      `Cannot reach ${req.url}: ${(err as Error).cause ?? (err as Error).message}`,
      { cause: err },
    );
  }
  const text = await res.text();
  let body: { data?: T | null; errors?: GraphQLErrorLike[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new OmicSelectorError(
      res.ok ? 'BAD_RESPONSE' : 'HTTP_ERROR',
      `HTTP ${res.status} from ${req.url} is not a GraphQL response: ${text.slice(0, 200)}`,
      { status: res.status },
    );
  }
  if (body === null || typeof body !== 'object' || (!('data' in body) && !body.errors)) {
    throw new OmicSelectorError('BAD_RESPONSE', `HTTP ${res.status}: no data and no errors`, {
      status: res.status,
    });
  }
  return {
    data: body.data ?? null,
    errors: body.errors?.length ? body.errors : undefined,
    status: res.status,
    headers: res.headers,
  };
}
