/** The timeline events of the recent jobs, written with them from the same computed row. */

/**
 * CREATED, the approval, a restart, CLAIMED, the 25/50/75 % milestones, traps, rollback and
 * cancel requests, and the terminal event: each only when the job's row says it happened.
 */
export function timelineInsert(): string {
  const e = (
    ord: number,
    condition: string,
    at: string,
    kind: string,
    actor: string,
    actorKind: string,
    from: string,
    to: string,
    step: string,
    message = 'NULL',
    data = 'NULL',
  ) =>
    `SELECT ${ord} AS ord, ${at} AS at, '${kind}' AS kind, ${actor} AS actor_id, '${actorKind}' AS actor_kind,
       ${from}::text AS from_status, ${to}::text AS to_status, ${step}::text AS step, ${message}::text AS message,
       ${data}::jsonb AS data WHERE ${condition}`;
  const ran = 's.started_at IS NOT NULL';
  const progressAt = (pct: number) => `s.started_at + (coalesce(s.finished_at, s.progress_updated_at) - s.started_at) * ${pct / 100}
    / greatest(coalesce(s.progress_percent, 0) / 100, ${pct / 100})`;
  const milestones = [25, 50, 75].map((pct) =>
    e(
      10 + pct,
      `${ran} AND s.progress_percent >= ${pct} AND s.progress_total IS NOT NULL`,
      progressAt(pct),
      'PROGRESS',
      's.worker_id',
      'WORKER',
      'NULL',
      'NULL',
      `'RUN'`,
      `'${pct} %'`,
      `'{"percent": ${pct}}'`,
    ),
  );
  const approvedAt = `CASE WHEN ${ran} THEN s.created_at + (s.started_at - s.created_at) * 0.5
    ELSE s.created_at + (s.updated_at - s.created_at) * 0.5 END`;
  const events = [
    e(
      1,
      'TRUE',
      's.created_at',
      'CREATED',
      's.owner_id',
      'USER',
      'NULL',
      `CASE WHEN s.status = 'CREATED' THEN 'CREATED' WHEN s.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`,
      `'PRE'`,
    ),
    e(
      2,
      `s.requires_approval AND s.status NOT IN ('CREATED','WAITING_APPROVAL','REJECTED','EXPIRED')
        AND NOT (s.status = 'CANCELLED' AND s.started_at IS NULL)`,
      approvedAt,
      'APPROVED',
      `split_part(s.approver_set, ',', 1)`,
      'USER',
      `'WAITING_APPROVAL'`,
      `'PENDING'`,
      `'PRE'`,
    ),
    e(
      3,
      `s.status = 'REJECTED'`,
      's.finished_at',
      'REJECTED',
      `split_part(s.approver_set, ',', 1)`,
      'USER',
      `'WAITING_APPROVAL'`,
      `'REJECTED'`,
      's.step',
      's.message',
    ),
    e(
      4,
      `s.attempt > 1 AND s.status <> 'CREATED'`,
      `coalesce(s.started_at - interval '1 minute', s.created_at + (coalesce(s.finished_at, s.updated_at) - s.created_at) * 0.5)`,
      'RESTARTED',
      's.owner_id',
      'USER',
      `'FAILED'`,
      `CASE WHEN s.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`,
      's.step',
      'NULL',
      `jsonb_build_object('attempt', s.attempt)`,
    ),
    e(5, ran, 's.started_at', 'CLAIMED', 's.worker_id', 'WORKER', `'PENDING'`, `'RUNNING'`, `'PRE'`),
    ...milestones,
    e(
      90,
      `s.status IN ('TRAPPED','TRAP_PAUSED')`,
      's.trapped_at',
      'TRAPPED',
      's.worker_id',
      'WORKER',
      `'RUNNING'`,
      `'TRAPPED'`,
      's.step',
      's.error_message',
    ),
    e(91, `s.status = 'TRAP_PAUSED'`, 's.paused_at', 'TRAP_PAUSED', `'bob'`, 'USER', `'TRAPPED'`, `'TRAP_PAUSED'`, 's.step'),
    e(
      92,
      `s.status = 'ROLLBACK'`,
      's.rollback_at',
      'ROLLBACK_STARTED',
      's.worker_id',
      'WORKER',
      `'RUNNING'`,
      `'ROLLBACK'`,
      's.step',
      's.message',
    ),
    e(
      93,
      `s.cancel_requested_at IS NOT NULL AND ${ran}`,
      's.cancel_requested_at',
      'CANCEL_REQUESTED',
      's.cancel_requested_by',
      'USER',
      `'RUNNING'`,
      `'CANCELLING'`,
      's.step',
    ),
    e(
      99,
      `s.status = 'SUCCEEDED'`,
      's.finished_at',
      'SUCCEEDED',
      's.worker_id',
      'WORKER',
      `'RUNNING'`,
      `'SUCCEEDED'`,
      's.step',
      's.message',
    ),
    e(99, `s.status = 'FAILED'`, 's.finished_at', 'FAILED', 's.worker_id', 'WORKER', `'RUNNING'`, `'FAILED'`, 's.step', 's.error_message'),
    e(99, `s.status = 'ABENDED'`, 's.finished_at', 'ABENDED', 'NULL', 'SYSTEM', `'RUNNING'`, `'ABENDED'`, 's.step', 's.error_message'),
    e(99, `s.status = 'EXPIRED'`, 's.finished_at', 'EXPIRED', 'NULL', 'SYSTEM', `'PENDING'`, `'EXPIRED'`, 's.step', 's.message'),
    e(
      99,
      `s.status = 'CANCELLED'`,
      's.finished_at',
      'CANCELLED',
      `CASE WHEN ${ran} THEN s.worker_id ELSE s.cancel_requested_by END`,
      'USER',
      `CASE WHEN ${ran} THEN 'CANCELLING' WHEN s.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`,
      `'CANCELLED'`,
      's.step',
      's.message',
    ),
  ];
  return `INSERT INTO timeline_events (job_id, at, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data,
      job_scope, job_type, job_owner_id)
    SELECT s.id, ev.at, ev.kind, ev.actor_id,
      CASE WHEN ev.kind = 'CANCELLED' AND s.started_at IS NOT NULL THEN 'WORKER' ELSE ev.actor_kind END,
      ev.from_status, ev.to_status, CASE WHEN ev.ord = 1 THEN 1 ELSE s.attempt END, ev.step, ev.message, ev.data,
      s.scope, s.type, s.owner_id
    FROM s CROSS JOIN LATERAL (${events.join('\n      UNION ALL ')}) ev
    ORDER BY ev.at, ev.ord`;
}
