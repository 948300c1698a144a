import {
  ArrayMaxSize,
  IsOptional,
  Length,
  Max,
  max,
  MaxLength,
  maxLength,
  Min,
  min,
  ValidateNested,
  ValidationError,
} from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import {
  ArgsType,
  ArgumentValidationError,
  Field,
  Float,
  ID,
  InputType,
  Int,
  registerEnumType,
} from 'type-graphql';
import { AppError } from '../../errors.js';
import {
  DatasetStatus,
  DataType,
  OutcomeKindName,
  type ParseOptionsRecord,
} from './dataset.model.js';

export enum DelimiterName {
  COMMA = 'COMMA',
  TAB = 'TAB',
}
registerEnumType(DelimiterName, {
  name: 'Delimiter',
  description: 'Field delimiter; detected from the header line when not given',
});

export enum MissingValuePolicy {
  ALLOW = 'ALLOW',
  ERROR = 'ERROR',
}
registerEnumType(MissingValuePolicy, {
  name: 'MissingValuePolicy',
  valuesConfig: {
    ALLOW: { description: 'NA, NaN, N/A, NULL and empty cells are missing values (default)' },
    ERROR: { description: 'Any missing feature value rejects the file' },
  },
});

const COLUMN = 1000;

@InputType({ description: 'Which column(s) hold the outcome' })
export class OutcomeInput {
  @Field(() => OutcomeKindName)
  kind: OutcomeKindName;

  @Field(() => String, { nullable: true, description: 'BINARY, MULTICLASS, CONTINUOUS' })
  @IsOptional()
  @MaxLength(COLUMN)
  column?: string | null;

  @Field(() => String, { nullable: true, description: 'BINARY: the label of the positive class' })
  @IsOptional()
  @MaxLength(COLUMN)
  positiveClass?: string | null;

  @Field(() => String, { nullable: true, description: 'SURVIVAL' })
  @IsOptional()
  @MaxLength(COLUMN)
  timeColumn?: string | null;

  @Field(() => String, { nullable: true, description: 'SURVIVAL: 1 = event, 0 = censored' })
  @IsOptional()
  @MaxLength(COLUMN)
  eventColumn?: string | null;
}

@InputType({ description: 'A CSV or TSV (optionally gzip) file: rows are samples' })
export class DatasetUploadInput {
  @Field()
  @Length(1, 200)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(10_000)
  description?: string | null;

  @Field(() => DataType, { defaultValue: DataType.OTHER })
  dataType: DataType;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Free metadata (≤ 64 KiB of JSON)',
  })
  @IsOptional()
  metadata?: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description: 'Sample-id column (default: the first column)',
  })
  @IsOptional()
  @MaxLength(COLUMN)
  sampleIdColumn?: string | null;

  @Field(() => OutcomeInput, { nullable: true, description: 'Default: no outcome' })
  @IsOptional()
  @ValidateNested()
  outcome?: OutcomeInput | null;

  @Field(() => String, { nullable: true, description: 'Batch labels (kept, not a feature)' })
  @IsOptional()
  @MaxLength(COLUMN)
  batchColumn?: string | null;

  @Field(() => [String], { nullable: true, description: 'Columns to drop' })
  @IsOptional()
  @ArrayMaxSize(100_000)
  @MaxLength(COLUMN, { each: true })
  ignoreColumns?: string[] | null;

  @Field(() => DelimiterName, { nullable: true })
  @IsOptional()
  delimiter?: DelimiterName | null;

  @Field(() => MissingValuePolicy, { defaultValue: MissingValuePolicy.ALLOW })
  missingValues: MissingValuePolicy;
}

@InputType()
export class RequestDatasetUploadInput extends DatasetUploadInput {
  @Field(() => String, { nullable: true, description: 'Original file name (display only)' })
  @IsOptional()
  @MaxLength(1000)
  filename?: string | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Size you will upload; refused early if over the limit',
  })
  @IsOptional()
  @Min(0)
  sizeBytes?: number | null;
}

@InputType()
export class UpdateDatasetInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 200)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(10_000)
  description?: string | null;

  @Field(() => DataType, { nullable: true })
  @IsOptional()
  dataType?: DataType | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Replaces the metadata object' })
  @IsOptional()
  metadata?: Record<string, unknown> | null;
}

const SEARCH_MAX_LENGTH = 200;

/**
 * The class-validator decorators on `DatasetsArgs` / `DatasetFilterInput` are NOT run by
 * type-graphql (`@Args({ validate: false })` on `datasets`): the list is the hottest query, and
 * class-validator's executor cost ~3 % of its CPU. `checkDatasetsArgs` applies the same
 * constraints by hand and throws what type-graphql would have thrown (an ArgumentValidationError
 * with class-validator's property names, constraint keys and messages); the decorators stay as
 * the reference `tests/unit/datasets/datasets-args.test.ts` compares it with.
 */
@InputType()
export class DatasetFilterInput {
  @Field(() => DatasetStatus, { nullable: true })
  @IsOptional()
  status?: DatasetStatus | null;

  @Field(() => DataType, { nullable: true })
  @IsOptional()
  dataType?: DataType | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the name' })
  @IsOptional()
  @MaxLength(SEARCH_MAX_LENGTH)
  search?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'ADMIN: include deleted datasets' })
  @IsOptional()
  includeDeleted?: boolean | null;

  @Field(() => String, { nullable: true, description: "ADMIN: one user's datasets" })
  @IsOptional()
  ownerId?: string | null;
}

@ArgsType()
export class DatasetsArgs {
  @Field(() => Int, { defaultValue: 20, description: '1-100' })
  @Min(1)
  @Max(100)
  first: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  after?: string | null;

  @Field(() => DatasetFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  filter?: DatasetFilterInput | null;
}

/** A class-validator ValidationError as its executor builds one (what sanitize/format read). */
function violation(
  target: object,
  property: string,
  value: unknown,
  constraints?: Record<string, string>,
  children: ValidationError[] = [],
): ValidationError {
  return Object.assign(new ValidationError(), {
    target,
    value,
    property,
    children,
    ...(constraints ? { constraints } : {}),
  });
}

/** See the note above `DatasetFilterInput`: the decorators' constraints, checked by hand. */
export function checkDatasetsArgs(args: DatasetsArgs): void {
  const errors: ValidationError[] = [];
  // (`first` is also range-checked before the resolver by `enforcePageSize`, whose error wins.)
  const first: Record<string, string> = {};
  if (!min(args.first, 1)) first.min = 'first must not be less than 1';
  if (!max(args.first, 100)) first.max = 'first must not be greater than 100';
  if (first.min || first.max) errors.push(violation(args, 'first', args.first, first));
  const filter = args.filter;
  // maxLength counts characters as class-validator does (surrogate pairs once).
  if (filter && typeof filter.search === 'string' && !maxLength(filter.search, SEARCH_MAX_LENGTH)) {
    const search = violation(filter, 'search', filter.search, {
      maxLength: `search must be shorter than or equal to ${SEARCH_MAX_LENGTH} characters`,
    });
    errors.push(violation(args, 'filter', filter, undefined, [search]));
  }
  if (errors.length) throw new ArgumentValidationError(errors);
}

@ArgsType()
export class DatasetPreviewArgs {
  @Field(() => ID)
  id: string;

  @Field(() => Int, { defaultValue: 10, description: '1-100 samples' })
  @Min(1)
  @Max(100)
  rows: number;

  @Field(() => Int, { defaultValue: 10, description: '1-100 features' })
  @Min(1)
  @Max(100)
  columns: number;

  @Field(() => Int, { defaultValue: 0 })
  @Min(0)
  rowOffset: number;

  @Field(() => Int, { defaultValue: 0 })
  @Min(0)
  columnOffset: number;
}

function need(value: string | null | undefined, field: string, kind: OutcomeKindName): string {
  if (value === null || value === undefined || value.trim() === '') {
    throw AppError.badInput(
      `outcome.${field} is required for a ${kind} outcome`,
      `outcome.${field}`,
    );
  }
  return value;
}

/** GraphQL input → the parse options stored with the dataset (validated per outcome kind). */
export function toParseOptions(input: DatasetUploadInput): ParseOptionsRecord {
  const o = input.outcome;
  let outcome: ParseOptionsRecord['outcome'];
  switch (o?.kind ?? OutcomeKindName.NONE) {
    case OutcomeKindName.NONE:
      outcome = { kind: 'none' };
      break;
    case OutcomeKindName.BINARY:
      outcome = {
        kind: 'binary',
        column: need(o!.column, 'column', o!.kind),
        positiveClass: need(o!.positiveClass, 'positiveClass', o!.kind),
      };
      break;
    case OutcomeKindName.MULTICLASS:
      outcome = { kind: 'multiclass', column: need(o!.column, 'column', o!.kind) };
      break;
    case OutcomeKindName.CONTINUOUS:
      outcome = { kind: 'continuous', column: need(o!.column, 'column', o!.kind) };
      break;
    case OutcomeKindName.SURVIVAL:
      outcome = {
        kind: 'survival',
        timeColumn: need(o!.timeColumn, 'timeColumn', o!.kind),
        eventColumn: need(o!.eventColumn, 'eventColumn', o!.kind),
      };
      break;
  }
  return {
    ...(input.sampleIdColumn ? { sampleIdColumn: input.sampleIdColumn } : {}),
    outcome,
    ...(input.batchColumn ? { batchColumn: input.batchColumn } : {}),
    ...(input.ignoreColumns?.length ? { ignoreColumns: input.ignoreColumns } : {}),
    ...(input.delimiter ? { delimiter: input.delimiter === DelimiterName.TAB ? '\t' : ',' } : {}),
    missing: input.missingValues === MissingValuePolicy.ERROR ? 'error' : 'allow',
  };
}
