/** Id helpers. Ids in this API are UUIDs; anything else can never match a row. */
import { AppError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** NOT_FOUND for malformed ids, exactly like a well-formed id that matches nothing. */
export function assertIdOrNotFound(id: string, what = 'Object'): asserts id is string {
  if (!UUID.test(id)) {
    throw AppError.notFound(what, id.length > 64 ? undefined : id);
  }
}
