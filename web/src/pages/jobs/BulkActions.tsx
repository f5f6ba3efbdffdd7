import { useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import type { BulkResultFieldsFragment as Result, JobFilter } from '../../gql/graphql';
import { useViewerAbility } from '../../lib/ability';
import { ConfirmDialog } from '../../lib/ConfirmDialog';

export const BulkResultFields = graphql(`
  fragment BulkResultFields on BulkActionResult {
    matched
    changed
    skippedCount
    dryRun
    skipped {
      id
      name
      code
      reason
    }
  }
`);

const CancelJobs = graphql(`
  mutation CancelJobs($filter: JobFilter, $dryRun: Boolean, $reason: String) {
    cancelJobs(filter: $filter, dryRun: $dryRun, reason: $reason) {
      ...BulkResultFields
    }
  }
`);

const RestartJobs = graphql(`
  mutation RestartJobs($filter: JobFilter, $dryRun: Boolean, $runNow: Boolean) {
    restartJobs(filter: $filter, dryRun: $dryRun, runNow: $runNow) {
      ...BulkResultFields
    }
  }
`);

const DeleteJobs = graphql(`
  mutation DeleteJobs($filter: JobFilter, $dryRun: Boolean) {
    deleteJobs(filter: $filter, dryRun: $dryRun) {
      ...BulkResultFields
    }
  }
`);

type Kind = 'cancel' | 'restart' | 'delete';

const WORDS: Record<Kind, { button: string; done: string; verb: string }> = {
  cancel: { button: 'Cancel all matching…', done: 'cancelled', verb: 'Cancel' },
  restart: { button: 'Restart all matching…', done: 'restarted', verb: 'Restart' },
  delete: { button: 'Delete all matching…', done: 'deleted', verb: 'Delete' },
};

/**
 * Bulk actions by the list's filter, each shown only when the viewer's CASL rules grant it on some
 * jobs: a dry run first says how many of the matching jobs the viewer may change (and why the
 * others are left alone), then the confirmation runs it for real.
 */
export function BulkActions({ filter }: { filter: JobFilter }) {
  const ability = useViewerAbility();
  const [, cancel] = useMutation(CancelJobs);
  const [, restart] = useMutation(RestartJobs);
  const [, remove] = useMutation(DeleteJobs);
  const [preview, setPreview] = useState<{ kind: Kind; result: Result } | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [problem, setProblem] = useState<string | undefined>();

  const run = async (kind: Kind, dryRun: boolean, reason?: string) => {
    const outcome =
      kind === 'cancel'
        ? await cancel({ filter, dryRun, reason: reason || null }).then((r) => ({ error: r.error, data: r.data?.cancelJobs }))
        : kind === 'restart'
          ? await restart({ filter, dryRun, runNow: true }).then((r) => ({ error: r.error, data: r.data?.restartJobs }))
          : await remove({ filter, dryRun }).then((r) => ({ error: r.error, data: r.data?.deleteJobs }));
    const error = outcome.error === undefined ? undefined : (outcome.error.graphQLErrors[0]?.message ?? outcome.error.message);
    return { error, data: outcome.data };
  };

  const kinds = (['cancel', 'restart', 'delete'] as const).filter((kind) => ability.can(kind, 'Job'));
  if (kinds.length === 0) return null;
  return (
    <div className="bulk" role="group" aria-label="Bulk actions">
      {kinds.map((kind) => (
        <button
          key={kind}
          type="button"
          onClick={async () => {
            setDone(undefined);
            const { error, data } = await run(kind, true);
            setProblem(error);
            if (data !== undefined) setPreview({ kind, result: data });
          }}
        >
          {WORDS[kind].button}
        </button>
      ))}
      {done !== undefined && <span role="status">{done}</span>}
      {problem !== undefined && (
        <span role="alert" className="error">
          {problem}
        </span>
      )}
      {preview !== undefined && (
        <ConfirmDialog
          title={`${WORDS[preview.kind].verb} every matching job?`}
          confirm={`${WORDS[preview.kind].verb} ${preview.result.changed} ${preview.result.changed === 1 ? 'job' : 'jobs'}`}
          {...(preview.kind === 'cancel' && { reasonLabel: 'Reason (optional)' })}
          disabled={preview.result.changed === 0}
          onClose={() => setPreview(undefined)}
          onConfirm={async (reason) => {
            const { error, data } = await run(preview.kind, false, reason);
            if (data !== undefined) setDone(`${data.changed} ${WORDS[preview.kind].done}, ${data.skippedCount} left alone.`);
            return error;
          }}
        >
          <p>
            {preview.result.changed} of {preview.result.matched} matching jobs can be {WORDS[preview.kind].done} by you.
          </p>
          {preview.result.skipped.length > 0 && (
            <details>
              <summary>Why {preview.result.skippedCount} are left alone</summary>
              <ul className="skipped">
                {preview.result.skipped.slice(0, 20).map((s) => (
                  <li key={s.id}>
                    {s.name}: {s.reason}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}
