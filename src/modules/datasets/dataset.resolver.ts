import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { requireUser } from '../../auth.js';
import type { Context } from '../../context.js';
import { AppError } from '../../errors.js';
import { type FileUpload, GraphQLUpload } from '../../graphql/upload.js';
import { log } from '../../logger.js';
import { Role } from '../accounts/role.js';
import {
  checkDatasetsArgs,
  DatasetPreviewArgs,
  DatasetsArgs,
  DatasetUploadInput,
  RequestDatasetUploadInput,
  toParseOptions,
  UpdateDatasetInput,
} from './dataset.input.js';
import {
  type Actor,
  completeDatasetUpload,
  type DatasetDeps,
  deleteDataset,
  findVisible,
  listDatasets,
  previewDataset,
  requestDatasetUpload,
  updateDataset,
  uploadDataset,
} from './dataset.service.js';
import { DatasetEntity } from './dataset.entity.js';
import { bumpDatasetsVersion, DatasetPageCache } from './dataset.version.js';
import {
  DatasetConnection,
  DatasetPreview,
  DatasetType,
  DatasetUploadTicket,
} from './dataset.types.js';

/** Names per `featureNames` / `sampleIds` page (the API-wide rule: no list over 100; page with offset). */
const MAX_NAMES = 100;

function deps(ctx: Context): DatasetDeps {
  return {
    em: ctx.em,
    storage: ctx.app.storage,
    maxUploadBytes: ctx.app.config.maxUploadBytes,
    presignTtlSeconds: ctx.app.config.presignTtlSeconds,
    quotas: ctx.app.config.quotas,
    changed: ownerId =>
      bumpDatasetsVersion(ctx.app.redis, ownerId).catch(err =>
        // The write is committed: report it as done. Cached pages then expire by their TTL.
        log.warn('could not bump the datasets version', { ownerId, error: String(err) }),
      ),
  };
}

/** One list-page cache per running app (tests run several apps in one process). */
const pageCaches = new WeakMap<Context['app'], DatasetPageCache<DatasetConnection>>();

function pageCache(ctx: Context): DatasetPageCache<DatasetConnection> {
  let cache = pageCaches.get(ctx.app);
  if (!cache) pageCaches.set(ctx.app, (cache = new DatasetPageCache()));
  return cache;
}

/** Approximate bytes of a page (for the cache's memory bound). */
const pageBytes = (page: DatasetConnection) => JSON.stringify(page.edges).length;

function actor(ctx: Context): Actor {
  const user = requireUser(ctx);
  return { id: user.id, role: user.role };
}

@Resolver(() => DatasetType)
export class DatasetResolver {
  @Mutation(() => DatasetType, {
    description:
      'Upload a CSV/TSV (optionally gzip) file as a GraphQL multipart request and parse it. ' +
      'A file that cannot be parsed leaves a FAILED dataset and returns BAD_USER_INPUT with line and column.',
  })
  async uploadDataset(
    @Arg('input') input: DatasetUploadInput,
    @Arg('file', () => GraphQLUpload) file: Promise<FileUpload>,
    @Ctx() ctx: Context,
  ): Promise<DatasetType> {
    const who = actor(ctx);
    const parseOptions = toParseOptions(input);
    const upload = await file;
    const ds = await uploadDataset(
      deps(ctx),
      who,
      { ...input, parseOptions, filename: upload.filename },
      () => {
        const stream = upload.createReadStream();
        // graphql-upload destroys this stream with a 413 when the file passes its own size cap,
        // possibly after our size-capped copy already stopped listening: without a listener of
        // its own that late 'error' would be unhandled and take the process down. The copy's
        // pipeline still sees every error while it runs.
        stream.on('error', () => undefined);
        return stream;
      },
    );
    return DatasetType.from(ds);
  }

  @Mutation(() => DatasetUploadTicket, {
    description: 'Presigned flow for big files: returns a short-lived PUT URL for the file body',
  })
  async requestDatasetUpload(
    @Arg('input') input: RequestDatasetUploadInput,
    @Ctx() ctx: Context,
  ): Promise<DatasetUploadTicket> {
    const who = actor(ctx);
    const ticket = await requestDatasetUpload(deps(ctx), who, {
      ...input,
      parseOptions: toParseOptions(input),
    });
    return Object.assign(new DatasetUploadTicket(), {
      dataset: DatasetType.from(ticket.dataset),
      uploadUrl: ticket.uploadUrl,
      expiresAt: ticket.expiresAt,
    });
  }

  @Mutation(() => DatasetType, { description: 'After the PUT: parse the uploaded file' })
  async completeDatasetUpload(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<DatasetType> {
    return DatasetType.from(await completeDatasetUpload(deps(ctx), actor(ctx), id));
  }

  @Query(() => DatasetType, {
    description: 'NOT_FOUND for missing ids and for other users’ datasets',
  })
  async dataset(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<DatasetType> {
    return DatasetType.from(await findVisible(ctx, actor(ctx), id, { includeDeleted: true }));
  }

  @Query(() => DatasetConnection, {
    description: 'Your datasets (admins: everyone’s), newest first',
  })
  async datasets(
    // Validated by hand (checkDatasetsArgs): class-validator was ~3 % of a list request's CPU.
    @Args({ validate: false }) args: DatasetsArgs,
    @Ctx() ctx: Context,
  ): Promise<DatasetConnection> {
    checkDatasetsArgs(args);
    const who = actor(ctx);
    // A read-only query on a pooled connection: the app's entity manager is enough (no request
    // identity map, so no per-request fork for it).
    const read = async () => {
      const page = await listDatasets({ em: ctx.app.orm.em }, who, args);
      return Object.assign(new DatasetConnection(), {
        edges: page.nodes.map((ds, i) => ({
          cursor: page.cursors[i]!,
          node: DatasetType.from(ds),
        })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
        totalCount: page.totalCount,
      });
    };
    // The caller's own rows at the datasets version this request read (see dataset.version.ts):
    // served from this process's copy when it was read at the same version. Admins' lists span
    // users, so they are always read.
    const version = ctx.auth?.datasetsVersion;
    if (!version || who.role === Role.ADMIN || !ctx.app.config.datasetsListCache) return read();
    const f = args.filter;
    const key = [
      who.id,
      args.first,
      args.after ?? '',
      f?.status ?? '',
      f?.dataType ?? '',
      f?.search ?? '',
      f?.includeDeleted ? 1 : 0,
      f?.ownerId ?? '',
    ].join('\n');
    return pageCache(ctx).get(key, version, read, pageBytes);
  }

  @Query(() => DatasetPreview, { description: 'A window of a READY dataset’s parsed matrix' })
  async datasetPreview(
    @Args() args: DatasetPreviewArgs,
    @Ctx() ctx: Context,
  ): Promise<DatasetPreview> {
    const p = await previewDataset(deps(ctx), actor(ctx), args.id, args);
    return Object.assign(new DatasetPreview(), p);
  }

  @Mutation(() => DatasetType)
  async updateDataset(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateDatasetInput,
    @Ctx() ctx: Context,
  ): Promise<DatasetType> {
    return DatasetType.from(await updateDataset(deps(ctx), actor(ctx), id, input));
  }

  @Mutation(() => DatasetType, {
    description: 'Soft delete: hidden at once, stored files are purged later',
  })
  async deleteDataset(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<DatasetType> {
    return DatasetType.from(await deleteDataset(deps(ctx), actor(ctx), id));
  }

  @FieldResolver(() => [String], {
    nullable: true,
    description: `Feature (column) names in file order; paged: limit 1–${MAX_NAMES} (default ${MAX_NAMES}), offset`,
  })
  async featureNames(
    @Root() root: DatasetType,
    @Ctx() ctx: Context,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset: number,
    @Arg('limit', () => Int, { defaultValue: MAX_NAMES }) limit: number,
  ): Promise<string[] | null> {
    const entity = await managedRow(ctx, root);
    await ctx.em.populate(entity, ['featureNames']);
    return window(entity.featureNames, offset, limit);
  }

  @FieldResolver(() => [String], {
    nullable: true,
    description: `Sample ids in file order; paged: limit 1–${MAX_NAMES} (default ${MAX_NAMES}), offset`,
  })
  async sampleIds(
    @Root() root: DatasetType,
    @Ctx() ctx: Context,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset: number,
    @Arg('limit', () => Int, { defaultValue: MAX_NAMES }) limit: number,
  ): Promise<string[] | null> {
    const entity = await managedRow(ctx, root);
    await ctx.em.populate(entity, ['sampleIds']);
    return window(entity.sampleIds, offset, limit);
  }
}

/** The entity behind a `DatasetType` (list pages carry plain rows: load it, deleted or not). */
async function managedRow(ctx: Context, root: DatasetType): Promise<DatasetEntity> {
  return (
    root.entity ?? (await ctx.em.findOneOrFail(DatasetEntity, { id: root.id }, { filters: false }))
  );
}

function window(
  names: string[] | null | undefined,
  offset: number,
  limit: number,
): string[] | null {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_NAMES) {
    throw AppError.badInput(`limit must be between 1 and ${MAX_NAMES}`, 'limit');
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw AppError.badInput('offset must be 0 or more', 'offset');
  }
  return names ? names.slice(offset, offset + limit) : null;
}
