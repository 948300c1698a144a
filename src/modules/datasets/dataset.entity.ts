import { randomUUID } from 'node:crypto';
import {
  BigIntType,
  Entity,
  Enum,
  Filter,
  Index,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity.js';
import {
  DatasetStatus,
  DataType,
  type FailureRecord,
  type OutcomeSummaryRecord,
  type ParseOptionsRecord,
} from './dataset.model.js';

/** Name of the default filter hiding soft-deleted datasets; admins' listings disable it. */
export const NOT_DELETED = 'notDeleted';

/**
 * An uploaded dataset. The original upload and the parsed binary matrix live in object storage
 * under `datasets/<id>/`; this row holds what the API lists and filters on.
 *
 * Soft delete: `deletedAt` is set and the default `notDeleted` filter hides the row from every
 * query (including other modules' direct lookups); the objects are purged later.
 * `featureNames` / `sampleIds` can hold hundreds of thousands of strings, so they are lazy: only
 * loaded when a resolver asks for them.
 */
@Entity({ tableName: 'datasets' })
@Filter({ name: NOT_DELETED, cond: { deletedAt: null }, default: true })
@Index({ properties: ['owner', 'createdAt', 'id'] })
@Index({ properties: ['createdAt', 'id'] })
export class DatasetEntity {
  [OptionalProps]?: 'status' | 'metadata' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  owner: Ref<User>;

  @Property({ length: 200 })
  name: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Enum({ items: () => DataType })
  dataType: DataType;

  @Enum({ items: () => DatasetStatus })
  status: DatasetStatus = DatasetStatus.UPLOADING;

  @Property({ type: 'text', nullable: true })
  failureReason?: string | null;

  @Property({ type: 'json', nullable: true })
  failure?: FailureRecord | null;

  /** Free user metadata (JSON object). */
  @Property({ type: 'json' })
  metadata: Record<string, unknown> = {};

  @Property({ type: 'json' })
  parseOptions: ParseOptionsRecord;

  /** Display only (sanitised); storage keys never use it. */
  @Property({ length: 255, nullable: true })
  originalFilename?: string;

  @Property({ type: 'int', nullable: true })
  sampleCount?: number;

  @Property({ type: 'int', nullable: true })
  featureCount?: number;

  @Property({ type: 'json', nullable: true, lazy: true })
  featureNames?: string[];

  @Property({ type: 'json', nullable: true, lazy: true })
  sampleIds?: string[];

  @Property({ type: 'json', nullable: true })
  outcome?: OutcomeSummaryRecord;

  @Property({ type: 'int', nullable: true })
  missingCount?: number;

  /** Hex SHA-256 of the upload as stored (compressed bytes for .gz). */
  @Property({ length: 64, nullable: true })
  sha256?: string;

  @Property({ type: new BigIntType('number'), nullable: true })
  sizeBytes?: number;

  @Property({ type: 'boolean', nullable: true })
  gzip?: boolean;

  @Property({ length: 255 })
  uploadKey: string;

  @Property({ length: 255 })
  matrixKey: string;

  /** Hex SHA-256 of the matrix object: the loader re-verifies it (corruption is not retryable). */
  @Property({ length: 64, nullable: true })
  matrixSha256?: string;

  @Property({ type: new BigIntType('number'), nullable: true })
  matrixSizeBytes?: number;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  @Index()
  deletedAt?: Date | null;
}
