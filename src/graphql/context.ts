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

/**
 * A context whose logger and loaders are made when first used: a subscription lives for hours
 * with one context, most of its events never need a loader, and thousands of them are held at
 * once, so what they do not use should cost nothing.
 */
class RequestContext implements Context {
  private childLog: Logger | undefined;
  private ownLoaders: Loaders | undefined;

  constructor(
    readonly requestId: string,
    readonly principal: Principal,
    public ability: AppAbility,
    private readonly parentLog: Logger,
    readonly services: Services,
  ) {}

  get log(): Logger {
    return (this.childLog ??= this.parentLog.child({ userId: this.principal.id }));
  }

  get loaders(): Loaders {
    return (this.ownLoaders ??= createLoaders(this.services.sql, this.ability));
  }

  set loaders(loaders: Loaders | undefined) {
    this.ownLoaders = loaders;
  }
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
  return new RequestContext(requestId, principal, ability, log, services);
}

/** Before a subscription event is sent: the viewer's current ability (a revoked grant counts at once). */
export async function refreshAbility(ctx: Context): Promise<AppAbility> {
  ctx.ability = await ctx.services.permissions.abilityFor(ctx.principal.id);
  return ctx.ability;
}

/**
 * The loaders of one subscription event, for `ctx.ability` (refreshed when the event was
 * admitted): the fan-out batch's, shared by every subscriber of that batch, so that one batch
 * costs the same queries whatever the number of subscribers; or, for an event outside any
 * batch (a snapshot), fresh ones of its own, made if a field needs them.
 */
export function useEventLoaders(ctx: Context, shared?: (ability: AppAbility) => Loaders): void {
  if (ctx instanceof RequestContext) ctx.loaders = shared?.(ctx.ability);
  else ctx.loaders = shared?.(ctx.ability) ?? createLoaders(ctx.services.sql, ctx.ability);
}
