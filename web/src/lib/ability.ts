import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { unpackRules, type PackRule } from '@casl/ability/extra';
import { AbilityProvider, useAbility } from '@casl/react';

/** The server's own CASL rules for the viewer (`me.rules`, packed): the UI asks them what to show. */
export type AppAbility = MongoAbility;

export function abilityOf(packed: unknown): AppAbility {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rules = Array.isArray(packed) ? unpackRules(packed as PackRule<any>[]) : [];
  return createMongoAbility(rules);
}

export { AbilityProvider };
/** No rules yet (`me` not read): nothing is allowed, so no action shows. */
export const NO_RULES: AppAbility = createMongoAbility([]);
/** The viewer's ability (@casl/react's context). */
export const useViewerAbility = () => useAbility<AppAbility>();
