import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../app/context';
import { BadUserInputError } from '../errors';
import { Grant } from './grant.types';
import { assertUserId, deleteGrant, deleteRole, insertGrant, insertRole, toGrant, toRole, updateRole } from './permission-admin';
import { assertCanManagePermissions } from './permissions.resolver';
import { Role } from './role.types';
import { RoleInput } from './role.input';
import { validateRules } from './rule-validation';
import { assertScope } from './scope';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Role and grant administration (permission manage_permissions). Every change bumps the
 * permissions version in its own transaction (trigger), so every instance uses the new grants
 * from the user's next request on; the local invalidation only frees memory sooner.
 */
@Resolver()
export class PermissionMutationsResolver {
  @Mutation(() => Role, { description: 'Creates a role from validated CASL rules.' })
  async createRole(@Ctx() ctx: Context, @Arg('input', () => RoleInput, { description: 'The role.' }) input: RoleInput): Promise<Role> {
    assertCanManagePermissions(ctx);
    const rules = validateRules(input.rules);
    return toRole(await insertRole(ctx.services.sql, input.name, input.description ?? '', rules));
  }

  @Mutation(() => Role, { description: 'Replaces a role (its name, description and rules); built-in roles are read-only.' })
  async updateRole(
    @Ctx() ctx: Context,
    @Arg('name', () => String, { description: 'The current name of the role.' }) name: string,
    @Arg('input', () => RoleInput, { description: 'The new role.' }) input: RoleInput,
  ): Promise<Role> {
    assertCanManagePermissions(ctx);
    const rules = validateRules(input.rules);
    const role = await updateRole(ctx.services.sql, name, { name: input.name, description: input.description ?? null, rules });
    ctx.services.permissions.invalidate();
    return toRole(role);
  }

  @Mutation(() => Boolean, { description: 'Deletes a role that nobody holds; built-in roles cannot be deleted.' })
  async deleteRole(@Ctx() ctx: Context, @Arg('name', () => String, { description: 'The role.' }) name: string): Promise<boolean> {
    assertCanManagePermissions(ctx);
    await deleteRole(ctx.services.sql, name);
    ctx.services.permissions.invalidate();
    return true;
  }

  @Mutation(() => Grant, {
    description: 'Grants a role to a user, optionally only within a scope and everything below it. Granting twice answers the same grant.',
  })
  async grantRole(
    @Ctx() ctx: Context,
    @Arg('userId', () => String, { description: 'The user (JWT `sub`).' }) userId: string,
    @Arg('role', () => String, { description: 'The role name.' }) role: string,
    @Arg('scope', () => String, { nullable: true, description: 'Limit the grant to this scope and below; everywhere when omitted.' })
    scope: string | null,
  ): Promise<Grant> {
    assertCanManagePermissions(ctx);
    const grant = await insertGrant(
      ctx.services.sql,
      assertUserId(userId),
      role,
      scope == null ? null : assertScope(scope, 'scope'),
      ctx.principal.id,
    );
    ctx.services.permissions.invalidate(grant.user_id);
    return toGrant(grant);
  }

  @Mutation(() => Boolean, {
    description:
      'Revokes a grant. The last unscoped grant of the built-in admin role cannot be revoked (CONFLICT): only those grants count, not custom roles with manage_permissions (they can be edited or deleted at any time), and no role may deny manage_permissions. Every other grant can be revoked while one unscoped admin grant remains.',
  })
  async revokeGrant(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'The grant id.' }) id: string): Promise<boolean> {
    assertCanManagePermissions(ctx);
    if (!UUID.test(id)) throw new BadUserInputError('id must be a grant id (a UUID)', 'id');
    const grant = await deleteGrant(ctx.services.pool, id);
    ctx.services.permissions.invalidate(grant.user_id);
    return true;
  }
}
