import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import type { AppAbility } from '../permissions/ability';
import type { Services } from './services';
import { createLoaders, type Loaders } from '../jobs/loaders';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../errors';

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
  /**
   * Set while `ability` is the instance's cached one, not yet checked against the permissions
   * version: the version it was loaded at. Only a request whose every read checks it in its own
   * statement (verifiedRows) runs so; any other calls verifyAbility before it executes.
   */
  unverifiedVersion?: string | undefined;
}

/**
 * A context whose logger and loaders are made when first used: a subscription lives for hours
 * with one context, most of its events never need a loader, and thousands of them are held at
 * once, so what they do not use should cost nothing.
 */
class RequestContext implements Context {
  private childLog: Logger | undefined;
  private ownLoaders: Loaders | undefined;
  unverifiedVersion: string | undefined;

  constructor(
    readonly requestId: string,
    readonly principal: Principal,
    public ability: AppAbility,
    /** The request's logger, or how to make it: made only when a line is written. */
    private readonly parentLog: Logger | (() => Logger),
    readonly services: Services,
  ) {}

  get log(): Logger {
    if (this.childLog === undefined) {
      const parent = typeof this.parentLog === 'function' ? this.parentLog() : this.parentLog;
      this.childLog = parent.child({ userId: this.principal.id });
    }
    return this.childLog;
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
  log: Logger | (() => Logger),
  options: { readonly deferPermissionsCheck?: boolean } = {},
): Promise<Context> {
  const principal = await services.tokens.fromAuthorization(authorization);
  const cached = options.deferPermissionsCheck === true ? services.permissions.cachedAbility(principal.id) : undefined;
  if (cached === undefined) return contextFor(services, principal, requestId, log);
  const context = new RequestContext(requestId, principal, await cached.ability.catch(unavailable), log, services);
  context.unverifiedVersion = cached.version;
  return context;
}

function unavailable(error: unknown): never {
  throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : error;
}

/**
 * Makes `ctx.ability` one loaded after a permissions-version read that began now, if it was not
 * already: a change of grants or roles committed before the request arrived counts, on every
 * instance. Answers whether the ability changed (what was read with the old one must be redone).
 */
export async function verifyAbility(ctx: Context): Promise<boolean> {
  if (ctx.unverifiedVersion === undefined) return false;
  const before = ctx.ability;
  const ability = await ctx.services.permissions.abilityFor(ctx.principal.id).catch(unavailable);
  ctx.unverifiedVersion = undefined;
  if (ability === before) return false;
  ctx.ability = ability;
  useEventLoaders(ctx);
  return true;
}

/** The context of an already authenticated principal (a WebSocket connection's). */
export async function contextFor(
  services: Services,
  principal: Principal,
  requestId: string,
  log: Logger | (() => Logger),
): Promise<Context> {
  const ability = await services.permissions.abilityFor(principal.id).catch(unavailable);
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
