import type { Context } from '../app/context';
import { refreshAbility } from '../app/context';
import type { Logger } from 'pino';
import { jobSubject, type AppAbility, type JobFacts } from '../permissions/ability';

/** How long to wait before asking again when the viewer's permissions could not be read. */
const RETRY_MS = 500;
/** One warning per this long, not one per waiting subscriber per retry (thousands during an outage). */
const WARN_EVERY_MS = 10_000;
let lastWarning = 0;

/**
 * Subscription events are held because permissions cannot be read: says so at most every
 * WARN_EVERY_MS (for every waiting subscriber and the send pacer together), then waits RETRY_MS
 * before the caller asks again.
 */
export async function heldForPermissions(log: Logger, error: unknown): Promise<void> {
  if (Date.now() - lastWarning >= WARN_EVERY_MS) {
    lastWarning = Date.now();
    log.warn({ err: error }, 'could not check permissions before subscription events; holding them and retrying');
  }
  await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
}

/**
 * Whether the subscription's viewer may see a job now, with their current ability (left in
 * `ctx.ability` for the event's resolvers). When permissions cannot be read (the database is
 * away) the event is held and the question asked again, never answered unchecked; `closed`
 * stops the waiting once the subscription is gone.
 */
export async function mayViewNow(ctx: Context, job: JobFacts, closed: () => boolean): Promise<boolean> {
  for (;;) {
    try {
      return (await refreshAbility(ctx)).can('view_monitor', jobSubject(job));
    } catch (error) {
      if (closed()) return false;
      await heldForPermissions(ctx.log, error);
    }
  }
}

/**
 * mayViewNow with the permissions version the pacer read for this event's turn (send-pacer.ts),
 * after the event was queued: no read of its own, unless the ability must be loaded. Without a
 * version, or when loading fails, it asks as mayViewNow does.
 */
export function mayViewAt(ctx: Context, job: JobFacts, version: string | undefined, closed: () => boolean): Promise<boolean> {
  if (version === undefined) return mayViewNow(ctx, job, closed);
  const decide = (ability: AppAbility): boolean => {
    ctx.ability = ability;
    return ability.can('view_monitor', jobSubject(job));
  };
  return ctx.services.permissions.abilityAt(ctx.principal.id, version).then(decide, () => mayViewNow(ctx, job, closed));
}
