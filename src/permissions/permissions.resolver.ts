import { packRules } from '@casl/ability/extra';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { ForbiddenError } from '../graphql/errors';
import { GrantEntity } from './grant.entity';
import { RoleEntity } from './role.entity';
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
    const grants = await ctx.services.dataSource.getRepository(GrantEntity).find({
      where: { userId: ctx.principal.id },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const actions = Object.values(Action).filter((action) => ctx.ability.can(action, subjectOf(action)));
    return {
      id: ctx.principal.id,
      name: ctx.principal.name,
      grants,
      rules: packRules(ctx.ability.rules as never),
      actions,
    };
  }

  @Query(() => [RoleEntity], { description: 'Every role, built-in first (permission manage_permissions).' })
  async roles(@Ctx() ctx: Context): Promise<RoleEntity[]> {
    assertCanManagePermissions(ctx);
    return ctx.services.dataSource.getRepository(RoleEntity).find({ order: { builtIn: 'DESC', name: 'ASC' } });
  }

  @Query(() => [GrantEntity], {
    description: "Grants, of one user or of everyone (permission manage_permissions; anyone may list their own).",
  })
  async grants(
    @Ctx() ctx: Context,
    @Arg('userId', () => String, { nullable: true, description: 'Only this user’s grants.' }) userId: string | null,
  ): Promise<GrantEntity[]> {
    if (userId !== ctx.principal.id) assertCanManagePermissions(ctx);
    return ctx.services.dataSource.getRepository(GrantEntity).find({
      where: userId == null ? {} : { userId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }
}
