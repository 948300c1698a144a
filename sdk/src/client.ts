/**
 * The OmicSelector client: typed GraphQL over HTTP (fetch) and WebSocket (graphql-ws), with
 * access-token refresh, uploads and small helpers per area.
 *
 *   const client = createClient({ url: 'http://localhost:4000/graphql' });
 *   await client.auth.login('ada@example.org', 'correct horse battery');
 *   const ds = await client.datasets.upload('./tumor-normal.csv', { name: 'lung', outcome: … });
 *   const job = await client.jobs.submit({ type: 'FEATURE_SELECTION', datasetId: ds.id, config });
 *   for await (const e of client.jobs.watch(job.id)) console.log(e.status, e.progress);
 *
 * Every operation of schema/operations/*.graphql is also available typed:
 *   const { jobs } = await client.request(JobsDocument, { first: 10 });
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import {
  CancelJobDocument,
  CompleteDatasetUploadDocument,
  DatasetDocument,
  DatasetNamesDocument,
  DatasetPreviewDocument,
  DatasetsDocument,
  DeleteDatasetDocument,
  JobArtifactsDocument,
  JobDocument,
  JobResultFeaturesDocument,
  JobResultFoldsDocument,
  JobResultPredictionsDocument,
  JobResultsDocument,
  JobEventsDocument,
  JobsDocument,
  JobUpdatesDocument,
  JobWithResultDocument,
  RequestDatasetUploadDocument,
  RetryJobDocument,
  SdkApiKeysDocument,
  SdkCreateApiKeyDocument,
  SdkLoginDocument,
  SdkLogoutDocument,
  SdkMeDocument,
  SdkRefreshTokenDocument,
  SdkRegisterDocument,
  SdkRevokeApiKeyDocument,
  SubmitJobDocument,
  UploadDatasetDocument,
  type DatasetFieldsFragment,
  type DatasetPreviewQueryVariables,
  type DatasetsQueryVariables,
  type DatasetUploadInput,
  type JobEventFieldsFragment,
  type ArtifactFieldsFragment,
  type ArtifactKind,
  type FeatureScoreFieldsFragment,
  type FoldFieldsFragment,
  type PredictionRowFieldsFragment,
  type JobFieldsFragment,
  type JobResultsQuery,
  type JobResultsQueryVariables,
  type JobsQueryVariables,
  type JobWithResultQuery,
  type RegisterInput,
  type SdkAuthFieldsFragment,
  type SubmitJobInput,
} from '../generated/graphql.js';
import { OmicSelectorError } from './errors.js';
import { allPages, PAGE_SIZE } from './paging.js';
import { postGraphQL, type FetchLike } from './http.js';
import { Session, type Tokens, type TokenStore } from './session.js';
import { Subscriptions } from './subscriptions.js';

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql (a bare origin gets /graphql). */
  url: string;
  /** An access token (JWT). With `refreshToken` it is renewed when it expires. */
  token?: string;
  /** A refresh token: exchanged for an access token on first use, then rotated. */
  refreshToken?: string;
  /** A saved token set (as handed to `onTokens`), expiry included; instead of token/refreshToken. */
  tokens?: Tokens;
  /** An API key (`osk_…`): for automation; cannot manage keys or sessions. */
  apiKey?: string;
  /** Keeps tokens between processes and picks up tokens rotated by another process. */
  tokenStore?: TokenStore;
  /** Called whenever the tokens change (login, refresh, logout). */
  onTokens?: (tokens: Tokens | undefined) => void;
  /** Custom fetch (default: the global one). */
  fetch?: FetchLike;
  /** WebSocket constructor for subscriptions (default: global WebSocket, else the `ws` package). */
  webSocketImpl?: unknown;
  /** Extra headers on every HTTP request. */
  headers?: Record<string, string>;
  /** Files at least this big go through the presigned upload flow (default 64 MiB). */
  presignedThresholdBytes?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Send no credential (login, register). */
  anonymous?: boolean;
}

/** Variables are optional exactly when the operation has no required variable. */
type VariablesArgs<V> =
  Record<never, never> extends V
    ? [variables?: V, options?: RequestOptions]
    : [variables: V, options?: RequestOptions];

export type Job = JobFieldsFragment;
export type JobWithResult = JobWithResultQuery['job'];
export type JobResults = JobResultsQuery['job'];
export type Artifact = ArtifactFieldsFragment;
export type JobEvent = JobEventFieldsFragment;
export type FeatureScore = FeatureScoreFieldsFragment;
export type FoldRow = FoldFieldsFragment;
export type PredictionRow = PredictionRowFieldsFragment;

/** The server's largest `jobEvents(first)` page. */
const EVENT_PAGE = 100;
export type Dataset = DatasetFieldsFragment;
export type AuthPayload = SdkAuthFieldsFragment;

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export interface UploadOptions {
  /** Force (true) or forbid (false) the presigned flow; default: by size. */
  presigned?: boolean;
  /** File name sent to the server (default: the path's base name or the File's name). */
  filename?: string;
  signal?: AbortSignal;
}

/** The HTTP and WebSocket endpoints for a server URL (a bare origin gets `/graphql`). */
export function endpointUrls(url: string): { http: string; ws: string } {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/graphql';
  const http = u.toString();
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http, ws: u.toString() };
}

function operationName(doc: DocumentNode): string | undefined {
  const op = doc.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition',
  );
  return op?.name?.value;
}

function tokensOf(p: SdkAuthFieldsFragment): Tokens {
  return {
    accessToken: p.accessToken,
    accessTokenExpiresAt: p.accessTokenExpiresAt,
    refreshToken: p.refreshToken,
    refreshTokenExpiresAt: p.refreshTokenExpiresAt,
  };
}

async function fileBlob(file: Blob | string): Promise<{ blob: Blob; name: string | undefined }> {
  if (typeof file !== 'string') {
    const name = (file as Blob & { name?: string }).name;
    return { blob: file, name };
  }
  // Node only: a file-backed Blob, streamed from disk rather than read into memory.
  const { openAsBlob } = await import('node:fs');
  const { basename } = await import('node:path');
  return { blob: await openAsBlob(file), name: basename(file) };
}

export function createClient(options: ClientOptions) {
  const urls = endpointUrls(options.url);
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const printed = new WeakMap<DocumentNode, string>();
  const source = (doc: DocumentNode) => {
    let s = printed.get(doc);
    if (s === undefined) printed.set(doc, (s = print(doc)));
    return s;
  };

  const refresher = async (refreshToken: string): Promise<Tokens> => {
    const data = await execute(SdkRefreshTokenDocument, { refreshToken }, { anonymous: true });
    return tokensOf(data.refreshToken);
  };
  const initial =
    options.tokens ??
    (options.token || options.refreshToken
      ? { accessToken: options.token ?? '', refreshToken: options.refreshToken }
      : undefined);
  const session = new Session(
    options.apiKey,
    initial,
    refresher,
    options.tokenStore,
    options.onTokens,
  );
  const subscriptions = new Subscriptions({
    wsUrl: urls.ws,
    session,
    webSocketImpl: options.webSocketImpl,
  });

  /** POST once; on UNAUTHENTICATED refresh (at most once) and retry. */
  async function execute<R, V>(
    doc: TypedDocumentNode<R, V>,
    variables: V | undefined,
    opts: RequestOptions = {},
  ): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const bearer = opts.anonymous ? undefined : await session.bearer();
      const res = await postGraphQL<R>({
        url: urls.http,
        query: source(doc),
        operationName: operationName(doc),
        variables: variables as Record<string, unknown> | undefined,
        headers: {
          ...options.headers,
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        fetch: doFetch,
        signal: opts.signal,
      });
      if (res.errors) {
        const err = OmicSelectorError.fromGraphQL(res.errors, {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
        });
        if (
          err.code === 'UNAUTHENTICATED' &&
          attempt === 0 &&
          !opts.anonymous &&
          !session.usesApiKey &&
          (await session.recover(bearer))
        ) {
          continue;
        }
        throw err;
      }
      if (res.data === null) {
        throw new OmicSelectorError('BAD_RESPONSE', 'The server returned no data', {
          status: res.status,
        });
      }
      return res.data;
    }
  }

  /** Any operation, typed by its document. */
  function request<R, V>(doc: TypedDocumentNode<R, V>, ...args: VariablesArgs<V>): Promise<R> {
    return execute(doc, args[0], args[1]);
  }

  /** Any subscription, typed by its document; see Subscriptions.subscribe. */
  function subscribe<R, V>(doc: TypedDocumentNode<R, V>, variables?: V): AsyncIterableIterator<R> {
    return subscriptions.subscribe<R>(source(doc), (variables ?? {}) as Record<string, unknown>);
  }

  const auth = {
    async register(input: RegisterInput): Promise<AuthPayload> {
      const { register } = await execute(SdkRegisterDocument, { input }, { anonymous: true });
      await session.set(tokensOf(register));
      return register;
    },
    /** `login` is an email or a username. */
    async login(login: string, password: string): Promise<AuthPayload> {
      const data = await execute(
        SdkLoginDocument,
        { input: { login, password } },
        { anonymous: true },
      );
      await session.set(tokensOf(data.login));
      return data.login;
    },
    /** Ends this session on the server (access and refresh token) and forgets the tokens. */
    async logout(): Promise<void> {
      const refreshToken = session.current?.refreshToken;
      try {
        await execute(SdkLogoutDocument, { refreshToken: refreshToken ?? null });
      } finally {
        await session.set(undefined);
      }
    },
    /** Rotate the token pair now. */
    refresh: () => session.refresh(),
    me: async () => (await execute(SdkMeDocument, {})).me,
    /** The current tokens (undefined with an API key or before signing in). */
    get tokens(): Tokens | undefined {
      return session.current;
    },
  };

  const apiKeys = {
    list: async () => (await execute(SdkApiKeysDocument, {})).apiKeys,
    /** The secret is in the answer only: store it now. */
    create: async (name: string, expiresInDays?: number) =>
      (await execute(SdkCreateApiKeyDocument, { input: { name, expiresInDays } })).createApiKey,
    revoke: async (id: string) => (await execute(SdkRevokeApiKeyDocument, { id })).revokeApiKey,
  };

  const datasets = {
    /**
     * Upload a CSV/TSV (optionally gzip): a path (Node) or a Blob/File. Small files go as one
     * GraphQL multipart request; big ones (or `presigned: true`) through requestDatasetUpload,
     * an HTTP PUT of the bytes and completeDatasetUpload. Resolves with the parsed dataset.
     */
    async upload(
      file: Blob | string,
      input: DatasetUploadInput,
      opts: UploadOptions = {},
    ): Promise<Dataset> {
      const { blob, name } = await fileBlob(file);
      const filename = opts.filename ?? name;
      const threshold = options.presignedThresholdBytes ?? 64 * 1024 * 1024;
      const presigned = opts.presigned ?? blob.size >= threshold;
      if (!presigned) {
        const named = filename && typeof File !== 'undefined' ? new File([blob], filename) : blob;
        const data = await execute(
          UploadDatasetDocument,
          { input, file: named },
          { signal: opts.signal },
        );
        return data.uploadDataset;
      }
      const ticket = (
        await execute(
          RequestDatasetUploadDocument,
          { input: { ...input, filename, sizeBytes: blob.size } },
          { signal: opts.signal },
        )
      ).requestDatasetUpload;
      let put: Response;
      try {
        put = await doFetch(ticket.uploadUrl, {
          method: 'PUT',
          body: blob,
          headers: { 'content-type': 'application/octet-stream' },
          signal: opts.signal,
        });
      } catch (err) {
        throw new OmicSelectorError('UPLOAD_FAILED', `Upload PUT failed: ${String(err)}`, {
          cause: err,
          extensions: { datasetId: ticket.dataset.id },
        });
      }
      if (!put.ok) {
        throw new OmicSelectorError(
          'UPLOAD_FAILED',
          `Upload PUT answered HTTP ${put.status}: ${(await put.text()).slice(0, 200)}`,
          { status: put.status, extensions: { datasetId: ticket.dataset.id } },
        );
      }
      const done = await execute(
        CompleteDatasetUploadDocument,
        { id: ticket.dataset.id },
        { signal: opts.signal },
      );
      return done.completeDatasetUpload;
    },
    get: async (id: string) => (await execute(DatasetDocument, { id })).dataset,
    list: async (variables: DatasetsQueryVariables = {}) =>
      (await execute(DatasetsDocument, variables)).datasets,
    preview: async (variables: DatasetPreviewQueryVariables) =>
      (await execute(DatasetPreviewDocument, variables)).datasetPreview,
    delete: async (id: string) => (await execute(DeleteDatasetDocument, { id })).deleteDataset,
    /**
     * Every feature name and sample id (null while not parsed): the server answers at most 100
     * per request (`limit` 1–100), so this pages on with `offset` until both lists run short.
     */
    names: async (
      id: string,
    ): Promise<{ featureNames: string[] | null; sampleIds: string[] | null }> => {
      let featureNames: string[] | null = null;
      let sampleIds: string[] | null = null;
      for (let offset = 0; ; offset += PAGE_SIZE) {
        const { dataset } = await execute(DatasetNamesDocument, { id, offset, limit: PAGE_SIZE });
        if (dataset.featureNames) (featureNames ??= []).push(...dataset.featureNames);
        if (dataset.sampleIds) (sampleIds ??= []).push(...dataset.sampleIds);
        const more =
          (dataset.featureNames?.length ?? 0) >= PAGE_SIZE ||
          (dataset.sampleIds?.length ?? 0) >= PAGE_SIZE;
        if (!more) return { featureNames, sampleIds };
      }
    },
  };

  /** A page of a result list, refusing to mix two attempts' results in one answer. */
  const sameAttempt = (jobId: string, expected: number | undefined, got: number | undefined) => {
    if (expected !== undefined && got !== undefined && got !== expected) {
      throw new OmicSelectorError(
        'RESULT_CHANGED',
        `The result of job ${jobId} changed while paging (attempt ${expected} → ${got}); fetch it again`,
      );
    }
  };
  const featurePages = (
    id: string,
    filter: { source?: string | null; selectedOnly?: boolean | null },
    attempt?: number,
    fetched?: readonly FeatureScore[],
  ) =>
    allPages(async (offset, first) => {
      const r = (await execute(JobResultFeaturesDocument, { id, first, offset, ...filter })).job
        .result;
      sameAttempt(id, attempt, r?.attempt);
      return r?.features ?? [];
    }, fetched);
  const foldPages = (
    id: string,
    filter: { signature?: string | null; model?: string | null },
    attempt?: number,
    fetched?: readonly FoldRow[],
  ) =>
    allPages(async (offset, first) => {
      const r = (await execute(JobResultFoldsDocument, { id, first, offset, ...filter })).job
        .result;
      sameAttempt(id, attempt, r?.attempt);
      return r?.folds ?? [];
    }, fetched);
  const predictionPages = (
    id: string,
    attempt?: number,
    fetched?: readonly PredictionRow[],
    total?: number,
  ) =>
    allPages(
      async (offset, first) => {
        const r = (await execute(JobResultPredictionsDocument, { id, first, offset })).job.result;
        sameAttempt(id, attempt, r?.attempt);
        return r?.predictions?.rows ?? [];
      },
      fetched,
      total,
    );

  const jobs = {
    submit: async (input: SubmitJobInput) =>
      (await execute(SubmitJobDocument, { input })).submitJob,
    get: async (id: string) => (await execute(JobDocument, { id })).job,
    /** The job with its result document (null until COMPLETED). */
    getWithResult: async (id: string) => (await execute(JobWithResultDocument, { id })).job,
    /**
     * The typed result (feature rows, folds, benchmark table, tuning, predictions page, model,
     * artifacts with download URLs); `result` is null until COMPLETED.
     */
    results: async (id: string, variables: Omit<JobResultsQueryVariables, 'id'> = {}) =>
      (await execute(JobResultsDocument, { ...variables, id })).job,
    /**
     * `results` with every row of the paged lists (features, folds, predictions): the server
     * answers at most 100 rows per list and request, so each list that came back full is paged on
     * with `offset` until a short page. `folds` can be narrowed to one signature / model.
     */
    fullResults: async (
      id: string,
      filter: { foldsSignature?: string | null; foldsModel?: string | null } = {},
    ): Promise<JobResults> => {
      const job = (
        await execute(JobResultsDocument, {
          ...filter,
          id,
          featuresFirst: PAGE_SIZE,
          foldsFirst: PAGE_SIZE,
          predictionsFirst: PAGE_SIZE,
        })
      ).job;
      const r = job.result;
      if (!r) return job;
      const features = await featurePages(id, {}, r.attempt, r.features);
      const folds = await foldPages(
        id,
        { signature: filter.foldsSignature, model: filter.foldsModel },
        r.attempt,
        r.folds,
      );
      const predictions = r.predictions && {
        ...r.predictions,
        rows: await predictionPages(id, r.attempt, r.predictions.rows, r.predictions.totalCount),
      };
      return { ...job, result: { ...r, features, folds, predictions } };
    },
    /** Every feature row of a completed job's result (optionally one source / selected only). */
    features: (id: string, filter: { source?: string; selectedOnly?: boolean } = {}) =>
      featurePages(id, filter),
    /** Every per-fold row of a completed job's result (optionally one signature / model). */
    folds: (id: string, filter: { signature?: string; model?: string } = {}) =>
      foldPages(id, filter),
    /** Every prediction row of a completed PREDICTION job (empty for other job types). */
    predictions: (id: string) => predictionPages(id),
    /** The artifacts of a completed job (optionally one kind or one name) with fresh URLs. */
    artifacts: async (
      id: string,
      filter: { kind?: ArtifactKind; name?: string } = {},
    ): Promise<Artifact[]> =>
      (await execute(JobArtifactsDocument, { id, ...filter })).job.result?.artifacts ?? [],
    /** Fetch an artifact's bytes through its presigned URL (no Authorization header is sent). */
    download: async (artifact: Pick<Artifact, 'downloadUrl' | 'key'>, signal?: AbortSignal) => {
      let res: Response;
      try {
        res = await doFetch(artifact.downloadUrl, { signal });
      } catch (err) {
        throw new OmicSelectorError('DOWNLOAD_FAILED', `Download of ${artifact.key} failed`, {
          cause: err,
        });
      }
      if (!res.ok) {
        throw new OmicSelectorError(
          'DOWNLOAD_FAILED',
          `Download of ${artifact.key} answered HTTP ${res.status}`,
          { status: res.status },
        );
      }
      return new Uint8Array(await res.arrayBuffer());
    },
    list: async (variables: JobsQueryVariables = {}) =>
      (await execute(JobsDocument, variables)).jobs,
    cancel: async (id: string) => (await execute(CancelJobDocument, { id })).cancelJob,
    retry: async (id: string) => (await execute(RetryJobDocument, { id })).retryJob,
    /**
     * The job's stored events with seq > `afterSeq`, in order — every one of them: the server
     * answers at most 100 per request (`jobEvents(first)` is 1–100), so this pages on with
     * `afterSeq` = the last seq until a short page.
     */
    events: async (jobId: string, afterSeq = 0): Promise<JobEvent[]> => {
      const all: JobEvent[] = [];
      let after = afterSeq;
      for (;;) {
        const page = (
          await execute(JobEventsDocument, { jobId, afterSeq: after, first: EVENT_PAGE })
        ).jobEvents;
        all.push(...page);
        if (page.length < EVENT_PAGE) return all;
        after = page.at(-1)!.seq;
      }
    },
    /** One page (at most `first`, 1–100) of the job's stored events with seq > `afterSeq`. */
    eventsPage: async (jobId: string, afterSeq = 0, first = EVENT_PAGE) =>
      (await execute(JobEventsDocument, { jobId, afterSeq, first })).jobEvents,
    /**
     * The job's events from `afterSeq` on (stored ones first, then live), each once and in seq
     * order, across reconnects; ends after the terminal status.
     */
    async *watch(jobId: string, afterSeq = 0): AsyncGenerator<JobEvent, void, undefined> {
      let last = afterSeq;
      for await (const { jobUpdates } of subscribe(JobUpdatesDocument, { jobId, afterSeq })) {
        if (jobUpdates.seq <= last) continue;
        last = jobUpdates.seq;
        yield jobUpdates;
      }
    },
    /** Follows the job to its end and resolves with it (result included). */
    async wait(jobId: string, onEvent?: (e: JobEvent) => void): Promise<JobWithResult> {
      for await (const e of jobs.watch(jobId)) {
        onEvent?.(e);
        if (TERMINAL_STATUSES.has(e.status)) break;
      }
      return jobs.getWithResult(jobId);
    },
  };

  return {
    url: urls.http,
    wsUrl: urls.ws,
    request,
    subscribe,
    auth,
    apiKeys,
    datasets,
    jobs,
    /** Closes the WebSocket; HTTP needs no cleanup. */
    close: () => subscriptions.close(),
  };
}

export type OmicSelectorClient = ReturnType<typeof createClient>;
