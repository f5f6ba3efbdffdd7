import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import type { AppAbility } from '../permissions/ability';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './errors';

/** What every resolver gets: who asks, what they may do, and the server's services. */
export interface Context {
  readonly requestId: string;
  readonly principal: Principal;
  /** Refreshed before each subscription event (grants may change while a socket lives). */
  ability: AppAbility;
  readonly log: Logger;
  readonly services: Services;
  /** Per request; per event for subscriptions, so batched reads are never stale. */
  loaders: Loaders;
}

export async function createContext(
  services: Services,
  authorization: unknown,
  requestId: string,
  log: Logger,
): Promise<Context> {
  return contextFor(services, await services.tokens.fromAuthorization(authorization), requestId, log);
}

/** The context of an already authenticated principal (a WebSocket connection's). */
export async function contextFor(services: Services, principal: Principal, requestId: string, log: Logger): Promise<Context> {
  const ability = await services.permissions.abilityFor(principal.id).catch((error: unknown) => {
    throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : error;
  });
  return {
    requestId,
    principal,
    ability,
    log: log.child({ userId: principal.id }),
    services,
    loaders: createLoaders(services.sql, ability),
  };
}

/** Before a subscription event is resolved: the current ability, fresh loaders. */
export async function refreshForEvent(ctx: Context): Promise<void> {
  ctx.ability = await ctx.services.permissions.abilityFor(ctx.principal.id);
  ctx.loaders = createLoaders(ctx.services.sql, ctx.ability);
}
