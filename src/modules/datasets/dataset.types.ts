import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../graphql/connection.js';
import { DatasetEntity } from './dataset.entity.js';
import {
  DatasetStatus,
  DataType,
  OutcomeKindName,
  type OutcomeSummaryRecord,
} from './dataset.model.js';

registerEnumType(DatasetStatus, {
  name: 'DatasetStatus',
  valuesConfig: {
    UPLOADING: { description: 'Waiting for (or receiving) the file' },
    PROCESSING: { description: 'The file is being parsed' },
    READY: { description: 'Parsed; usable by jobs' },
    FAILED: { description: 'Upload or parsing failed; see failureReason' },
  },
});
registerEnumType(DataType, { name: 'DataType' });
registerEnumType(OutcomeKindName, {
  name: 'OutcomeKind',
  valuesConfig: {
    NONE: { description: 'No outcome (unsupervised methods only)' },
    BINARY: { description: 'Two classes; needs column and positiveClass' },
    MULTICLASS: { description: 'Three or more classes; needs column' },
    CONTINUOUS: { description: 'A numeric outcome; needs column' },
    SURVIVAL: {
      description: 'Time to event; needs timeColumn and eventColumn (1 = event, 0 = censored)',
    },
  },
});

@ObjectType({ description: 'Where parsing failed' })
export class DatasetFailure {
  @Field({ description: 'Machine-readable reason, e.g. NON_NUMERIC, RAGGED_ROW, DUPLICATE_COLUMN' })
  code: string;

  @Field(() => Int, { nullable: true, description: '1-based line of the (decompressed) file' })
  line: number | null;

  @Field(() => Int, { nullable: true, description: '1-based column' })
  column: number | null;

  @Field(() => String, { nullable: true })
  columnName: string | null;
}

@ObjectType()
export class ClassCount {
  @Field()
  label: string;

  @Field(() => Int)
  count: number;
}

@ObjectType({ description: 'The outcome columns and a summary of their values' })
export class DatasetOutcome {
  @Field(() => OutcomeKindName)
  kind: OutcomeKindName;

  @Field(() => String, { nullable: true, description: 'BINARY, MULTICLASS, CONTINUOUS' })
  column: string | null;

  @Field(() => String, { nullable: true, description: 'BINARY' })
  positiveClass: string | null;

  @Field(() => [String], {
    nullable: true,
    description: 'BINARY: [negative, positive]; MULTICLASS: sorted',
  })
  classes: string[] | null;

  @Field(() => [ClassCount], { nullable: true })
  classCounts: ClassCount[] | null;

  @Field(() => Float, { nullable: true, description: 'CONTINUOUS' })
  mean: number | null;

  @Field(() => Float, { nullable: true, description: 'CONTINUOUS: sample standard deviation' })
  sd: number | null;

  @Field(() => Float, { nullable: true })
  min: number | null;

  @Field(() => Float, { nullable: true })
  max: number | null;

  @Field(() => String, { nullable: true, description: 'SURVIVAL' })
  timeColumn: string | null;

  @Field(() => String, { nullable: true, description: 'SURVIVAL' })
  eventColumn: string | null;

  @Field(() => Int, { nullable: true, description: 'SURVIVAL: observed events' })
  events: number | null;

  @Field(() => Int, { nullable: true, description: 'SURVIVAL: censored samples' })
  censored: number | null;

  @Field(() => Float, { nullable: true })
  medianTime: number | null;

  static from(o: OutcomeSummaryRecord): DatasetOutcome {
    const out = Object.assign(new DatasetOutcome(), {
      kind: o.kind.toUpperCase() as OutcomeKindName,
      column: null,
      positiveClass: null,
      classes: null,
      classCounts: null,
      mean: null,
      sd: null,
      min: null,
      max: null,
      timeColumn: null,
      eventColumn: null,
      events: null,
      censored: null,
      medianTime: null,
    });
    switch (o.kind) {
      case 'binary':
        return Object.assign(out, {
          column: o.column,
          positiveClass: o.positiveClass,
          classes: o.classes,
          classCounts: o.classCounts,
        });
      case 'multiclass':
        return Object.assign(out, {
          column: o.column,
          classes: o.classes,
          classCounts: o.classCounts,
        });
      case 'continuous':
        return Object.assign(out, {
          column: o.column,
          mean: o.mean,
          sd: o.sd,
          min: o.min,
          max: o.max,
        });
      case 'survival':
        return Object.assign(out, {
          timeColumn: o.timeColumn,
          eventColumn: o.eventColumn,
          events: o.events,
          censored: o.censored,
          min: o.minTime,
          max: o.maxTime,
          medianTime: o.medianTime,
        });
      default:
        return out;
    }
  }
}

/**
 * A dataset row as the list query reads it (no lazy name columns, no entity hydration): what
 * `DatasetType.from` needs, with the owner as its id.
 */
export type DatasetRow = Omit<DatasetEntity, 'owner' | 'featureNames' | 'sampleIds'> & {
  owner: { id: string };
};

// `simpleResolvers`: plain property reads use graphql-js's default resolver instead of a
// type-graphql wrapper per field (no middlewares or @Authorized on these fields; @FieldResolver
// fields keep theirs). A listed page resolves ~80 such fields per request.
@ObjectType('Dataset', { simpleResolvers: true })
export class DatasetType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  ownerId: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => DataType)
  dataType: DataType;

  @Field(() => DatasetStatus)
  status: DatasetStatus;

  @Field(() => String, { nullable: true, description: 'Why the dataset is FAILED' })
  failureReason: string | null;

  @Field(() => DatasetFailure, { nullable: true, description: 'Where parsing failed' })
  failure: DatasetFailure | null;

  @Field(() => GraphQLJSONObject)
  metadata: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'Display only' })
  originalFilename: string | null;

  @Field(() => Int, { nullable: true })
  sampleCount: number | null;

  @Field(() => Int, { nullable: true })
  featureCount: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Missing feature values (NA, NaN or empty cells)',
  })
  missingCount: number | null;

  @Field(() => DatasetOutcome, { nullable: true })
  outcome: DatasetOutcome | null;

  @Field(() => String, {
    nullable: true,
    description: 'Hex SHA-256 of the uploaded bytes (compressed, for .gz)',
  })
  sha256: string | null;

  @Field(() => Float, { nullable: true, description: 'Upload size in bytes' })
  sizeBytes: number | null;

  @Field(() => Boolean, { nullable: true })
  gzip: boolean | null;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  @Field(() => Date, { nullable: true, description: 'Set when deleted (visible to admins only)' })
  deletedAt: Date | null;

  /**
   * The managed row, for field resolvers that load lazy columns. Not a GraphQL field. Absent for
   * list pages read as plain rows (`DatasetRow`): those resolvers load the entity by id.
   */
  entity?: DatasetEntity;

  static from(ds: DatasetEntity | DatasetRow): DatasetType {
    return Object.assign(new DatasetType(), {
      id: ds.id,
      ownerId: ds.owner.id,
      name: ds.name,
      description: ds.description ?? null,
      dataType: ds.dataType,
      status: ds.status,
      failureReason: ds.failureReason ?? null,
      failure: ds.failure
        ? Object.assign(new DatasetFailure(), {
            code: ds.failure.code,
            line: ds.failure.line,
            column: ds.failure.column,
            columnName: ds.failure.columnName ?? null,
          })
        : null,
      metadata: ds.metadata ?? {},
      originalFilename: ds.originalFilename ?? null,
      sampleCount: ds.sampleCount ?? null,
      featureCount: ds.featureCount ?? null,
      missingCount: ds.missingCount ?? null,
      outcome: ds.outcome ? DatasetOutcome.from(ds.outcome) : null,
      sha256: ds.sha256 ?? null,
      sizeBytes: ds.sizeBytes ?? null,
      gzip: ds.gzip ?? null,
      createdAt: ds.createdAt,
      updatedAt: ds.updatedAt,
      deletedAt: ds.deletedAt ?? null,
      entity: ds instanceof DatasetEntity ? ds : undefined,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class DatasetEdge {
  @Field()
  cursor: string;

  @Field(() => DatasetType)
  node: DatasetType;
}

@ObjectType({ simpleResolvers: true })
export class DatasetConnection {
  @Field(() => [DatasetEdge])
  edges: DatasetEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}

@ObjectType({
  description: 'Presigned flow: PUT the file body to uploadUrl, then call completeDatasetUpload',
})
export class DatasetUploadTicket {
  @Field(() => DatasetType)
  dataset: DatasetType;

  @Field({ description: 'Send the raw file bytes with HTTP PUT before expiresAt' })
  uploadUrl: string;

  @Field()
  expiresAt: Date;
}

@ObjectType({
  description: 'A window of the parsed matrix: rows are samples, columns are features',
})
export class DatasetPreview {
  @Field(() => Int)
  rowOffset: number;

  @Field(() => Int)
  columnOffset: number;

  @Field(() => Int)
  totalRows: number;

  @Field(() => Int)
  totalColumns: number;

  @Field(() => [String])
  sampleIds: string[];

  @Field(() => [String])
  featureNames: string[];

  @Field(() => [[Float]], { nullable: 'items', description: 'Row-major values; null = missing' })
  values: (number | null)[][];

  @Field(() => [String], {
    nullable: true,
    description: 'Outcome per row: class label, value, or survival time with "+" when censored',
  })
  outcome: string[] | null;
}
