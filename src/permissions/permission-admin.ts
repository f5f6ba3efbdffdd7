import type { Pool } from 'pg';
import { inTransaction, type Sql } from '../db/sql';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors';
import type { RawRule } from './rules';

export interface RoleRow {
  name: string;
  description: string;
  rules: RawRule[];
  built_in: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface GrantRow {
  id: string;
  user_id: string;
  role_name: string;
  scope: string | null;
  granted_by: string | null;
  created_at: Date;
}

const ROLE_COLUMNS = 'name, description, rules, built_in, created_at, updated_at';
const GRANT_COLUMNS = 'id, user_id, role_name, scope, granted_by, created_at';
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const codeOf = (error: unknown) => (error as { code?: string }).code;

export async function insertRole(sql: Sql, name: string, description: string, rules: RawRule[]): Promise<RoleRow> {
  try {
    const row = await sql.one<RoleRow>(`INSERT INTO roles (name, description, rules) VALUES ($1, $2, $3) RETURNING ${ROLE_COLUMNS}`, [
      name,
      description,
      JSON.stringify(rules),
    ]);
    return row as RoleRow;
  } catch (error) {
    if (codeOf(error) === UNIQUE_VIOLATION) throw new ConflictError(`A role named "${name}" already exists`);
    throw error;
  }
}

/** Built-in roles are read-only: everyone's baseline must not drift (create a new role instead). */
export async function updateRole(
  sql: Sql,
  name: string,
  next: { name: string; description: string | null; rules: RawRule[] },
): Promise<RoleRow> {
  try {
    const row = await sql.one<RoleRow>(
      `UPDATE roles SET name = $2, description = coalesce($3, description), rules = $4, updated_at = now()
        WHERE name = $1 AND NOT built_in RETURNING ${ROLE_COLUMNS}`,
      [name, next.name, next.description, JSON.stringify(next.rules)],
    );
    if (row !== undefined) return row;
  } catch (error) {
    if (codeOf(error) === UNIQUE_VIOLATION) throw new ConflictError(`A role named "${next.name}" already exists`);
    throw error;
  }
  throw await roleRefusal(sql, name, 'changed');
}

export async function deleteRole(sql: Sql, name: string): Promise<void> {
  let deleted: number;
  try {
    deleted = await sql.execute(
      `DELETE FROM roles r WHERE name = $1 AND NOT built_in AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.role_name = r.name)`,
      [name],
    );
  } catch (error) {
    // A grant of the role was made while we deleted it: the foreign key kept both consistent.
    if (codeOf(error) === FOREIGN_KEY_VIOLATION) throw new ConflictError(`The role "${name}" was just granted: revoke that grant first`);
    throw error;
  }
  if (deleted === 1) return;
  const grants = await sql.one<{ count: number }>(`SELECT count(*)::int AS count FROM grants WHERE role_name = $1`, [name]);
  const refusal = await roleRefusal(sql, name, 'deleted');
  if (refusal instanceof ConflictError || refusal instanceof NotFoundError) throw refusal;
  throw new ConflictError(`The role "${name}" is granted ${grants?.count ?? 0} time(s): revoke those grants first`);
}

async function roleRefusal(sql: Sql, name: string, verb: string): Promise<Error> {
  const role = await sql.one<{ built_in: boolean }>(`SELECT built_in FROM roles WHERE name = $1`, [name]);
  if (role === undefined) return new NotFoundError('Role', name);
  if (role.built_in) return new ConflictError(`The built-in role "${name}" cannot be ${verb}`);
  return new Error(`role ${name} could not be ${verb}`);
}

/** Grants a role (idempotent: granting what is already granted answers the existing grant). */
export async function insertGrant(sql: Sql, userId: string, roleName: string, scope: string | null, grantedBy: string): Promise<GrantRow> {
  const role = await sql.one(`SELECT 1 FROM roles WHERE name = $1`, [roleName]);
  if (role === undefined) throw new NotFoundError('Role', roleName);
  let inserted: GrantRow | undefined;
  try {
    inserted = await sql.one<GrantRow>(
      `INSERT INTO grants (user_id, role_name, scope, granted_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING RETURNING ${GRANT_COLUMNS}`,
      [userId, roleName, scope, grantedBy],
    );
  } catch (error) {
    if (codeOf(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError('Role', roleName);
    throw error;
  }
  if (inserted !== undefined) return inserted;
  const existing = await sql.one<GrantRow>(
    `SELECT ${GRANT_COLUMNS} FROM grants WHERE user_id = $1 AND role_name = $2 AND coalesce(scope, '') = coalesce($3, '')`,
    [userId, roleName, scope],
  );
  if (existing === undefined) throw new ConflictError('The grant changed while this request ran; try again');
  return existing;
}

/**
 * Revokes a grant, except the last unscoped grant of the built-in `admin` role: somebody must
 * always be able to administer permissions. Only those grants count. A custom role holding
 * manage_permissions does not, since it can be edited or deleted at any moment and would leave
 * nobody; scoped grants never carry Permission rules; and no role may deny manage_permissions
 * (rule-validation), so an unscoped admin grant always is a working administrator. Any other
 * grant, custom manage_permissions ones included, can be revoked while that one remains. The
 * unscoped admin grants are locked first, so two concurrent revocations of the last two cannot
 * both succeed.
 */
export async function deleteGrant(pool: Pool, id: string): Promise<GrantRow> {
  return inTransaction(pool, async (tx) => {
    await tx.rows(`SELECT id FROM grants WHERE role_name = 'admin' AND scope IS NULL ORDER BY id FOR UPDATE`);
    const deleted = await tx.one<GrantRow>(
      `DELETE FROM grants g WHERE g.id = $1
         AND NOT (g.role_name = 'admin' AND g.scope IS NULL
                  AND NOT EXISTS (SELECT 1 FROM grants o WHERE o.role_name = 'admin' AND o.scope IS NULL AND o.id <> g.id))
       RETURNING ${GRANT_COLUMNS}`,
      [id],
    );
    if (deleted !== undefined) return deleted;
    const grant = await tx.one<GrantRow>(`SELECT ${GRANT_COLUMNS} FROM grants WHERE id = $1`, [id]);
    if (grant === undefined) throw new NotFoundError('Grant', id);
    throw new ConflictError('This is the last admin grant: grant admin to someone else before revoking it');
  });
}

/** Every role, built-in first, then by name. */
export async function listRoles(sql: Sql): Promise<RoleRow[]> {
  return sql.rows<RoleRow>(`SELECT ${ROLE_COLUMNS} FROM roles ORDER BY built_in DESC, name`);
}

/** The grants of one user, or of everyone, oldest first. */
export async function listGrants(sql: Sql, userId: string | null): Promise<GrantRow[]> {
  return sql.rows<GrantRow>(`SELECT ${GRANT_COLUMNS} FROM grants WHERE $1::text IS NULL OR user_id = $1 ORDER BY created_at, id`, [userId]);
}

export function assertUserId(userId: string): string {
  if (userId.trim() === '' || userId.length > 200) throw new BadUserInputError('userId must be 1 to 200 characters', 'userId');
  return userId;
}

export function toRole(row: RoleRow) {
  return {
    name: row.name,
    description: row.description,
    rules: row.rules,
    builtIn: row.built_in,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toGrant(row: GrantRow) {
  return {
    id: row.id,
    userId: row.user_id,
    roleName: row.role_name,
    scope: row.scope,
    grantedBy: row.granted_by,
    createdAt: row.created_at,
  };
}
