import { subject } from '@casl/ability';
import type { JobRowFragment } from '../gql/graphql';
import { useViewerAbility } from './ability';
import { CASL_ACTION, type Action } from './jobs';
import { label } from './format';

export interface ActionState {
  /** Whether to show the control at all: the viewer holds the action on some jobs. */
  readonly shown: boolean;
  readonly enabled: boolean;
  /** Why it is disabled, said to the user. */
  readonly reason: string | undefined;
}

const WHEN: Record<Action, string> = {
  cancel: 'only a job that has not finished can be cancelled',
  restart: 'only a finished job can be restarted',
  delete: 'only a created or finished job can be deleted',
  approve: 'only a job waiting for approval can be approved',
  reject: 'only a job waiting for approval can be rejected',
  reschedule: 'only a pending, waiting, rejected or expired job can be rescheduled',
  resolveTrap: 'only a trapped job can be retried, skipped or aborted',
  pauseTrap: 'only a trapped job can be paused',
};

/**
 * What a job's control shows: the server's verdict for this job (`viewerCan`), explained with the
 * viewer's CASL rules: hidden when no rule grants the action at all, disabled with the rule's
 * reason when a rule refuses this job, disabled with the status rule otherwise.
 */
export function useActionState() {
  const ability = useViewerAbility();
  return (job: JobRowFragment, action: Action): ActionState => {
    const casl = CASL_ACTION[action];
    if (!ability.can(casl, 'Job')) return { shown: false, enabled: false, reason: 'you do not have this permission' };
    if (job.viewerCan[action]) return { shown: true, enabled: true, reason: undefined };
    const target = subject('Job', { scope: job.scope, type: job.type, ownerId: job.owner });
    if (ability.cannot(casl, target)) {
      const rule = ability.relevantRuleFor(casl, target);
      const why =
        rule?.inverted && rule.reason ? rule.reason : `your roles do not allow ${casl.replace('_', ' ')} on ${job.scope} / ${job.type}`;
      return { shown: true, enabled: false, reason: why };
    }
    return { shown: true, enabled: false, reason: `${label(job.status)}: ${WHEN[action]}` };
  };
}
