import type { Context } from '../app/context';
import { AppError, ErrorCode } from '../errors';
import { jobSubject, type JobFacts } from '../permissions/ability';

/**
 * A job may only name approvers who could approve it: who see it (`view_monitor`) and hold
 * `approve` (as a named approver) or `approve_all` on its scope, type and owner. Anyone else would
 * leave the job waiting for ever with nobody told, so the request is refused, naming them
 * (`extensions.approvers`). Their abilities come from the same store, and the same grants, as
 * the approval's own guard.
 */
export async function assertApproversMayApprove(ctx: Context, job: JobFacts, approvers: readonly string[], field: string): Promise<void> {
  if (approvers.length === 0) return;
  const abilities = await ctx.services.permissions.abilitiesFor(approvers);
  const subject = jobSubject({ ...job, approvers });
  const refused = approvers.filter((user) => {
    const ability = abilities.get(user);
    return (
      ability === undefined ||
      !ability.can('view_monitor', subject) ||
      !(ability.can('approve', subject) || ability.can('approve_all', subject))
    );
  });
  if (refused.length === 0) return;
  const names = refused.map((user) => JSON.stringify(user)).join(', ');
  throw new AppError(
    ErrorCode.BAD_USER_INPUT,
    `${field}: ${names} may not approve this job (an approver needs view_monitor and approve or approve_all on its scope and type)`,
    { field, approvers: refused },
  );
}
