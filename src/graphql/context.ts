import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import type { AppAbility } from '../permissions/ability';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver gets: who asks, what they may do, and the server's services. */
export interface Context {
  readonly requestId: string;
  readonly principal: Principal;
  readonly ability: AppAbility;
  readonly log: Logger;
  readonly services: Services;
  readonly loaders: Loaders;
}

export async function createContext(
  services: Services,
  authorization: unknown,
  requestId: string,
  log: Logger,
): Promise<Context> {
  const principal = await services.tokens.fromAuthorization(authorization);
  const ability = await services.permissions.abilityFor(principal.id);
  return {
    requestId,
    principal,
    ability,
    log: log.child({ userId: principal.id }),
    services,
    loaders: createLoaders(services.sql, services.typeP95),
  };
}
