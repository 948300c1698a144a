/**
 * Cursor-connection building blocks (Relay style): `PageInfo`, and keyset cursors over
 * (createdAt, id) so pages stay stable while rows are inserted. Cursors are opaque to clients;
 * a malformed cursor is BAD_USER_INPUT.
 */
import { Field, ObjectType } from 'type-graphql';
import { AppError } from '../errors.js';

// simpleResolvers: graphql-js's default resolver, no type-graphql wrapper per field.
@ObjectType({ description: 'Relay-style page information', simpleResolvers: true })
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(pos: KeysetPosition): string {
  return Buffer.from(JSON.stringify([pos.createdAt.toISOString(), pos.id])).toString('base64url');
}

export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const [iso, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const createdAt = new Date(iso);
    if (
      typeof id !== 'string' ||
      !/^[0-9a-f-]{36}$/i.test(id) ||
      Number.isNaN(createdAt.getTime())
    ) {
      throw new Error('bad cursor');
    }
    return { createdAt, id };
  } catch {
    throw AppError.badInput('Invalid cursor', 'after');
  }
}

/**
 * MikroORM filter for "rows after `cursor`" in (createdAt DESC, id DESC) order; combine with
 * `orderBy: { createdAt: 'desc', id: 'desc' }` and `limit: first + 1`.
 */
export function afterCursorFilter(cursor: string | undefined | null): Record<string, unknown> {
  if (!cursor) {
    return {};
  }
  const { createdAt, id } = decodeCursor(cursor);
  return { $or: [{ createdAt: { $lt: createdAt } }, { createdAt, id: { $lt: id } }] };
}
