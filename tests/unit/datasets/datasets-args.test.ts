/**
 * `datasets(...)` arguments are validated by hand (`checkDatasetsArgs`), not by class-validator
 * through type-graphql. These cases run class-validator on the same decorated classes, with the
 * options type-graphql passes (`skipMissingProperties`, `forbidUnknownValues: false`), and require
 * the same outcome: the same properties, nesting, constraint keys and messages (what
 * `formatError` sends as `validationErrors`), and no error where class-validator finds none.
 */
import 'reflect-metadata';
import { validate, type ValidationError } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';
import {
  checkDatasetsArgs,
  DatasetFilterInput,
  DatasetsArgs,
} from '../../../src/modules/datasets/dataset.input';

interface Shape {
  property: string;
  constraints?: Record<string, string>;
  children?: Shape[];
}

const shape = (errors: ValidationError[]): Shape[] =>
  errors.map(e => ({
    property: e.property,
    ...(e.constraints ? { constraints: e.constraints } : {}),
    ...(e.children?.length ? { children: shape(e.children) } : {}),
  }));

function args(first: number, filter?: Partial<DatasetFilterInput> | null): DatasetsArgs {
  return Object.assign(new DatasetsArgs(), {
    first,
    ...(filter === undefined
      ? {}
      : { filter: filter && Object.assign(new DatasetFilterInput(), filter) }),
  });
}

async function reference(a: DatasetsArgs): Promise<Shape[]> {
  return shape(await validate(a, { skipMissingProperties: true, forbidUnknownValues: false }));
}

function byHand(a: DatasetsArgs): Shape[] {
  try {
    checkDatasetsArgs(a);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ArgumentValidationError);
    const e = err as ArgumentValidationError;
    expect(e.message).toBe('Argument Validation Error');
    return shape(e.extensions.validationErrors as ValidationError[]);
  }
}

const cases: Array<[string, DatasetsArgs]> = [
  ['defaults', args(20)],
  ['first 1', args(1)],
  ['first 100', args(100)],
  ['first 0', args(0)],
  ['first 101', args(101)],
  ['null filter', args(10, null)],
  ['empty filter', args(10, {})],
  ['search 200 characters', args(10, { search: 'x'.repeat(200) })],
  ['search 201 characters', args(10, { search: 'x'.repeat(201) })],
  // class-validator counts a surrogate pair as one character: 200 emoji pass.
  ['search 200 astral characters', args(10, { search: '😀'.repeat(200) })],
  ['search 201 astral characters', args(10, { search: '😀'.repeat(201) })],
  ['null search', args(10, { search: null, status: undefined })],
  ['first and search both bad', args(0, { search: 'y'.repeat(300), ownerId: 'u' })],
];

describe('checkDatasetsArgs matches class-validator on DatasetsArgs', () => {
  it.each(cases)('%s', async (_name, a) => {
    const expected = await reference(a);
    expect(byHand(a)).toEqual(expected);
  });

  it('reports an over-long search under filter.search with the maxLength message', () => {
    expect(byHand(args(10, { search: 'z'.repeat(201) }))).toEqual([
      {
        property: 'filter',
        children: [
          {
            property: 'search',
            constraints: {
              maxLength: 'search must be shorter than or equal to 200 characters',
            },
          },
        ],
      },
    ]);
  });
});
