import { BadUserInputError } from '../graphql/errors';
import type { JobOrderField, OrderDirection } from './job.enums';
import type { JobRow } from './job.row';

/**
 * Keyset cursors: the sort key and id of the last row seen, in an opaque, versioned wrapper.
 * A cursor only continues the order it was made for; anything else is BAD_USER_INPUT.
 */
interface CursorData {
  readonly f: JobOrderField;
  readonly d: OrderDirection;
  /** The sort value: an ISO instant, a name, or null for a job not started/finished yet. */
  readonly v: string | null;
  readonly id: string;
}

const PREFIX = 'j1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function sortValue(row: JobRow, field: JobOrderField): string | null {
  switch (field) {
    case 'CREATED_AT':
      return row.created_at.toISOString();
    case 'STARTED_AT':
      return row.started_at?.toISOString() ?? null;
    case 'FINISHED_AT':
      return row.finished_at?.toISOString() ?? null;
    case 'NAME':
      return row.name;
  }
}

export function encodeCursor(row: JobRow, field: JobOrderField, direction: OrderDirection): string {
  const data: CursorData = { f: field, d: direction, v: sortValue(row, field), id: row.id };
  return PREFIX + Buffer.from(JSON.stringify(data)).toString('base64url');
}

export function decodeCursor(cursor: string, field: JobOrderField, direction: OrderDirection): CursorData {
  const invalid = () => new BadUserInputError('`after` is not a cursor returned by this list', 'after');
  if (cursor.length > 1000 || !cursor.startsWith(PREFIX)) throw invalid();
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (data === null || typeof data !== 'object') throw invalid();
  const { f, d, v, id } = data as Record<string, unknown>;
  if (typeof id !== 'string' || !UUID.test(id)) throw invalid();
  if (f !== field || d !== direction) {
    throw new BadUserInputError('`after` was made for another order; start again from the first page', 'after');
  }
  if (field === 'NAME') {
    if (typeof v !== 'string') throw invalid();
  } else if (v !== null || field === 'CREATED_AT') {
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw invalid();
  }
  return { f: field, d: direction, v: v as string | null, id };
}
