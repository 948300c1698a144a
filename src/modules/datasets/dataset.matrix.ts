/**
 * The parsed matrix of a dataset, for jobs and previews. Kept apart from the GraphQL-facing service
 * so worker code can import it without pulling in type-graphql.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { type Dataset } from '../../../compute/core/dataset.js';
import { AppError } from '../../errors.js';
import { log } from '../../logger.js';
import type { ObjectStorage } from '../../storage/storage.js';
import { assertIdOrNotFound } from '../../util/ids.js';
import { DatasetEntity } from './dataset.entity.js';
import { DatasetStatus } from './dataset.model.js';
import { MatrixIntegrityError, readDatasetMatrix } from './dataset.storage.js';

/** Reads a READY dataset's matrix; BAD_USER_INPUT when it is not READY. */
export async function matrixOf(storage: ObjectStorage, ds: DatasetEntity): Promise<Dataset> {
  if (ds.status !== DatasetStatus.READY) {
    throw AppError.badInput(`dataset ${ds.id} is not ready (status ${ds.status})`);
  }
  if (!ds.matrixSizeBytes) throw AppError.internal(`dataset ${ds.id} has no matrix recorded`);
  try {
    return await readDatasetMatrix(storage, {
      key: ds.matrixKey,
      sizeBytes: ds.matrixSizeBytes,
      sha256: ds.matrixSha256,
    });
  } catch (e) {
    if (e instanceof MatrixIntegrityError)
      log.error('dataset matrix is corrupt', { datasetId: ds.id });
    throw e;
  }
}

/**
 * The parsed matrix of a READY dataset owned by `userId` (jobs call this). A missing, deleted or
 * foreign dataset is NOT_FOUND (same as everywhere else); a dataset that is not READY is
 * BAD_USER_INPUT; a corrupt matrix throws `MatrixIntegrityError` (do not retry).
 */
export async function loadDatasetMatrix(
  ctx: { em: EntityManager; storage: ObjectStorage },
  datasetId: string,
  userId: string,
): Promise<Dataset> {
  assertIdOrNotFound(datasetId, 'Dataset');
  const ds = await ctx.em.findOne(DatasetEntity, { id: datasetId, owner: userId });
  if (!ds) throw AppError.notFound('Dataset', datasetId);
  return matrixOf(ctx.storage, ds);
}
