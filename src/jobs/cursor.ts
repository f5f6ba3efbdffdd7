import { BadUserInputError } from '../errors';
import type { JobOrderField, OrderDirection } from './job.enums';
import type { JobRow } from './job.row';

/**
 * Keyset cursors: the sort key and id of the last row seen, in an opaque, versioned wrapper.
 * A cursor only continues the order it was made for; anything else is BAD_USER_INPUT. A cursor
 * is client input: everything in it is checked here so that Postgres never sees a value it
 * would refuse (that would surface as an internal error instead of BAD_USER_INPUT).
 */
interface CursorData {
  readonly f: JobOrderField;
  readonly d: OrderDirection;
  /** The sort value: an ISO instant, a name, or null for a job not started/finished yet. */
  readonly v: string | null;
  readonly id: string;
}

/** The longest job name, in code points: the CHECK on `jobs.name` (Init migration). */
export const MAX_JOB_NAME_LENGTH = 200;

const PREFIX = 'j1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Exactly what `Date#toISOString` writes for years 1 to 9999, the range both JS and Postgres read. */
const ISO_INSTANT = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Text Postgres cannot store: NUL, and lone UTF-16 surrogates (no UTF-8 encoding). */
// eslint-disable-next-line no-control-regex -- NUL is what Postgres text cannot store
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The longest cursor this server makes: the envelope around the longest name, where each code
 * point takes at most 6 bytes of JSON (a control character written `\u0001`; a 4-byte UTF-8
 * character stays raw), then base64url (4 characters per 3 bytes).
 */
const MAX_CURSOR_JSON_BYTES =
  Buffer.byteLength(JSON.stringify({ f: 'FINISHED_AT', d: 'DESC', v: '', id: '00000000-0000-0000-0000-000000000000' })) +
  6 * MAX_JOB_NAME_LENGTH;
export const MAX_CURSOR_LENGTH = PREFIX.length + Math.ceil(MAX_CURSOR_JSON_BYTES / 3) * 4;

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

/** An instant as `toISOString` wrote it, that reads back to itself (no "2026-02-30"). */
function isIsoInstant(value: string): boolean {
  const match = ISO_INSTANT.exec(value);
  if (match === null || Number(match[1]) < 1) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
}

function isStorableName(value: string): boolean {
  if (UNSTORABLE.test(value)) return false;
  const codePoints = [...value].length;
  return codePoints >= 1 && codePoints <= MAX_JOB_NAME_LENGTH;
}

export function decodeCursor(cursor: string, field: JobOrderField, direction: OrderDirection): CursorData {
  const invalid = () => new BadUserInputError('`after` is not a cursor returned by this list', 'after');
  if (cursor.length > MAX_CURSOR_LENGTH || !cursor.startsWith(PREFIX)) throw invalid();
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
    if (typeof v !== 'string' || !isStorableName(v)) throw invalid();
  } else if (v !== null || field === 'CREATED_AT') {
    if (typeof v !== 'string' || !isIsoInstant(v)) throw invalid();
  }
  return { f: field, d: direction, v: v, id };
}
