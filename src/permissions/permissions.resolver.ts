import { packRules } from '@casl/ability/extra';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../app/context';
import { ForbiddenError } from '../errors';
import { Grant } from './grant.types';
import { listGrants, listRoles, toGrant, toRole } from './permission-admin';
import { Role } from './role.types';
import { Action, subjectOf } from './rules';
import { Viewer } from './viewer.types';

export function assertCanManagePermissions(ctx: Context): void {
  if (!ctx.ability.can('manage_permissions', 'Permission')) {
    throw new ForbiddenError('Managing roles and grants needs the manage_permissions permission');
  }
}

@Resolver()
export class PermissionsResolver {
  @Query(() => Viewer, { description: 'Who the viewer is, their grants, and their packed CASL rules for the frontend.' })
  async me(@Ctx() ctx: Context): Promise<Viewer> {
    const grants = (await listGrants(ctx.services.sql, ctx.principal.id)).map(toGrant);
    const actions = Object.values(Action).filter((action) => ctx.ability.can(action, subjectOf(action)));
    return {
      id: ctx.principal.id,
      name: ctx.principal.name,
      grants,
      rules: packRules(ctx.ability.rules as never),
      actions,
    };
  }

  @Query(() => [Role], { description: 'Every role, built-in first (permission manage_permissions).' })
  async roles(@Ctx() ctx: Context): Promise<Role[]> {
    assertCanManagePermissions(ctx);
    return (await listRoles(ctx.services.sql)).map(toRole);
  }

  @Query(() => [Grant], {
    description: 'Grants, of one user or of everyone (permission manage_permissions; anyone may list their own).',
  })
  async grants(
    @Ctx() ctx: Context,
    @Arg('userId', () => String, { nullable: true, description: 'Only this user’s grants.' }) userId: string | null,
  ): Promise<Grant[]> {
    if (userId !== ctx.principal.id) assertCanManagePermissions(ctx);
    return (await listGrants(ctx.services.sql, userId ?? null)).map(toGrant);
  }
}
