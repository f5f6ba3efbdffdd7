import { useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import type { JobDetailFragment as Job } from '../../gql/graphql';
import { useActionState } from '../../lib/actions';
import { ConfirmDialog } from '../../lib/ConfirmDialog';
import type { Action } from '../../lib/jobs';
import { navigate } from '../../lib/router';

const Mutations = {
  cancel: graphql(`
    mutation JobCancel($id: ID!, $reason: String) {
      cancelJob(id: $id, reason: $reason) {
        ...JobDetail
      }
    }
  `),
  restart: graphql(`
    mutation JobRestart($id: ID!, $step: JobStep, $runNow: Boolean) {
      restartJob(id: $id, step: $step, runNow: $runNow) {
        ...JobDetail
      }
    }
  `),
  approve: graphql(`
    mutation JobApprove($id: ID!, $comment: String) {
      approveJob(id: $id, comment: $comment) {
        ...JobDetail
      }
    }
  `),
  reject: graphql(`
    mutation JobReject($id: ID!, $comment: String) {
      rejectJob(id: $id, comment: $comment) {
        ...JobDetail
      }
    }
  `),
  reschedule: graphql(`
    mutation JobReschedule($id: ID!, $scheduledAt: DateTime!, $maxStartAt: DateTime) {
      rescheduleJob(id: $id, scheduledAt: $scheduledAt, maxStartAt: $maxStartAt) {
        ...JobDetail
      }
    }
  `),
  resolveTrap: graphql(`
    mutation JobResolveTrap($id: ID!, $decision: TrapDecision!) {
      resolveTrap(id: $id, decision: $decision) {
        ...JobDetail
      }
    }
  `),
  pauseTrap: graphql(`
    mutation JobPauseTrap($id: ID!) {
      pauseTrap(id: $id) {
        ...JobDetail
      }
    }
  `),
  delete: graphql(`
    mutation JobDelete($id: ID!) {
      deleteJob(id: $id)
    }
  `),
};

export function JobActions({ job }: { job: Job }) {
  const actionState = useActionState();
  const [open, setOpen] = useState<Action | 'retry' | 'skip' | 'abort' | undefined>();
  const [, cancel] = useMutation(Mutations.cancel);
  const [, restart] = useMutation(Mutations.restart);
  const [, approve] = useMutation(Mutations.approve);
  const [, reject] = useMutation(Mutations.reject);
  const [, reschedule] = useMutation(Mutations.reschedule);
  const [, resolveTrap] = useMutation(Mutations.resolveTrap);
  const [, pauseTrap] = useMutation(Mutations.pauseTrap);
  const [, remove] = useMutation(Mutations.delete);
  const [step, setStep] = useState<'PRE' | 'RUN' | 'POST'>('RUN');
  const [runNow, setRunNow] = useState(true);
  const [when, setWhen] = useState('');
  const messageOf = (result: { error?: { graphQLErrors: ReadonlyArray<{ message: string }>; message: string } | undefined }) =>
    result.error === undefined ? undefined : (result.error.graphQLErrors[0]?.message ?? result.error.message);
  const buttons: Array<{ action: Action; open: NonNullable<typeof open>; text: string }> = [
    { action: 'approve', open: 'approve', text: 'Approve' },
    { action: 'reject', open: 'reject', text: 'Reject' },
    { action: 'cancel', open: 'cancel', text: 'Cancel job' },
    { action: 'restart', open: 'restart', text: 'Restart' },
    { action: 'reschedule', open: 'reschedule', text: 'Reschedule' },
    { action: 'pauseTrap', open: 'pauseTrap', text: 'Pause trap' },
    { action: 'resolveTrap', open: 'retry', text: 'Retry' },
    { action: 'resolveTrap', open: 'skip', text: 'Skip' },
    { action: 'resolveTrap', open: 'abort', text: 'Abort' },
    { action: 'delete', open: 'delete', text: 'Delete' },
  ];
  const close = () => setOpen(undefined);
  const decide = (decision: 'RETRY' | 'SKIP' | 'ABORT') => async () => messageOf(await resolveTrap({ id: job.id, decision }));
  return (
    <div className="actions" role="group" aria-label="Actions">
      {buttons.map(({ action, open: which, text }) => {
        const state = actionState(job, action);
        if (!state.shown) return null;
        return (
          <span key={which} className="action">
            <button
              type="button"
              disabled={!state.enabled}
              aria-describedby={state.enabled ? undefined : `why-${which}`}
              onClick={() => setOpen(which)}
            >
              {text}
            </button>
            {!state.enabled && (
              <span id={`why-${which}`} className="why">
                {state.reason}
              </span>
            )}
          </span>
        );
      })}
      {open === 'cancel' && (
        <ConfirmDialog
          title={`Cancel ${job.name}?`}
          confirm="Cancel job"
          reasonLabel="Reason (optional)"
          onClose={close}
          onConfirm={async (reason) => messageOf(await cancel({ id: job.id, reason: reason || null }))}
        />
      )}
      {open === 'approve' && (
        <ConfirmDialog
          title={`Approve ${job.name}?`}
          confirm="Approve"
          reasonLabel="Comment (optional)"
          onClose={close}
          onConfirm={async (comment) => messageOf(await approve({ id: job.id, comment: comment || null }))}
        />
      )}
      {open === 'reject' && (
        <ConfirmDialog
          title={`Reject ${job.name}?`}
          confirm="Reject"
          reasonLabel="Comment (optional)"
          onClose={close}
          onConfirm={async (comment) => messageOf(await reject({ id: job.id, comment: comment || null }))}
        />
      )}
      {open === 'restart' && (
        <ConfirmDialog
          title={`Restart ${job.name}?`}
          confirm="Restart"
          onClose={close}
          onConfirm={async () => messageOf(await restart({ id: job.id, step, runNow }))}
        >
          <label className="stack">
            From step
            <select value={step} onChange={(e) => setStep(e.target.value as typeof step)}>
              <option value="PRE">PRE</option>
              <option value="RUN">RUN</option>
              <option value="POST">POST</option>
            </select>
          </label>
          <label>
            <input type="checkbox" checked={runNow} onChange={(e) => setRunNow(e.target.checked)} /> Run now (clear the schedule)
          </label>
        </ConfirmDialog>
      )}
      {open === 'reschedule' && (
        <ConfirmDialog
          title={`Reschedule ${job.name}`}
          confirm="Reschedule"
          disabled={when === ''}
          onClose={close}
          onConfirm={async () => messageOf(await reschedule({ id: job.id, scheduledAt: new Date(when).toISOString() }))}
        >
          <label className="stack">
            Start at (local time)
            <input type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} />
          </label>
        </ConfirmDialog>
      )}
      {open === 'pauseTrap' && (
        <ConfirmDialog
          title="Pause the trap's timeout?"
          confirm="Pause trap"
          onClose={close}
          onConfirm={async () => messageOf(await pauseTrap({ id: job.id }))}
        />
      )}
      {open === 'retry' && <ConfirmDialog title="Retry the trapped step?" confirm="Retry" onClose={close} onConfirm={decide('RETRY')} />}
      {open === 'skip' && <ConfirmDialog title="Skip the trapped step?" confirm="Skip" onClose={close} onConfirm={decide('SKIP')} />}
      {open === 'abort' && <ConfirmDialog title="Abort the job (it fails)?" confirm="Abort" onClose={close} onConfirm={decide('ABORT')} />}
      {open === 'delete' && (
        <ConfirmDialog
          title={`Delete ${job.name}?`}
          confirm="Delete job"
          onClose={close}
          onConfirm={async () => {
            const failed = messageOf(await remove({ id: job.id }));
            if (failed === undefined) navigate('/');
            return failed;
          }}
        />
      )}
    </div>
  );
}
